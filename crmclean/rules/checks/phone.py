"""Phone analysis for checks (cross-field checks read it): validity, E.164 and calling code per row, cached on the context.

Invalid numbers are flagged by one rule, PHONE002 (PHONEV001 is its retired code). Parsing is the standardizer's (``crmclean.fields.phone.analyze_phones``: a
vectorized fast path over libphonenumber's metadata, ``phonenumbers`` for odd shapes), so a
number is judged the same way wherever crmclean looks at it.
"""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.fields.country import country_codes
from crmclean.fields.phone import (  # noqa: F401  (calling_code_of, valid_elsewhere re-exported)
    analyze_phones,
    calling_code_of,
    calling_codes,
    valid_elsewhere,
)
from crmclean.rules.checks._common import (
    CheckContext,
    empty_mask,
)


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
    suggestion = mine.get_column("hint").str.extract(r"^did you mean (.+?)\??$", 1)
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
            "calling_code": calling_codes(e164),
            "error": error,
            "suggestion": suggestion,
        })
    return cache[column]
