"""Helpers shared by the standardization tests: build a RecordTable from columns and run one rule."""

from __future__ import annotations

import polars as pl

from crmclean.config import RulesFile, parse_rules
from crmclean.standardize import StandardizeResult, standardize_table
from crmclean.table import RecordTable, finalize_table


def make_table(columns: dict[str, list[str | None]], roles: dict[str, str] | None = None,
               object_type: str | None = None) -> RecordTable:
    n = len(next(iter(columns.values())))
    data = {"id": [str(i + 1) for i in range(n)], **columns}
    frame = pl.DataFrame(data, schema={k: pl.String for k in data})
    return finalize_table(frame, source="test.csv", kind="csv", id_column="id", role_overrides=roles,
                          object_type=object_type)


def only(*codes: str, extra: str = "") -> RulesFile:
    """A rules file that runs just these rules."""
    text = "standardize:\n  select: [" + ", ".join(codes) + "]\n" + extra
    return parse_rules(text)


def run(columns: dict[str, list[str | None]], *codes: str, roles: dict[str, str] | None = None,
        extra: str = "", apply_suggestions: bool = False) -> StandardizeResult:
    rules = only(*codes, extra=extra) if codes else parse_rules(extra or "version: 1\n")
    return standardize_table(make_table(columns, roles), rules, apply_suggestions=apply_suggestions)


def column(result: StandardizeResult, name: str) -> list[str | None]:
    return result.table.frame.get_column(name).to_list()
