"""Parquet and JSON Lines as sources: every column as text."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.errors import SourceError


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:
        raise SourceError(f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})", path=str(path)) from None
    return frame.with_columns(pl.all().cast(pl.String))


def _read_jsonl(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_ndjson(path, infer_schema_length=None)
    except Exception as exc:
        raise SourceError(f"not valid JSON Lines ({str(exc).splitlines()[0][:160]})", path=str(path)) from None
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            continue
        if isinstance(dtype, (pl.List, pl.Struct, pl.Array)):
            casts.append(pl.col(name).map_elements(lambda v: str(v), return_dtype=pl.String))
        else:
            casts.append(pl.col(name).cast(pl.String))
    return frame.with_columns(casts) if casts else frame
