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


# a currency before or after the amount: a symbol, an ISO 4217 code (three Latin letters: usd, kzt, chf) or the
# Russian/CIS abbreviations (руб., р., грн, тг, сум)
_CURRENCY = r"[$€₽£¥₸₴₹₺₩₪₫₦₱฿]|[a-z]{3}\.?|руб\.?|р\.|грн\.?|тг\.?|тенге|сум"


def parse_numbers(values: pl.Series) -> pl.Series:
    """Float for '1 200', '1200,50', '1,200.50', '1.200,50 €', '1.200.000', '$1200', '500 руб.', '1500 ₸', 'CHF 1,200'
    (null when not a number).

    Separators: with both a dot and a comma the later one is the decimal mark (1,200.50 / 1.200,50); a comma alone
    groups thousands in '1,200' / '12,345,678' and is the decimal mark otherwise ('12,5'); dots alone group
    thousands when there are several ('1.200.000'), one dot is the decimal mark ('1.5', and the ambiguous '1.200').
    """
    cleaned = (
        values.str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(r"[\s\u00a0\u202f'’]", "")
        .str.replace(rf"^(?:{_CURRENCY})", "")
        .str.replace(rf"(?:{_CURRENCY})$", "")
    )
    c = pl.col("c")
    comma_last = c.str.reverse().str.find(",") < c.str.reverse().str.find(r"\.")
    out = pl.DataFrame({"c": cleaned}).select(
        pl.when(c.str.contains(",") & c.str.contains(r"\."))
        .then(pl.when(comma_last).then(c.str.replace_all(r"\.", "").str.replace(",", "."))
              .otherwise(c.str.replace_all(",", "")))
        .when(c.str.contains(r"^-?\d{1,3}(,\d{3})+$")).then(c.str.replace_all(",", ""))
        .when(c.str.contains(r"^-?\d{1,3}(\.\d{3}){2,}$")).then(c.str.replace_all(r"\.", ""))
        .otherwise(c.str.replace(",", "."))
    )
    return out.to_series().cast(pl.Float64, strict=False).alias(values.name)


_N = r"(\d(?:[\d\s\u00a0\u202f,.']*\d)?)"
_BANDS = (  # (pattern, group of the low bound or 0, group of the high bound or 0)
    (rf"^(?:от\s*|from\s+)?{_N}\s*(?:-|до|to)\s*{_N}$", 1, 2),
    (rf"^(?:от|более|больше|свыше|over|more than|above|>=?|≥)\s*{_N}$", 1, 0),
    (rf"^{_N}\s*(?:\+|и более|и больше|or more|and more|and above)$", 1, 0),
    (rf"^(?:до|менее|меньше|less than|fewer than|under|up to|<=?|≤)\s*{_N}$", 0, 1),
)
_UNIT = r"\s*(?:employees|people|staff|persons|сотрудник\w*|человек|чел\.?|работник\w*)$"


def number_bounds(values: pl.Series) -> pl.DataFrame:
    """(lo, hi) per value: a number is its own bounds; a band is its interval, an open end null.

    A band is how CRMs record headcount: Bitrix24's company field "Количество сотрудников" is the list
    "менее 50", "50-250", "250-500", "более 500"; LinkedIn-style "Company size" reads "51-200 employees",
    "10,001+". Neither bound read: both null (not a number).
    """
    text = (values.str.strip_chars().str.to_lowercase().str.replace_all(r"[–—−]", "-")
            .str.replace(_UNIT, "").str.strip_chars())
    number = parse_numbers(text)  # '120 сотрудников' is 120
    lo, hi = number, number
    for pattern, lo_group, hi_group in _BANDS:
        hit = text.str.contains(pattern).fill_null(False) & number.is_null()
        none = pl.Series([None] * len(values), dtype=pl.Float64)
        low = parse_numbers(text.str.extract(pattern, lo_group)) if lo_group else none
        high = parse_numbers(text.str.extract(pattern, hi_group)) if hi_group else none
        hit = hit & (low.is_not_null() | (lo_group == 0)) & (high.is_not_null() | (hi_group == 0))
        hit = hit & ~(low > high).fill_null(False)  # '250-50' is no band
        lo = pl.select(pl.when(pl.lit(hit)).then(pl.lit(low)).otherwise(pl.lit(lo))).to_series()
        hi = pl.select(pl.when(pl.lit(hit)).then(pl.lit(high)).otherwise(pl.lit(hi))).to_series()
        number = pl.select(pl.when(pl.lit(hit)).then(pl.lit(0.0)).otherwise(pl.lit(number))).to_series()
    return pl.DataFrame({"lo": lo, "hi": hi, "read": number.is_not_null()})


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

    A band ('50-250', 'более 500') is outside only when all of it is.

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
            bounds = number_bounds(values)
            lo, hi = bounds.get_column("lo"), bounds.get_column("hi")
            # a band is out of range only when all of it is: 'более 500' is not above a maximum of 1000
            low = hi < spec.min if spec.min is not None else pl.Series([False] * len(values))
            high = lo > spec.max if spec.max is not None else pl.Series([False] * len(values))
            fraction = ((lo != lo.round(0)) | (hi != hi.round(0))) if spec.integer else pl.Series([False] * len(values))
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
    """A numeric column holds text that is neither a number nor a band ('около 50', 'много').

    A band ('50-250', 'более 500', '10,001+') is read as its interval (Bitrix24's headcount field is such a
    list); RANGE001 flags it only when the whole band is outside the range.
    """

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
            bad = ~number_bounds(values).get_column("read") & ~empty_mask(ctx, values)
            parts.append(findings_where(bad, column, values, "not a number",
                                        "write a number (1200) or a band (50-250, более 500, 10,001+)",
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
