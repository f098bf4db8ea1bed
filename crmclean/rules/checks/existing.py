"""Pre-import check: a record of the file already exists in the target (found by `validate --against`)."""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import BaseCheck, CheckContext, findings_where, severity_of


@register
class AlreadyInTarget(BaseCheck):
    """The record already exists in the target CRM or file (``crmclean validate FILE --against OTHER``).

    **What it does.** Runs only with ``--against``: the matcher links each incoming record to the
    records of OTHER (a file or ``salesforce:Contact``); a confident match is flagged with the
    existing record's id.

    **Why.** Staged imports check for duplicates before records are created; updating the existing
    record keeps its history, creating a new one makes two salespeople chase one prospect.
    """

    code = "EXISTS001"
    name = "import.exists"
    summary = "The record already exists in the target (validate --against); update it instead of creating."
    # an error by default: a staged import must stop before it creates a second copy of a CRM record
    severity = "error"
    kpi = "already_exists"
    examples = (Example("Иванов Иван, ivanov@romashka.ru — already in salesforce:Contact as 003xx…",
                        "flagged; hint: update 003xx… instead"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        existing = ctx.existing
        if existing is None or existing.height == 0:
            return RuleResult()
        n = ctx.height
        best = existing.sort("score", descending=True, nulls_last=True).unique("row", keep="first")
        joined = pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.Int64, eager=True)}).join(
            best, on="row", how="left", maintain_order="left")
        mask = joined.get_column("existing_id").is_not_null()
        hint = joined.select(pl.format("update existing record {} (match score {}) instead of creating a new one",
                                       pl.col("existing_id"), pl.col("score").round(2))).to_series()
        return RuleResult(findings=findings_where(mask, ctx.id_column, ctx.frame.get_column(ctx.id_column),
                                                  "already exists in the target", hint, severity_of(self)))
