"""Russian tax ids: INN, KPP and OGRN/OGRNIP stripped of formatting, checked with python-stdnum, found in wrong columns (INN001-005)."""

from __future__ import annotations

import re

import polars as pl
from pydantic import Field
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import ColumnRule, StdResult, findings_where, map_unique_fast

TAX_ROLES = ("inn", "kpp", "ogrn")
_LABEL = r"(?i)^\s*(?:инн|кпп|огрнип|огрн|inn|kpp|ogrnip|ogrn|№|n)\s*[:№.]?\s*"
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def clean_tax_id(text: str) -> str:
    """Digits of a tax id with labels and separators removed ("ИНН 7707-083-893" -> "7707083893").

    A value with other letters is returned trimmed but otherwise untouched (KPP may hold
    two capital letters; anything else is not a tax id and is left for the checks).
    """
    t = re.sub(_LABEL, "", text.strip()).lstrip("'")
    compact = re.sub(r"[\s\-.‐–—_/]", "", t)
    if compact.isdigit() or _KPP_RE.match(compact.upper() or "-"):
        return compact.upper()
    return text.strip()


def inn_error(value: str) -> str | None:
    """Why ``value`` (digits) is not a valid INN, or None."""
    return _stdnum_error(stdnum_inn.validate, value, "INN", "10 digits for a company, 12 for a person/ИП")


def ogrn_error(value: str) -> str | None:
    """Why ``value`` is not a valid OGRN (13 digits) / OGRNIP (15 digits), or None."""
    return _stdnum_error(stdnum_ogrn.validate, value, "OGRN", "13 digits (ОГРН) or 15 (ОГРНИП)")


def kpp_error(value: str) -> str | None:
    """Why ``value`` is not a well-formed KPP (9 characters: 4 digits, 2 digits or letters, 3 digits), or None."""
    if len(value) != 9:
        return f"KPP must have 9 characters, got {len(value)}"
    if not _KPP_RE.match(value):
        return "KPP must be 4 digits, 2 digits or capital letters, 3 digits"
    return None


def _stdnum_error(validate, value: str, label: str, lengths: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        validate(value)
    except InvalidLength:
        digits = sum(c.isdigit() for c in value)
        return f"{label} has {digits} digits; expected {lengths}"
    except InvalidFormat:
        return f"{label} must be digits only"
    except InvalidChecksum:
        return f"{label} checksum does not match (a digit is wrong)"
    except InvalidComponent:
        return f"{label} has an invalid component"
    except ValidationError:
        return f"invalid {label}"
    return None


def is_valid_inn(value: str) -> bool:
    return inn_error(clean_tax_id(value)) is None


def lost_leading_zero(value: str) -> str | None:
    """An INN whose leading 0 was eaten by Excel (9 or 11 digits) restored, when the checksum proves it."""
    if value.isdigit() and len(value) in (9, 11) and inn_error("0" + value) is None:
        return "0" + value
    return None


def _role_of(ctx: RuleContext, column: str) -> str | None:
    for role, cols in ctx.roles.items():
        if column in cols:
            return role
    return None


@register
class TaxIdClean(ColumnRule):
    """Strip formatting from INN, KPP and OGRN values; restore an INN's leading zero lost in Excel (suggest).

    What it does: removes labels ("ИНН", "КПП:"), spaces, dashes and dots, and the
    apostrophe Excel users type to keep leading zeros. A 9- or 11-digit INN whose
    checksum is valid with a leading 0 is proposed with it (as `suggest`).

    Why: "7707 083 893" and "7707083893" must be one company in duplicate checks and in
    lookups against ЕГРЮЛ.
    """

    code = "INN001"
    name = "inn.clean"
    summary = "Strip formatting from INN/KPP/OGRN ('ИНН 7707-083-893' → 7707083893); restore lost leading zeros."
    roles = TAX_ROLES
    order = 100
    examples = (
        Example("ИНН 7707 083 893", "7707083893"),
        Example("7707-083-893", "7707083893"),
        Example("INN: 7707083893", "7707083893"),
        Example("'7707083893", "7707083893"),
        Example("КПП: 7707 01 001", "770701001"),
        Example("274062111", "0274062111", "suggest: Excel dropped the leading zero"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        after = map_unique_fast(values, clean_tax_id, pl.String).fill_null(values).alias(column)
        edits = [ColumnEdit(column, after, "tax id formatting removed")]
        if _role_of(ctx, column) == "inn":
            zero = map_unique_fast(after, lost_leading_zero, pl.String)
            if zero.is_not_null().any():
                edits.append(ColumnEdit(column, zero.fill_null(after), "leading zero restored (checksum matches)",
                                        "suggest"))
        return StdResult(edits=edits)


def _skip(values: pl.Series, role: str) -> pl.Series:
    from crmclean.rules.standardizers.placeholders import placeholder_mask

    cleaned = map_unique_fast(values, clean_tax_id, pl.String)
    return cleaned.zip_with(~placeholder_mask(values, role), pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(""))


@register
class InnChecksum(ColumnRule):
    """Flag INNs with a wrong length or checksum (python-stdnum).

    What it does: checks each INN: 10 digits with one check digit for organizations, 12
    digits with two for people and sole traders (ИП). Nothing is changed.

    Why: an INN with a typo points to another company or to none; invoices and ЕГРЮЛ
    checks fail.
    """

    code = "INN002"
    name = "inn.checksum"
    summary = "Flag INNs with a wrong length or checksum (10 digits for companies, 12 for people/ИП)."
    roles = ("inn",)
    fixes = False
    order = 101
    examples = (
        Example("7707083893", "7707083893", "valid (Сбербанк)"),
        Example("7707083894", "7707083894", "flagged: checksum does not match"),
        Example("77070838", "77070838", "flagged: 8 digits"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        cleaned = _skip(values, "inn")
        error = map_unique_fast(cleaned, inn_error, pl.String)
        return StdResult(findings=findings_where(error.is_not_null(), values, column, severity="error",
                                                 message=("invalid INN: " + error.fill_null("")),
                                                 hint="check the INN against the company's documents or ЕГРЮЛ"))


@register
class KppFormat(ColumnRule):
    """Flag KPPs that are not 9 characters of the form NNNNXXNNN.

    What it does: checks the KPP shape (4 digits of the tax office, 2 digits or capital
    letters for the reason code, 3 digits). KPP has no checksum.

    Why: a KPP with a missing digit breaks invoices (счёт-фактура) and bank payments.
    """

    code = "INN003"
    name = "kpp.format"
    summary = "Flag KPPs that are not 9 characters (4 digits, 2 digits/letters, 3 digits)."
    roles = ("kpp",)
    fixes = False
    order = 102
    examples = (
        Example("770701001", "770701001", "valid"),
        Example("КПП 77070100", "КПП 77070100", "flagged: 8 characters"),
        Example("7707AB001", "7707AB001", "valid: letters allowed in the reason code"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        cleaned = _skip(values, "kpp")
        error = map_unique_fast(cleaned, kpp_error, pl.String)
        return StdResult(findings=findings_where(error.is_not_null(), values, column, severity="error",
                                                 message=("invalid KPP: " + error.fill_null("")),
                                                 hint="KPP is 9 characters, e.g. 770701001"))


@register
class OgrnChecksum(ColumnRule):
    """Flag OGRN (13 digits) and OGRNIP (15 digits) with a wrong length or checksum (python-stdnum).

    What it does: validates the registration number of a company (ОГРН) or sole trader
    (ОГРНИП), check digit included. Nothing is changed.

    Why: a wrong OGRN fails every registry lookup and due-diligence check.
    """

    code = "INN004"
    name = "ogrn.checksum"
    summary = "Flag OGRN (13 digits) / OGRNIP (15 digits) with a wrong length or checksum."
    roles = ("ogrn",)
    fixes = False
    order = 103
    examples = (
        Example("1027700132195", "1027700132195", "valid (Сбербанк)"),
        Example("1027700132196", "1027700132196", "flagged: checksum does not match"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        cleaned = _skip(values, "ogrn")
        error = map_unique_fast(cleaned, ogrn_error, pl.String)
        return StdResult(findings=findings_where(error.is_not_null(), values, column, severity="error",
                                                 message=("invalid OGRN: " + error.fill_null("")),
                                                 hint="check the number in ЕГРЮЛ/ЕГРИП"))


def tax_id_kind(value: str) -> str | None:
    """Which valid Russian tax id ``value`` is: inn, ogrn, kpp (shape only) or None."""
    v = clean_tax_id(value)
    if not v.isdigit() and not _KPP_RE.match(v):
        return None
    if len(v) in (10, 12) and inn_error(v) is None:
        return "inn"
    if len(v) in (13, 15) and ogrn_error(v) is None:
        return "ogrn"
    if len(v) == 9 and kpp_error(v) is None:
        return "kpp"
    return None


class WrongColumnOptions(RuleOptions):
    scan_roles: list[str] = Field(
        default_factory=lambda: ["inn", "kpp", "ogrn", "phone", "mobile", "company", "notes"],
        description="Roles whose columns are searched for tax ids that belong elsewhere.",
    )


_WRONG_STRUCT = pl.Struct({"kind": pl.String, "found": pl.String})


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
        info = map_unique_fast(role + "\x1f" + sub, _find_tax_id_key, _WRONG_STRUCT).struct.unnest()
        kind = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("").scatter(candidates.arg_true(), info.get_column("kind"))
        wrong = kind.is_not_null() & (kind != role)
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
