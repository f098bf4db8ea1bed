"""Shared builders for the matching tests: a RecordTable from rows, and generated data as a table."""

from __future__ import annotations

from typing import Any

import polars as pl

from crmclean.table import RecordTable, finalize_table


def table_from_rows(rows: list[dict[str, Any]], id_column: str = "Id", object_type: str | None = None) -> RecordTable:
    headers: list[str] = []
    for row in rows:
        for key in row:
            if key not in headers:
                headers.append(key)
    frame = pl.DataFrame({h: [None if r.get(h) in (None, "") else str(r.get(h)) for r in rows] for h in headers},
                         schema=dict.fromkeys(headers, pl.String))
    return finalize_table(frame, source="test", kind="csv", id_column=id_column, object_type=object_type)


def table_from_frame(frame: pl.DataFrame, object_type: str | None = None) -> RecordTable:
    return finalize_table(frame, source="generated", kind="csv", id_column=None, object_type=object_type)
