"""Numeric range checks: headcount, amounts and other numbers inside their allowed range."""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.config.validate import NumberRange
from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    resolve_columns,
    severity_of,
)

DEFAULT_RANGES: dict[str, NumberRange] = {
    "employees": NumberRange(min=0, max=10_000_000, integer=True),
    "deal_amount": NumberRange(min=0),
}


def parse_numbers(values: pl.Series) -> pl.Series:
    """Float for '1 200', '1200,50', '1,200.50', '$1200', '500 руб.' (null when not a number)."""
    cleaned = (
        values.str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(r"[\s\u00a0\u202f'’]", "")
        .str.replace_all(r"^[$€₽£]|(руб\.?|р\.|rub|usd|eur|₽|\$|€)$", "")
    )
    # "1,200" and "1,200.50" use commas for thousands; otherwise a comma is the decimal mark
    thousands = cleaned.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$").fill_null(False)
    out = pl.DataFrame({"c": cleaned, "t": thousands}).select(
        pl.when(pl.col("t")).then(pl.col("c").str.replace_all(",", "")).otherwise(pl.col("c").str.replace(",", "."))
    )
    return out.to_series().cast(pl.Float64, strict=False).alias(values.name)


def _ranges(ctx: CheckContext) -> list[tuple[str, NumberRange]]:
    configured = dict(ctx.validate.ranges)
    for role, default in DEFAULT_RANGES.items():
        configured.setdefault(role, default)
    out = []
    for key, spec in configured.items():
        for column in resolve_columns(ctx, key):
            out.append((column, spec))
    return out


@register
class NumberOutOfRange(BaseCheck):
    """A number is outside its allowed range (``validate.ranges``; employees 0 … 10,000,000 by default).

    YAML::

        validate:
          ranges:
            employees: {min: 1, max: 500000, integer: true}
            "Сумма сделки": {min: 0}
    """

    code = "RANGE001"
    name = "range.number"
    summary = "A number is outside its allowed range (validate.ranges)."
    severity = "warning"
    invalidates = True
    examples = (
        Example("Численность: '-5'", "flagged: below 0"),
        Example("Employees: '12.5' (integer)", "flagged: not a whole number"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, spec in _ranges(ctx):
            values = ctx.frame.get_column(column)
            number = parse_numbers(values)
            low = number < spec.min if spec.min is not None else pl.Series([False] * len(values))
            high = number > spec.max if spec.max is not None else pl.Series([False] * len(values))
            fraction = (number != number.round(0)) if spec.integer else pl.Series([False] * len(values))
            bad = (low.fill_null(False) | high.fill_null(False) | fraction.fill_null(False))
            message = pl.select(
                pl.when(pl.lit(low.fill_null(False))).then(pl.lit(f"below the minimum {spec.min:g}" if spec.min is not None else ""))
                .when(pl.lit(high.fill_null(False))).then(pl.lit(f"above the maximum {spec.max:g}" if spec.max is not None else ""))
                .otherwise(pl.lit("not a whole number"))
            ).to_series()
            parts.append(findings_where(bad, column, values, message, "check the number at its source", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class NotANumber(BaseCheck):
    """A numeric column holds text that is not a number ('около 50', 'много', '10-20')."""

    code = "RANGE002"
    name = "range.not_number"
    summary = "A value of a numeric column (validate.ranges) is not a number."
    severity = "warning"
    invalidates = True
    examples = (Example("Численность: 'около 50'", "flagged: not a number; hint: write 50"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, _ in _ranges(ctx):
            values = ctx.frame.get_column(column)
            bad = parse_numbers(values).is_null() & ~empty_mask(ctx, values)
            parts.append(findings_where(bad, column, values, "not a number",
                                        "write a single number (a range like 10-20 cannot be compared)",
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
