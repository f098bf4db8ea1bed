"""Placeholder rule (PLACEHOLDER001): flags (and optionally empties) filler values; thin rule over :mod:`crmclean.fields.placeholder`."""

from __future__ import annotations

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.placeholder import PLACEHOLDER_ROLES, placeholder_mask
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleResult, register
from crmclean.rules.standardizers._common import ColumnRule, FlagOptions, StdResult, findings_where, flag_severity


class PlaceholderOptions(FlagOptions):
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
    89999999999), plus ``values``/``patterns`` here and ``validate.placeholders``. It flags
    them; with ``empty: true`` it empties them. A filler in a required field
    (``validate.required``, e.g. ``email|phone`` with nothing else filled) is an error that
    counts as a missing required field; elsewhere it is a warning. Replaces the check REQ002.

    Why: stewards type fillers so a CRM card can be saved. They make a record look
    complete when it is not, hide the gap from fill-rate reports, and collide in duplicate
    checks ("000" phone on 400 records).
    """

    code = "PLACEHOLDER001"
    name = "placeholder.filler"
    aliases = ("REQ002", "required.placeholder")
    summary = "Flag filler values ('-', 'нет', 'n/a', 'test', '000', 'noemail@…'), an error in required fields; empty them by config."
    roles = PLACEHOLDER_ROLES
    suggests_only = True
    validates = True
    severity = "error"  # of a filler in a required field (REQ002's); other fillers are warnings
    invalidates = True
    kpi = "missing_required"
    order = 20
    Options = PlaceholderOptions
    examples = (
        Example("нет", "", "company column"),
        Example("-", ""),
        Example("n/a", ""),
        Example("noemail@noemail.com", ""),
        Example("+7 (000) 000-00-00", ""),
        Example("Test Test", "", "full name"),
        Example("Телефон: '-', Email: (empty)", "", "flagged as an error: email|phone is required"),
        Example("Иван Петров", "Иван Петров", "real values are untouched"),
    )

    @classmethod
    def kpi_findings(cls) -> pl.Expr:
        return pl.col("message").str.starts_with("required field")

    def changes_values(self, apply_suggestions: bool = False) -> bool:
        # with `empty: true` fillers are emptied as a fix
        return apply_suggestions or bool(getattr(self.options, "empty", False))

    def apply(self, ctx: RuleContext) -> RuleResult:
        result = super().apply(ctx)
        return _required_fillers(self, ctx, result)

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        mask = _filler(self, ctx, values, column)
        if not mask.any():
            return StdResult()
        after = values.zip_with(~mask, pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(column))
        findings = findings_where(
            mask, values, column, severity="warning", message="filler value, not real data",
            hint="leave the field empty or fill in the real value",
        )
        return StdResult(
            edits=[ColumnEdit(column, after, "filler value emptied", "fix" if getattr(self.options, "empty", False) else "suggest")],
            findings=findings,
        )


def _filler(rule: Placeholder, ctx: RuleContext, values: pl.Series, column: str) -> pl.Series:
    """Filler mask of one column for its role: built-in fillers, the rule's values/patterns, validate.placeholders."""
    opts = rule.options
    assert isinstance(opts, PlaceholderOptions)
    role = next((r for r, cols in ctx.roles.items() if column in cols), None)
    validate = getattr(ctx.settings, "validate_", None)
    words = [*opts.values, *(getattr(validate, "placeholders", None) or ())]
    extra = frozenset(v.lower().replace("ё", "е").strip() for v in words)
    return placeholder_mask(values, role, extra, tuple(opts.patterns))


def _required_fillers(rule: Placeholder, ctx: RuleContext, result: RuleResult) -> RuleResult:
    """Fillers in a required field (every column of the spec blank or filler) become errors, as REQ002 reported them."""
    from crmclean.rules.checks._common import blank_mask, resolve_columns
    from crmclean.rules.checks.required import required_fields

    found = result.findings
    specs, _ = required_fields(ctx)
    required_rows: list[pl.DataFrame] = []
    for spec in specs:
        columns = [c for c in resolve_columns(ctx, spec) if c != ctx.id_column]
        if not columns:
            continue
        empty_all = pl.repeat(True, ctx.frame.height, eager=True)
        for c in columns:
            values = ctx.frame.get_column(c)
            empty_all = empty_all & (blank_mask(values) | _filler(rule, ctx, values, c))
        rows = empty_all.arg_true().cast(pl.Int64)
        required_rows.append(pl.DataFrame({"row": rows}).join(
            pl.DataFrame({"column": columns}), how="cross").with_columns(pl.lit(spec).alias("spec")))
    if found is None or found.height == 0 or not required_rows:
        return result
    req = pl.concat(required_rows).unique(["row", "column"], keep="first", maintain_order=True)
    found = found.with_columns(pl.col("row").cast(pl.Int64)).join(req, on=["row", "column"], how="left",
                                                                   maintain_order="left")
    in_required = pl.col("spec").is_not_null()
    result.findings = found.with_columns(
        pl.when(in_required).then(pl.lit(flag_severity(rule))).otherwise(pl.col("severity")).alias("severity"),
        pl.when(in_required).then(pl.format("required field `{}` holds a placeholder", pl.col("spec")))
        .otherwise(pl.col("message")).alias("message"),
        pl.when(in_required).then(pl.lit("replace the filler with the real value, or leave it empty and fix the record"))
        .otherwise(pl.col("hint")).alias("hint"),
    ).drop("spec")
    return result
