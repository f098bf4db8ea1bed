"""Russian tax-id checks: INN, KPP and OGRN/OGRNIP length and checksum, computed column-wise."""

from __future__ import annotations

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

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def clean_taxid(values: pl.Series) -> pl.Series:
    """Drop a leading 'ИНН'/'ОГРН' label, spaces and dashes (Excel and 1C exports add them)."""
    return (
        values.str.strip_chars()
        .str.replace(r"(?i)^(инн|кпп|огрнип|огрн|inn|kpp|ogrnip|ogrn)\s*[:№]?\s*", "")
        .str.replace_all(r"[\s\-\u00a0]", "")
    )


def _digit(col: pl.Expr, i: int) -> pl.Expr:
    return col.str.slice(i, 1).cast(pl.Int64, strict=False)


def _weighted(col: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    return pl.sum_horizontal([_digit(col, i) * w for i, w in enumerate(weights)]) % 11 % 10


def inn_valid(values: pl.Series) -> pl.Series:
    """True when the (cleaned) INN has 10 or 12 digits and a correct checksum."""
    col = pl.col("v")
    ten = (col.str.len_chars() == 10) & (_weighted(col, _INN10) == _digit(col, 9))
    twelve = (
        (col.str.len_chars() == 12)
        & (_weighted(col, _INN12_A) == _digit(col, 10))
        & (_weighted(col, _INN12_B) == _digit(col, 11))
    )
    frame = pl.DataFrame({"v": clean_taxid(values)})
    return frame.select((col.str.contains(r"^\d+$") & (ten | twelve)).fill_null(False)).to_series()


def ogrn_valid(values: pl.Series) -> pl.Series:
    """True for a 13-digit OGRN (mod 11) or a 15-digit OGRNIP (mod 13) with a correct check digit."""
    col = pl.col("v")
    # OGRN starts with 1-9 (record kind), OGRNIP with 3 or 4; the check digit is the last digit of the
    # remainder (mod 11 for OGRN, mod 13 for OGRNIP), as the ФНС order defines it
    thirteen = (col.str.len_chars() == 13) & ~col.str.starts_with("0") & (
        col.str.slice(0, 12).cast(pl.Int64, strict=False) % 11 % 10 == _digit(col, 12)
    )
    fifteen = (col.str.len_chars() == 15) & col.str.contains(r"^[34]") & (
        col.str.slice(0, 14).cast(pl.Int64, strict=False) % 13 % 10 == _digit(col, 14)
    )
    frame = pl.DataFrame({"v": clean_taxid(values)})
    return frame.select((col.str.contains(r"^\d+$") & (thirteen | fifteen)).fill_null(False)).to_series()


def kpp_valid(values: pl.Series) -> pl.Series:
    """True for a 9-character KPP: 4 digits (tax office), 2 digits or capital letters (reason), 3 digits."""
    return clean_taxid(values).str.contains(r"^\d{4}[\dA-Z]{2}\d{3}$").fill_null(False)


def _inn_hints(cleaned: pl.Series) -> pl.Series:
    """Why an INN is wrong, in words a steward acts on."""
    padded_ok = inn_valid("0" + cleaned)
    length = cleaned.str.len_chars()
    frame = pl.DataFrame({"v": cleaned, "len": length, "pad": padded_ok})
    return frame.select(
        pl.when(~pl.col("v").str.contains(r"^\d+$")).then(pl.lit("an INN holds only digits"))
        .when(pl.col("pad")).then(pl.format("a leading zero was lost (Excel?): 0{}", pl.col("v")))
        .when(pl.col("len").is_in([10, 12])).then(pl.lit("checksum fails: a digit is mistyped; check the INN in ЕГРЮЛ"))
        .when(pl.col("len") == 19).then(pl.lit("INN and KPP in one field: put the KPP in its own column"))
        .otherwise(pl.format("{} digits: an INN has 10 (organization) or 12 (ИП, person)", pl.col("len")))
    ).to_series()


@register
class InvalidInn(BaseCheck):
    """The INN has the wrong length or a failing checksum.

    **What it does.** Accepts 10-digit (organization) and 12-digit (ИП, person) INNs whose check
    digits are right; flags the rest, telling a lost leading zero (Excel turns 0274062111 into
    274062111), an INN+KPP pasted together, and a mistyped digit apart.
    """

    code = "TAXID001"
    name = "taxid.inn"
    summary = "The INN is not 10 or 12 digits with a valid checksum."
    severity = "error"
    invalidates = True
    kpi = "invalid_taxid"
    roles = ("inn",)
    examples = (
        Example("ИНН: 7707083894", "flagged: checksum fails (7707083893 is valid)"),
        Example("ИНН: 274062111", "flagged; hint: a leading zero was lost: 0274062111"),
        Example("ИНН: 7707083893", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            bad = ~inn_valid(values) & ~empty_mask(ctx, values)
            if not bad.any():
                continue
            parts.append(findings_where(bad, column, values, "invalid INN", _inn_hints(clean_taxid(values)),
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class InvalidKpp(BaseCheck):
    """The KPP is not 9 characters of the form NNNNPPNNN (tax office, reason code, number)."""

    code = "TAXID002"
    name = "taxid.kpp"
    summary = "The KPP is not 9 characters (4 digits, 2 digits/letters, 3 digits)."
    severity = "error"
    invalidates = True
    kpi = "invalid_taxid"
    roles = ("kpp",)
    examples = (Example("КПП: 77070100", "flagged: 8 characters"), Example("КПП: 770701001", "not flagged"))

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            bad = ~kpp_valid(values) & ~empty_mask(ctx, values)
            parts.append(findings_where(bad, column, values, "invalid KPP",
                                        "a KPP is 9 characters, e.g. 770701001", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class InvalidOgrn(BaseCheck):
    """The OGRN (13 digits) or OGRNIP (15 digits) has the wrong length or check digit."""

    code = "TAXID003"
    name = "taxid.ogrn"
    summary = "The OGRN/OGRNIP is not 13/15 digits with a valid check digit."
    severity = "error"
    invalidates = True
    kpi = "invalid_taxid"
    roles = ("ogrn",)
    examples = (
        Example("ОГРН: 1027700132196", "flagged: check digit fails (1027700132195 is valid)"),
        Example("ОГРНИП: 304500116000157", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            bad = ~ogrn_valid(values) & ~empty_mask(ctx, values)
            parts.append(findings_where(bad, column, values, "invalid OGRN/OGRNIP",
                                        "an OGRN has 13 digits, an OGRNIP 15; check it in ЕГРЮЛ/ЕГРИП",
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
