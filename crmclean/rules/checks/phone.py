"""Phone check: a phone number that is not valid for its region.

Parsing is the standardizer's (``crmclean.rules.standardizers.phones.analyze_phones``: a
vectorized fast path over libphonenumber's metadata, ``phonenumbers`` for odd shapes), so a
number is judged the same way wherever crmclean looks at it.
"""

from __future__ import annotations

import functools

import phonenumbers
import polars as pl

from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    severity_of,
)
from crmclean.rules.checks.country import country_codes
from crmclean.rules.standardizers.phones import analyze_phones, fast_e164


@functools.cache
def calling_code_of(region: str) -> str | None:
    code = phonenumbers.country_code_for_region(region)
    return str(code) if code else None


def _calling_code(e164: pl.Series) -> pl.Series:
    """Country calling code of E.164 numbers ('+74951234567' -> '7')."""
    codes = {str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
    digits = e164.str.strip_prefix("+")
    out = pl.Series([None] * len(e164), dtype=pl.String)
    for n in (3, 2, 1):
        prefix = digits.str.slice(0, n)
        out = prefix.zip_with(prefix.is_in(list(codes)).fill_null(False), out)
    return out


def _reasons_from_standardizer(ctx: CheckContext, column: str, n: int) -> tuple[pl.Series, pl.Series]:
    """(error, suggestion) per row from the standardizer's PHONE002 findings, so nothing is parsed twice."""
    nulls = pl.Series([None] * n, dtype=pl.String)
    found = ctx.std_findings
    if found is None or found.height == 0:
        return nulls, nulls
    mine = found.filter((pl.col("rule") == "PHONE002") & (pl.col("column") == column)).unique("row", keep="first")
    if mine.height == 0:
        return nulls, nulls
    idx = mine.get_column("row").cast(pl.Int64)
    error = mine.get_column("message").str.replace(r"^invalid phone:\s*", "")
    suggestion = mine.get_column("hint").str.extract(r"^did you mean (.+)$", 1)
    return nulls.clone().scatter(idx, error), nulls.clone().scatter(idx, suggestion)


def row_regions(ctx: CheckContext) -> pl.Series:
    """Default region of each row: its country column when readable, else ``defaults.region`` (cached)."""
    cached = ctx.__dict__.get("_regions")
    if cached is not None:
        return cached
    ctx.__dict__["_regions"] = regions = _row_regions(ctx)
    return regions


def _row_regions(ctx: CheckContext) -> pl.Series:
    default = ctx.default_region or "RU"
    column = ctx.first_column("country")
    if column is None:
        return pl.Series([default] * ctx.height, dtype=pl.String)
    return country_codes(ctx.frame.get_column(column)).fill_null(default)


def phone_analysis(ctx: CheckContext, column: str) -> pl.DataFrame:
    """Per row of one phone column: ``valid`` (null when blank/filler), ``e164``, ``calling_code``, ``error``.

    Cached on the context: the phone check and the cross-field checks share it.
    """
    cache: dict[str, pl.DataFrame] = ctx.__dict__.setdefault("_phones", {})
    if column not in cache:
        values = ctx.frame.get_column(column)
        n = len(values)
        usable = ~empty_mask(ctx, values)
        nulls = pl.Series([None] * n, dtype=pl.String)
        derived = ctx.derived
        known = f"{column}__e164"
        if derived is not None and known in derived.columns and derived.height == n:
            # the standardizer already parsed every number: re-parse only the invalid ones, for the reason
            e164 = derived.get_column(known).zip_with(usable, nulls)
            error, suggestion = _reasons_from_standardizer(ctx, column, n)
        else:
            info = analyze_phones(values.zip_with(usable, nulls), row_regions(ctx))
            e164 = info.get_column("e164")
            error, suggestion = info.get_column("error"), info.get_column("suggestion")
        cache[column] = pl.DataFrame({
            "valid": e164.is_not_null().zip_with(usable, pl.Series([None] * n, dtype=pl.Boolean)),
            "e164": e164,
            "calling_code": _calling_code(e164),
            "error": error,
            "suggestion": suggestion,
        })
    return cache[column]


def valid_elsewhere(values: pl.Series) -> pl.Series:
    """Per row, a hint when the number is valid written with a country code (a US number on a UK record).

    Vectorized with the standardizer's fast path: "+" + the digits for 11–13 digits, and 10 digits as
    a North American number.
    """
    n = len(values)
    nulls = pl.Series([None] * n, dtype=pl.String)
    digits = values.str.replace_all(r"\D", "")
    length = digits.str.len_chars()
    plus = ("+" + digits).zip_with((length.is_between(11, 13) & ~values.str.strip_chars().str.starts_with("+"))
                                   .fill_null(False), nulls)
    with_plus, _ = fast_e164(plus, "RU")
    us, _ = fast_e164(digits.zip_with((length == 10).fill_null(False), nulls), "US")
    e164 = with_plus.fill_null(us)
    return pl.DataFrame({"e": e164, "cc": _calling_code(e164)}).select(
        pl.format("valid as a +{} number {}: write it with the country code, or fix the country",
                  pl.col("cc"), pl.col("e"))
    ).to_series()


@functools.cache
def _example(region: str) -> str:
    number = phonenumbers.example_number(region)
    if number is None:
        return "+<country code> <number>"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register
class InvalidPhone(BaseCheck):
    """A phone number is not valid for its region.

    **What it does.** Reads the number the way libphonenumber does (``+CC …``; ``8 …`` and national
    digits in the record's country — from its country column, else ``defaults.region``) and
    flags numbers no operator could have issued: wrong length, unassigned area codes, letters.
    Extensions (``доб. 123``, ``ext 45``) are allowed.

    **Why.** Invalid numbers waste calls and break SMS/telephony integrations; they often hide
    a missing digit or a number from another country without ``+``.
    """

    code = "PHONEV001"
    name = "phone.valid"
    summary = "A phone number is not valid for its region (libphonenumber rules)."
    severity = "error"
    invalidates = True
    kpi = "invalid_phone"
    roles = ("phone", "mobile")
    examples = (
        Example("Телефон: '8 (495) 123-45-6'", "flagged: one digit short"),
        Example("Phone: '123-4567'", "flagged: no area code"),
        Example("Телефон: '+7 (495) 123-45-67 доб. 12'", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        regions = row_regions(ctx)
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            verdict = phone_analysis(ctx, column)
            bad = (~verdict.get_column("valid")).fill_null(False)
            if not bad.any():
                continue
            generic = regions.replace_strict(
                {r: f"check the digits; a valid number looks like {_example(r)}" for r in regions.unique().to_list()},
                return_dtype=pl.String,
            )
            elsewhere = valid_elsewhere(values.zip_with(bad, pl.Series([None] * len(values), dtype=pl.String)))
            suggestion = verdict.select(pl.format("did you mean {}?", pl.col("suggestion"))).to_series()
            hints = suggestion.fill_null(elsewhere).fill_null(generic)
            message = verdict.select(
                pl.format("not a valid phone number for {}: {}", pl.lit(regions),
                          pl.col("error").fill_null("no such number"))
            ).to_series()
            parts.append(findings_where(bad, column, values, message, hints, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
