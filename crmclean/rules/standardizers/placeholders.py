"""Placeholder rule (PLACEHOLDER001): flags (and optionally empties) filler values; thin rule over :mod:`crmclean.fields.placeholder`."""

from __future__ import annotations

import polars as pl
from pydantic import Field

from crmclean.fields.placeholder import PLACEHOLDER_ROLES, placeholder_mask
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import ColumnRule, StdResult, findings_where


class PlaceholderOptions(RuleOptions):
    empty: bool = Field(
        False,
        description="Empty filler values as a fix. When false (default) they are flagged and the emptying is "
        "only proposed (confidence `suggest`).",
    )
    values: list[str] = Field(default_factory=list, description="More filler values (compared case-insensitively).")
    patterns: list[str] = Field(default_factory=list, description="More filler values as regular expressions.")


@register
class Placeholder(ColumnRule):
    """Flag (and optionally empty) values that only fill a required field.

    What it does: recognizes fillers such as "-", "—", "нет", "не указан", "n/a", "none",
    "test", "asdf", "000", "123456", a character repeated ("xxxx", "0000000"), filler
    emails (noemail@…, test@test.com, x@x.x) and filler phones (+7 000 000-00-00,
    89999999999). It flags them; with ``empty: true`` it empties them.

    Why: stewards type fillers so a CRM card can be saved. They make a record look
    complete when it is not, and they collide in duplicate checks ("000" phone on 400
    records).
    """

    code = "PLACEHOLDER001"
    name = "placeholder.filler"
    summary = "Flag filler values ('-', 'нет', 'n/a', 'test', '000', 'noemail@…'); empty them by config."
    roles = PLACEHOLDER_ROLES
    order = 20
    Options = PlaceholderOptions
    examples = (
        Example("нет", "", "company column"),
        Example("-", ""),
        Example("n/a", ""),
        Example("noemail@noemail.com", ""),
        Example("+7 (000) 000-00-00", ""),
        Example("Test Test", "", "full name"),
        Example("Иван Петров", "Иван Петров", "real values are untouched"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, PlaceholderOptions)
        role = next((r for r, cols in ctx.roles.items() if column in cols), None)
        extra = frozenset(v.lower().replace("ё", "е").strip() for v in opts.values)
        mask = placeholder_mask(values, role, extra, tuple(opts.patterns))
        if not mask.any():
            return StdResult()
        after = values.zip_with(~mask, pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(column))
        findings = findings_where(
            mask, values, column, severity="warning", message="filler value, not real data",
            hint="leave the field empty or fill in the real value",
        )
        return StdResult(
            edits=[ColumnEdit(column, after, "filler value emptied", "fix" if opts.empty else "suggest")],
            findings=findings,
        )
