"""Russian tax ids: INN, KPP and OGRN/OGRNIP stripped of formatting, checked with python-stdnum, found in wrong columns (INN001-005)."""

from __future__ import annotations

import functools
import re

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.taxid import (  # noqa: F401  (re-exported: the rule modules' old public names)
    TAX_ROLES,
    clean_tax_id,
    has_foreign_validator,
    inn_error,
    inn_hints,
    is_valid_inn,
    kpp_error,
    lost_leading_zero,
    ogrn_error,
    registration_readings,
    tax_id_errors,
    tax_id_kind,
)
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    FlagOptions,
    StdResult,
    findings_where,
    first_role_column,
    flag_severity,
    map_unique_fast,
    role_of_column,
    unfilled_mask,
)


def _role_of(ctx: RuleContext, column: str) -> str | None:
    return role_of_column(ctx, column)


def _foreign(values: pl.Series, ctx: RuleContext) -> pl.DataFrame:
    """Per value, the foreign country it claims and its canonical foreign id (fields.taxid.registration_readings),
    the country of a record taken from its country column (ISO alpha-2; unknown or none: the value's own prefix
    or EIN shape decides)."""
    from crmclean.fields.country import alpha2_codes

    col = first_role_column(ctx, ("country",))
    return registration_readings(values, alpha2_codes(ctx.frame.get_column(col)) if col is not None else None)


def _nulls(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True).alias("")


@register
class TaxIdClean(ColumnRule):
    """Strip formatting from INN, KPP and OGRN values; restore an INN's leading zero lost in Excel (suggest).

    What it does: removes labels ("ИНН", "КПП:"), spaces, dashes and dots, and the
    apostrophe Excel users type to keep leading zeros. A 9- or 11-digit INN whose
    checksum is valid with a leading 0 is proposed with it (as `suggest`).

    Why: "7707 083 893" and "7707083893" must be one company in duplicate checks and in
    lookups against ЕГРЮЛ.

    A foreign registration number (a VAT number such as DE129273398, a US EIN 91-1144442, a Swiss UID; its
    country from its prefix or the record's country column) is not an INN: it is left exactly as written, valid
    or not (INN002 reports an invalid one).
    """

    code = "INN001"
    name = "inn.clean"
    summary = ("Strip formatting from INN/KPP/OGRN ('ИНН 7707-083-893' → 7707083893); restore lost leading zeros; "
               "foreign VAT/EIN numbers left as written.")
    roles = TAX_ROLES
    order = 100
    reads_roles = ("country",)  # a record's country tells a foreign registration number from an INN
    examples = (
        Example("ИНН 7707 083 893", "7707083893"),
        Example("7707-083-893", "7707083893"),
        Example("INN: 7707083893", "7707083893"),
        Example("'7707083893", "7707083893"),
        Example("КПП: 7707 01 001", "770701001"),
        Example("274062111", "0274062111", "suggest: Excel dropped the leading zero"),
        Example("91-1144442", "91-1144442", "a US EIN (its shape, or the country column): left as written"),
        Example("DE 129 273 398", "DE 129 273 398", "a German VAT number: left as written"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        # a value read as another country's id, valid or not (INN002 judges it), keeps its prefix and its dashes
        foreign = _foreign(values, ctx).get_column("country").is_not_null()
        after = map_unique_fast(values, clean_tax_id, pl.String).fill_null(values).zip_with(~foreign, values)
        after = after.alias(column)
        edits = [ColumnEdit(column, after, "tax id formatting removed")]
        if _role_of(ctx, column) == "inn":
            floats = values.str.contains(_FLOAT_SPELLING).fill_null(False) & ~foreign
            if floats.any():
                # a number Excel or pandas stored as a float lost its leading zeros for sure: restore them as a
                # fix when exactly one reading has a valid checksum; when two do, keep the cell and suggest
                nulls = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("")
                read = map_unique_fast(values.zip_with(floats, nulls), _float_inn, _FLOAT_INN()).struct.unnest()
                value = read.get_column("value")
                sure = floats & read.get_column("sure").fill_null(False)
                restored = sure & (value != after).fill_null(False)
                fixed = value.zip_with(sure, after).fill_null(after).alias(column)
                reason = pl.DataFrame({"r": restored}).select(
                    pl.when(pl.col("r")).then(pl.lit("Excel float spelling removed; leading zero restored "
                                                     "(the checksum matches)"))
                    .otherwise(pl.lit("tax id formatting removed"))).to_series()
                unsure = floats & ~sure & value.is_not_null()
                after = fixed.zip_with(~unsure, values).alias(column)
                edits = [ColumnEdit(column, after, reason)]
                float_sugg = value.zip_with(unsure, nulls)
            else:
                float_sugg = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("")
            # the lost-zero reading is only proposed: a run that keeps no proposals does not look for it
            zero = (map_unique_fast(after, lost_leading_zero, pl.String).zip_with(~foreign, _nulls(len(values)))
                    if ctx.proposals else _nulls(len(values)))
            proposed = float_sugg.fill_null(zero)
            if proposed.is_not_null().any():
                why = pl.DataFrame({"f": float_sugg.is_not_null()}).select(
                    pl.when(pl.col("f")).then(pl.lit("Excel float: a valid INN both as written and with its lost "
                                                     "zeros; check it in ЕГРЮЛ"))
                    .otherwise(pl.lit("leading zero restored (checksum matches)"))).to_series()
                edits.append(ColumnEdit(column, proposed.fill_null(after).alias(column), why, "suggest"))
        return StdResult(edits=edits)


# Excel/pandas float spellings of a number: 7707083893.0, 7707083893,0, 7.707083893E+09
_FLOAT_SPELLING = r"(?i)^\s*'?(?:\d+[.,]0+|\d[.,]\d+E\+?\d+)\s*$"
@functools.cache
def _FLOAT_INN() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"value": pl.String, "sure": pl.Boolean})


def _float_inn(raw: str) -> dict[str, object] | None:
    """The INN a float-stored number was: its digits, or with the leading zeros a number cannot keep.

    ``sure`` when exactly one of the readings (as is; 0 + 9/11 digits; 00 + 10 digits) has a valid
    checksum; None when the digits are not a number (7.70944E+09 lost digits: nothing to restore).
    """
    m = re.match(r"^\s*'?(\d+)[.,]0+\s*$", raw)
    digits = m.group(1) if m else clean_tax_id(raw)
    if not digits.isdigit():
        return None
    readings = [digits] + (["0" + digits] if len(digits) in (9, 11) else []) + (
        ["00" + digits] if len(digits) == 10 else [])
    valid = [r for r in readings if inn_error(r) is None]
    if len(valid) == 1:
        return {"value": valid[0], "sure": True}
    if len(valid) > 1:
        return {"value": valid[-1], "sure": False}
    return {"value": digits, "sure": True}  # no reading is valid: only the float spelling is removed


class _TaxIdFlag(ColumnRule):
    """What INN002/INN003/INN004 share: judge each filled cell of the column with python-stdnum via fields.taxid."""

    fixes = False
    validates = True
    severity = "error"
    invalidates = True
    kpi = "invalid_taxid"
    Options = FlagOptions
    reads_roles = ("country",)  # INN002: a record's country tells a foreign registration number from an INN
    tax_role: str = "inn"
    label: str = "INN"
    hint: str = ""

    def hints(self, values: pl.Series) -> pl.Series | str:
        return self.hint

    @classmethod
    def kpi_findings(cls) -> pl.Expr:
        # a foreign number no validator can check (INN002's info) is not an invalid tax id
        return pl.col("severity") != "info"

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        usable = values.zip_with(~unfilled_mask(ctx, values, column), _nulls(len(values)))
        error = tax_id_errors(usable, self.tax_role)
        bad = error.is_not_null()
        if not bad.any():
            return StdResult()
        message = f"invalid {self.label}: " + error.fill_null("")
        hint = self.hints(usable)
        notes: pl.DataFrame | None = None
        if self.tax_role == "inn":
            # a valid foreign registration number is no INN error; a value that claims a foreign country (its
            # prefix, the record's country, the EIN shape) and is not valid there is reported as that country's
            read = _foreign(usable, ctx)
            bad = bad & read.get_column("id").is_null()
            claimed = read.get_column("country")
            abroad = bad & claimed.is_not_null()
            name = map_unique_fast(claimed, _country_name, pl.String)
            # a country python-stdnum has no validator for (Kazakhstan's BIN …): not checked, which is said (info)
            unchecked = abroad & ~map_unique_fast(claimed, has_foreign_validator, pl.Boolean).fill_null(True)
            if unchecked.any():
                bad, abroad = bad & ~unchecked, abroad & ~unchecked
                notes = findings_where(unchecked, values, column, severity="info",
                                       message="not checked: no validator for " + name + " registration numbers "
                                               "(not an INN)",
                                       hint="check it in that country's register")
            if abroad.any():
                message = message.zip_with(~abroad, "invalid tax id: not a valid " + name + " VAT or registration number")
                hint = (hint if isinstance(hint, pl.Series) else pl.repeat(hint, len(values), eager=True)).zip_with(
                    ~abroad, "python-stdnum rejects it for " + name + ": check the number and its country")
        found = findings_where(bad, values, column, severity=flag_severity(self),  # type: ignore[arg-type]
                               message=message, hint=hint)
        if notes is not None:
            found = pl.concat([found, notes], how="vertical_relaxed") if found.height else notes
        return StdResult(findings=found) if found.height else StdResult()


def _country_name(alpha2: str) -> str:
    from crmclean.fields.country import country_display

    return country_display(alpha2, "name_en")


@register
class InnChecksum(_TaxIdFlag):
    """Flag INNs with a wrong length or checksum (python-stdnum), telling a lost leading zero and INN+KPP apart.

    What it does: checks each INN after removing formatting (labels, spaces, dots, dashes,
    apostrophes, Excel floats such as 7707083893.0): 10 digits with one check digit for
    organizations, 12 digits with two for people and sole traders (ИП). The hint tells a
    leading zero lost in Excel (274062111 → 0274062111), an INN and KPP pasted together and a
    mistyped digit apart. Nothing is changed. Replaces the check TAXID001.

    Why: an INN with a typo points to another company or to none; invoices and ЕГРЮЛ
    checks fail.
    """

    code = "INN002"
    name = "inn.checksum"
    aliases = ("TAXID001", "taxid.inn")
    summary = ("Flag INNs with a wrong length or checksum (10 digits for companies, 12 for people/ИП); a valid foreign "
               "VAT/EIN is no error.")
    roles = ("inn",)
    order = 101
    tax_role = "inn"
    label = "INN"
    examples = (
        Example("7707083893", "7707083893", "valid (Сбербанк)"),
        Example("'7707.083.893", "'7707.083.893", "valid: formatting is not an error (INN001 removes it)"),
        Example("7707083894", "7707083894", "flagged: checksum does not match"),
        Example("274062111", "274062111", "flagged; hint: a leading zero was lost: 0274062111"),
        Example("77070838", "77070838", "flagged: 8 digits"),
    )

    def hints(self, values: pl.Series) -> pl.Series | str:
        return inn_hints(values)


@register
class KppFormat(_TaxIdFlag):
    """Flag KPPs that are not 9 characters of the form NNNNXXNNN.

    What it does: checks the KPP shape (4 digits of the tax office, 2 digits or capital
    letters for the reason code, 3 digits). KPP has no checksum. Replaces the check TAXID002.

    Why: a KPP with a missing digit breaks invoices (счёт-фактура) and bank payments.
    """

    code = "INN003"
    name = "kpp.format"
    aliases = ("TAXID002", "taxid.kpp")
    summary = "Flag KPPs that are not 9 characters (4 digits, 2 digits/letters, 3 digits)."
    roles = ("kpp",)
    order = 102
    tax_role = "kpp"
    label = "KPP"
    hint = "a KPP is 9 characters, e.g. 770701001"
    examples = (
        Example("770701001", "770701001", "valid"),
        Example("КПП 77070100", "КПП 77070100", "flagged: 8 characters"),
        Example("7707AB001", "7707AB001", "valid: letters allowed in the reason code"),
    )


@register
class OgrnChecksum(_TaxIdFlag):
    """Flag OGRN (13 digits) and OGRNIP (15 digits) with a wrong length or checksum (python-stdnum).

    What it does: validates the registration number of a company (ОГРН) or sole trader
    (ОГРНИП), check digit included. Nothing is changed. Replaces the check TAXID003.

    Why: a wrong OGRN fails every registry lookup and due-diligence check.
    """

    code = "INN004"
    name = "ogrn.checksum"
    aliases = ("TAXID003", "taxid.ogrn")
    summary = "Flag OGRN (13 digits) / OGRNIP (15 digits) with a wrong length or checksum."
    roles = ("ogrn",)
    order = 103
    tax_role = "ogrn"
    label = "OGRN"
    hint = "an OGRN has 13 digits, an OGRNIP 15; check it in ЕГРЮЛ/ЕГРИП"
    examples = (
        Example("1027700132195", "1027700132195", "valid (Сбербанк)"),
        Example("ОГРНИП: 304500116000157", "ОГРНИП: 304500116000157", "valid"),
        Example("1027700132196", "1027700132196", "flagged: checksum does not match"),
    )


class WrongColumnOptions(RuleOptions):
    scan_roles: list[str] = Field(
        default_factory=lambda: ["inn", "kpp", "ogrn", "phone", "mobile", "company", "notes"],
        description="Roles whose columns are searched for tax ids that belong elsewhere.",
    )


@functools.cache
def _WRONG_STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"kind": pl.String, "found": pl.String})


def _find_tax_id(text: str, role: str) -> dict[str, str | None]:
    if role in ("inn", "kpp", "ogrn"):
        kind = tax_id_kind(text)
        return {"kind": kind, "found": clean_tax_id(text) if kind else None}
    # free text (company, notes, phone): a labelled INN, or a bare checksum-valid 10/12-digit INN in a company name
    m = re.search(r"(?i)(?:инн|inn)\s*[:№]?\s*(\d[\d\s-]{8,14}\d)", text)
    if m:
        digits = re.sub(r"\D", "", m.group(1))
        if inn_error(digits) is None:
            return {"kind": "inn", "found": digits}
    if role in ("phone", "mobile"):
        digits = re.sub(r"\D", "", text)
        # an INN typed into a phone field has no + and no brackets and is not a plausible phone
        if text.strip().isdigit() and len(digits) == 12 and inn_error(digits) is None:
            return {"kind": "inn", "found": digits}
    return {"kind": None, "found": None}


@register
class TaxIdWrongColumn(ColumnRule):
    """Detect tax ids in the wrong column: an INN in the KPP or OGRN column, an OGRN in the INN column, "ИНН …" in a company name.

    What it does: recognizes each valid Russian tax id by length and checksum and
    reports one that sits in a column of another kind (INN in КПП, ОГРН in ИНН, KPP in
    ИНН), or an INN written into a company name, a note or a phone field. The hint names
    the column it belongs to. Nothing is moved automatically.

    Why: column mix-ups are the commonest import mistake with requisites (реквизиты);
    the value is right but every check and lookup on it fails.
    """

    code = "INN005"
    name = "inn.wrong_column"
    summary = "Detect an INN/OGRN/KPP in the wrong column (INN in КПП, OGRN in ИНН, 'ИНН …' inside a company name)."
    roles = ("inn", "kpp", "ogrn", "phone", "mobile", "company", "notes")
    fixes = False
    order = 105
    Options = WrongColumnOptions
    examples = (
        Example("КПП = 7707083893", "7707083893", "flagged: this is an INN"),
        Example("ИНН = 1027700132195", "1027700132195", "flagged: this is an OGRN"),
        Example("Company = ООО «Ромашка» ИНН 7707083893", "ООО «Ромашка» ИНН 7707083893", "flagged: INN in the name"),
    )

    def target_columns(self, ctx: RuleContext) -> list[str]:
        opts = self.options
        assert isinstance(opts, WrongColumnOptions)
        if opts.columns is not None or opts.roles is not None:
            return super().target_columns(ctx)
        cols: list[str] = []
        for role in opts.scan_roles:
            cols += [c for c in ctx.columns_for(role) if c not in cols]
        return cols

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        role = _role_of(ctx, column) or ""
        if role in ("company", "notes", "phone", "mobile"):
            candidates = values.str.contains(r"(?i)инн|inn|^\s*\d{12}\s*$").fill_null(False)
        else:
            candidates = values.is_not_null()
        if not candidates.any():
            return StdResult()
        sub = values.filter(candidates)
        info = map_unique_fast(role + "\x1f" + sub, _find_tax_id_key, _WRONG_STRUCT()).struct.unnest()
        kind = _nulls(len(values)).scatter(candidates.arg_true(), info.get_column("kind"))
        wrong = kind.is_not_null() & (kind != role)
        if role in TAX_ROLES and wrong.any():
            wrong = wrong & _foreign(values, ctx).get_column("country").is_null()  # an EIN is not a KPP
        if not wrong.any():
            return StdResult()
        target = {k: (ctx.first_column(k) or k.upper()) for k in ("inn", "kpp", "ogrn")}
        message = pl.DataFrame({"k": kind}).select(
            pl.concat_str([pl.lit("looks like "), pl.col("k").str.to_uppercase(), pl.lit(f", not {role or column}")])
        ).to_series()
        hint = pl.DataFrame({"k": kind}).select(
            pl.concat_str([pl.lit("move it to the "), pl.col("k").replace_strict(target, default=None),
                           pl.lit(" column")])
        ).to_series()
        return StdResult(findings=findings_where(wrong, values, column, severity="warning", message=message, hint=hint))


def _find_tax_id_key(key: str) -> dict[str, str | None]:
    role, text = key.split("\x1f", 1)
    return _find_tax_id(text, role)
