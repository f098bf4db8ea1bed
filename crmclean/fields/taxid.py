"""Russian tax ids (INN, KPP, OGRN/OGRNIP): pure, vectorized knowledge of one kind of value, shared by rules, profile, matching, survivorship.

There is ONE cleaner (:func:`clean_tax_id`) and checksums come ONLY from python-stdnum
(``stdnum.ru.inn``, ``stdnum.ru.ogrn``; an OGRNIP is a 15-digit OGRN; the one correction is the
ФНС low-digit rule for OGRNIPs whose remainder is 10–12, see :func:`ogrn_error`). KPP has no checksum:
its shape is the rule. Every column-wise function cleans first, so ``'7707083893``,
``7707.083.893``, ``ИНН № 7707 083 893`` and the Excel float ``7.707083893E9`` get the same
verdict wherever crmclean looks at a tax id.

Foreign registration numbers (a VAT number, a US EIN, a Swiss UID ...) in the same column are not INNs:
:func:`registration_id` / :func:`registration_ids` recognize them (python-stdnum's per-country modules,
``stdnum.get_cc_module``) and give their canonical ``"<CC>:<number>"``, so the INN rules leave them alone and
matching can compare "the same registration number" abroad.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from stdnum import get_cc_module
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

from crmclean._lazy import polars as pl
from crmclean.fields._unique import map_unique

TAX_ROLES = ("inn", "kpp", "ogrn")

_LABEL = re.compile(r"(?i)^\s*(?:инн|кпп|огрнип|огрн|inn|kpp|ogrnip|ogrn|№|n)\s*[:№.]?\s*")
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
# separators people and spreadsheets put inside a number: spaces (NBSP too), dashes, dots, slashes, the
# apostrophe or backtick Excel users type to keep leading zeros, № signs
_SEPARATORS = re.compile(r"[\s\-.‐–—_/'’‘`´№]")
_FLOAT = re.compile(r"^(\d+)\.0+$")  # 7707083893.0 (pandas/Excel read the column as numbers)
_SCIENTIFIC = re.compile(r"^(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})$")  # 7.707083893E9


def float_digits(text: str) -> str | None:
    """Digits of an Excel/pandas float spelling of an integer, or None (never adds a digit)."""
    m = _FLOAT.match(text)
    if m:
        return m.group(1)
    m = _SCIENTIFIC.match(text)
    if m:
        head, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
        # 7.707083893E9 is exact; 7.70708389E9 would need a made-up trailing 0: refuse it
        if len(frac) >= exp and set(frac[exp:]) <= {"0"}:
            return head + frac[:exp]
    return None


def clean_tax_id(text: str) -> str:
    """Digits of a tax id with labels, separators and float spellings removed ("ИНН 7707-083-893" -> "7707083893").

    A value with other letters is returned trimmed but otherwise untouched (KPP may hold two
    capital letters; anything else is not a tax id and is left for the checks to flag).
    """
    stripped = text.strip()
    t = _LABEL.sub("", stripped).strip().strip("'’‘`\"")
    number = float_digits(t)
    if number is not None:
        return number
    compact = _SEPARATORS.sub("", t)
    if compact.isdigit() or _KPP_RE.match(compact.upper() or "-"):
        return compact.upper()
    return stripped


def _stdnum_error(validate: Callable[[str], str], value: str, label: str, lengths: str) -> str | None:
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


def inn_error(value: str) -> str | None:
    """Why ``value`` (cleaned) is not a valid INN (python-stdnum), or None."""
    if not value.isdigit():
        return "INN must be digits only"
    return _stdnum_error(stdnum_inn.validate, value, "INN", "10 digits for a company, 12 for a person/ИП")


def ogrn_error(value: str) -> str | None:
    """Why ``value`` (cleaned) is not a valid OGRN (13 digits) / OGRNIP (15 digits) (python-stdnum), or None."""
    if not value.isdigit():
        return "OGRN must be digits only"
    error = _stdnum_error(stdnum_ogrn.validate, value, "OGRN", "13 digits (ОГРН) or 15 (ОГРНИП)")
    if error and len(value) == 15 and value[0] in "34" and _ogrnip_low_digit_ok(value):
        return None
    return error


def _ogrnip_low_digit_ok(value: str) -> bool:
    """The ФНС rule for an OGRNIP whose remainder mod 13 is 10–12: the check digit is its last digit.

    python-stdnum compares the whole two-digit remainder, so it rejects these numbers, which real
    registers contain; every other verdict is stdnum's.
    """
    remainder = int(value[:14]) % 13
    return remainder >= 10 and remainder % 10 == int(value[14])


def kpp_error(value: str) -> str | None:
    """Why ``value`` (cleaned) is not a well-formed KPP (4 digits, 2 digits or capital letters, 3 digits), or None."""
    if len(value) != 9:
        return f"KPP must have 9 characters, got {len(value)}"
    if not _KPP_RE.match(value):
        return "KPP must be 4 digits, 2 digits or capital letters, 3 digits"
    return None


def is_valid_inn(value: str) -> bool:
    return inn_error(clean_tax_id(value)) is None


def is_valid_ogrn(value: str) -> bool:
    return ogrn_error(clean_tax_id(value)) is None


def is_valid_kpp(value: str) -> bool:
    return kpp_error(clean_tax_id(value)) is None


def lost_leading_zero(value: str) -> str | None:
    """An INN whose leading 0 was eaten by Excel (9 or 11 digits) restored, when the checksum proves it."""
    if value.isdigit() and len(value) in (9, 11) and inn_error("0" + value) is None:
        return "0" + value
    return None


def inn_hint(value: str) -> str:
    """Why a (cleaned) INN is wrong, in words a steward acts on."""
    if not value.isdigit():
        return "an INN holds only digits"
    restored = lost_leading_zero(value)
    if restored:
        return f"a leading zero was lost (Excel?): {restored}"
    if len(value) in (10, 12):
        return "checksum fails: a digit is mistyped; check the INN in ЕГРЮЛ"
    if len(value) == 19:
        return "INN and KPP in one field: put the KPP in its own column"
    return f"{len(value)} digits: an INN has 10 (organization) or 12 (ИП, person)"


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


# KPP structure (Приказ ФНС России от 29.06.2012 № ММВ-7-6/435@, "Об утверждении Порядка и условий присвоения,
# применения, а также изменения идентификационного номера налогоплательщика"): 4 digits of the tax office
# (the first two: the region), 2 of the reason for registration, 3 of a serial number. Reason 01: registered at
# the organization's own location (the head office); 50: a largest taxpayer's registration; the other codes of a
# Russian organization (02–49: 02–05, 31, 32 separate subdivisions, 43 a branch, 06–08 real estate ...) name a
# registration somewhere else than the head office.
KPP_HEAD_OFFICE = "01"
KPP_LARGEST_TAXPAYER = "50"


def kpp_reason(value: str) -> str | None:
    """The reason-for-registration code of a (cleaned) well-formed KPP (its 5th and 6th characters), or None."""
    return value[4:6] if kpp_error(value) is None else None


def is_branch_kpp(value: str) -> bool:
    """True when a (cleaned) KPP names a registration away from the head office: reason 02–49 (a separate
    subdivision, a branch, real estate), not the head office's 01 nor a largest taxpayer's 50."""
    reason = kpp_reason(value)
    return reason is not None and reason.isdigit() and 2 <= int(reason) <= 49


# ---------------------------------------------------------------- column-wise


def clean_tax_ids(values: pl.Series) -> pl.Series:
    """:func:`clean_tax_id` per value (once per unique value; nulls stay null)."""
    return map_unique(values, clean_tax_id, pl.String, parallel=True)


def _verdict(values: pl.Series, role: str) -> pl.Series:
    """Valid tax id of ``role`` per value (:func:`tax_id_errors` found nothing); null/blank is False."""
    return (tax_id_errors(values, role).is_null() & values.is_not_null()).fill_null(False)


_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))


def _check_digit(digits: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    """python-stdnum's INN check digit (weighted sum mod 11 mod 10) of a column of ASCII digit strings."""
    total = pl.sum_horizontal(digits.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(weights))
    return total % 11 % 10


def inn_errors_clean(cleaned: pl.Series) -> pl.Series:
    """:func:`inn_error` per (cleaned) value: the checksum of 10/12 ASCII digits column-wise, the rest per value.

    The digit arithmetic is ``stdnum.ru.inn``'s (``calc_company_check_digit``, ``calc_personal_check_digits``),
    done column-wise over the unique values so no Python runs per INN; any other value (wrong length,
    non-digits, Unicode digits) is judged by :func:`inn_error` itself, once per unique value.
    """
    uniques = cleaned.cast(pl.String).drop_nulls().unique()
    v = pl.col("v")
    ok10 = v.str.slice(9, 1).cast(pl.Int64, strict=False) == _check_digit(v, _INN10_WEIGHTS)
    ok12 = (v.str.slice(10, 1).cast(pl.Int64, strict=False) == _check_digit(v, _INN12_WEIGHTS[0])) & (
        v.str.slice(11, 1).cast(pl.Int64, strict=False) == _check_digit(v, _INN12_WEIGHTS[1]))
    judged = pl.DataFrame({"v": uniques}).select(
        pl.when(v.str.contains(r"^[0-9]{10}$")).then(ok10)
        .when(v.str.contains(r"^[0-9]{12}$")).then(ok12)
        .otherwise(None).alias("ok")
    ).get_column("ok")
    checksum = "INN checksum does not match (a digit is wrong)"
    errors = judged.replace_strict([True, False], [None, checksum], default=None, return_dtype=pl.String)
    rest = judged.is_null()
    if rest.any():
        errors = errors.scatter(rest.arg_true(), map_unique(uniques.filter(rest), inn_error, pl.String))
    lookup = pl.DataFrame({"v": uniques, "e": errors})
    out = pl.DataFrame({"v": cleaned.cast(pl.String)}).join(lookup, on="v", how="left", maintain_order="left")
    return out.get_column("e").alias(cleaned.name)


def inn_valid(values: pl.Series) -> pl.Series:
    """True where the value is an INN python-stdnum accepts (after :func:`clean_tax_id`); null/blank is False."""
    return _verdict(values, "inn")


def ogrn_valid(values: pl.Series) -> pl.Series:
    """True where the value is a 13-digit OGRN or a 15-digit OGRNIP python-stdnum accepts; null/blank is False."""
    return _verdict(values, "ogrn")


def kpp_valid(values: pl.Series) -> pl.Series:
    """True where the value is a well-formed 9-character KPP; null/blank is False."""
    return _verdict(values, "kpp")


def kpp_reasons(values: pl.Series) -> pl.Series:
    """:func:`kpp_reason` per (cleaned) KPP; null where the value is null or not a well-formed KPP."""
    return values.str.slice(4, 2).zip_with(kpp_valid(values), pl.Series([None] * len(values), dtype=pl.String))


def branch_kpps(values: pl.Series) -> pl.Series:
    """:func:`is_branch_kpp` per (cleaned) KPP; False where the value is null or not a well-formed KPP."""
    reason = kpp_reasons(values)
    return (reason.str.contains(r"^\d\d$") & reason.is_between(pl.lit("02"), pl.lit("49"))).fill_null(False)


def tax_id_errors(values: pl.Series, role: str) -> pl.Series:
    """Per value: why it is not a valid tax id of ``role`` (inn, kpp, ogrn), null when valid or null."""
    if role == "inn":
        return inn_errors_clean(clean_tax_ids(values))
    error = {"kpp": kpp_error, "ogrn": ogrn_error}[role]
    return map_unique(clean_tax_ids(values), error, pl.String)


def inn_hints(values: pl.Series) -> pl.Series:
    """:func:`inn_hint` per (raw) value."""
    return map_unique(clean_tax_ids(values), inn_hint, pl.String)


# ---------------------------------------------------------------- foreign registration numbers

# python-stdnum module names tried for a country, in order: the VAT number first, then the country's company / tax
# registration numbers that carry a checksum or a strict structure (modules that identify persons are left out)
_FOREIGN_KINDS = ("vat", "ein", "uid", "siren", "siret", "abn", "acn", "bn", "cnpj", "orgnr", "cvr", "ytunnus",
                  "registrikood", "nip", "cui", "oib", "cif", "uen", "rfc", "cuit", "rut", "gstin", "utr",
                  "unp", "edrpou")  # Belarus УНП, Ukraine ЄДРПОУ: counterparties of Russian CRMs
# VAT prefixes that are not the ISO code: Greece writes EL, Northern Ireland's traders XI (UK numbers)
_VAT_PREFIX = {"EL": "GR", "XI": "GB"}
# labels written before a foreign number ("VAT No.:", "USt-IdNr.", "EIN #", "TVA intracom.")
_FOREIGN_LABEL = re.compile(
    r"(?i)^\s*(?:vat|ust|tva|btw|iva|moms|mwst|fein|ein|tin|uid|tax|siren|siret|abn|nip|nif|cif|cvr|utr)"
    r"(?:[\s.\-]*(?:id|idnr|nr|no|number|num|reg|registration|intracom|n°|#)\.?)*\s*[:#№.]?\s*")
_FOREIGN_SEPARATORS = re.compile(r"[\s.\-‐–—_/'’‘`´]")
_RU_LABEL = re.compile(r"(?i)^\s*(?:инн|кпп|огрнип|огрн|inn|kpp|ogrnip|ogrn)\b\s*[:№.]?\s*")
_EIN_SHAPE = re.compile(r"^\d{2}-\d{7}$")  # 91-1144442: a US EIN by its shape alone


@functools.cache
def _foreign_modules(cc: str) -> tuple[Any, ...]:
    """python-stdnum's registration-number modules of a country (lower-case ISO-2); none for Russia."""
    if cc == "ru" or not re.fullmatch(r"[a-z]{2}", cc):
        return ()
    found: list[Any] = []
    for kind in _FOREIGN_KINDS:
        try:
            module = get_cc_module(cc, kind)
        except ImportError:  # pragma: no cover - a broken optional module of stdnum
            module = None
        if module is not None and module not in found:
            found.append(module)
    return tuple(found)


def has_foreign_validator(alpha2: str) -> bool:
    """Whether python-stdnum can validate a registration number of this country (ISO alpha-2; never Russia's here).

    Kazakhstan's BIN, Uzbekistan's INN and many more have no module: such a number can be read as that country's
    (its prefix, the record's country) but not checked — INN002 says so instead of calling it invalid."""
    return bool(_foreign_modules(alpha2.lower()))


def _canonical(cc: str, module: Any, text: str) -> str:
    """``"<CC>:<number>"``: stdnum's compact form without the country letters (one spelling per number)."""
    number = str(module.compact(text)).upper()
    if cc == "CH":  # CHE-116.281.710 MWST, CHE116281710: the UID's nine digits
        number = re.sub(r"^CHE|(?:MWST|TVA|IVA|TPV)$", "", number)
    elif cc == "FR" and module.__name__.endswith(".tva") and len(number) == 11:
        number = number[2:]  # FR40303265045: the two-character key is computed from the SIREN 303265045
    elif number.startswith(cc) or (cc == "GR" and number.startswith("EL")):
        number = number[2:]
    return f"{cc}:{number}"


def _valid_in(cc: str, text: str, prefixed: bool) -> str | None:
    """The canonical id of ``text`` in country ``cc`` (upper-case ISO-2), the first module that validates it.

    A prefixed value (``DK 10 50 32 80``) is read only as the country's VAT number (``get_cc_module(cc, "vat")``)
    or UID (CHE…, ATU…): SIREN, EIN and the other registration numbers are written without country letters.
    """
    vat = get_cc_module(cc.lower(), "vat") if prefixed else None
    for module in _foreign_modules(cc.lower()):
        if prefixed and module is not vat and not module.__name__.endswith(".uid"):
            continue
        try:
            if module.is_valid(text):
                return _canonical(cc, module, text)
        except Exception:  # an stdnum module that raises on odd input (not a ValidationError): not valid there
            continue
    return None


def _reading(value: str | None, country: str | None) -> tuple[str | None, str | None]:
    """(the foreign country ``value`` claims, its canonical id when valid there): see :func:`registration_id`."""
    if value is None:
        return None, None
    text = _RU_LABEL.sub("", value.strip())  # "ИНН 7707083893", "INN: ...": a Russian label is no country prefix
    stripped = _FOREIGN_LABEL.sub("", text).strip().strip("'’‘`\"")
    compact = _FOREIGN_SEPARATORS.sub("", stripped).upper()
    if len(compact) < 4:
        return None, None
    prefix = compact[:2]
    if prefix.isalpha() and prefix.isascii():
        cc = _VAT_PREFIX.get(prefix, prefix)
        if cc == "RU":
            return None, None
        if _foreign_modules(cc.lower()):
            # the GB module reads XI as its own prefix; others read their own letters (EL for Greece)
            return cc, _valid_in(cc, compact, prefixed=True)
    if tax_id_kind(value) in ("inn", "ogrn"):
        return None, None  # a valid Russian INN/OGRN is never read as a foreign number
    cc = (country or "").strip().upper()
    if cc:
        return (None, None) if cc == "RU" else (cc, _valid_in(cc, compact, prefixed=False))
    if _EIN_SHAPE.match(stripped):
        return "US", _valid_in("US", compact, prefixed=False)
    return None, None


def registration_id(value: str | None, country: str | None = None) -> str | None:
    """The canonical foreign registration number of ``value`` (``"DE:129273398"``, ``"US:911144442"``) or None.

    A two-letter country prefix decides the country (``DE 129273398``, ``EL094259216`` is Greek, ``XI…`` British);
    without one, ``country`` (ISO alpha-2, the record's country) does; with neither, only the US EIN shape
    ``NN-NNNNNNN`` is recognized. The number must pass python-stdnum's validation for that country. None for a
    Russian value (RU prefix or country, a checksum-valid INN/OGRN), an empty one, or one no country module accepts.
    """
    return _reading(value, country)[1]


def registration_country(value: str | None, country: str | None = None) -> str | None:
    """The foreign country (ISO alpha-2) whose id ``value`` should be, valid or not: its prefix, else ``country``
    unless Russian, else US for the EIN shape; None for a Russian value or one that names no country."""
    return _reading(value, country)[0]


@functools.cache
def _READING() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"country": pl.String, "id": pl.String})


def _reading_key(key: str) -> dict[str, str | None]:
    value, country = key.split("\x1f", 1)
    cc, canonical = _reading(value, country or None)
    return {"country": cc, "id": canonical}


def registration_readings(values: pl.Series, countries: pl.Series | None = None) -> pl.DataFrame:
    """Per value, columns ``country`` (:func:`registration_country`) and ``id`` (:func:`registration_id`).

    ``countries``: each row's ISO alpha-2 country (null where unknown), e.g.
    :func:`crmclean.fields.country.alpha2_codes` of the country column. Computed once per unique (value, country),
    and only for the rows that can hold a foreign id (a Latin letter: a prefix or a label; the EIN shape; a
    record's country other than Russia): a Russian file's bare INNs cost one column-wise test.
    """
    values = values.cast(pl.String)
    n = len(values)
    maybe = values.str.contains(r"[A-Za-z]|\d\d-\d{7}").fill_null(False)
    country = pl.repeat("", n, dtype=pl.String, eager=True)
    if countries is not None:
        country = countries.cast(pl.String).fill_null("")
        maybe = maybe | (values.is_not_null() & (country != "") & (country.str.to_uppercase() != "RU"))
    out = pl.DataFrame({"country": pl.repeat(None, n, dtype=pl.String, eager=True),
                        "id": pl.repeat(None, n, dtype=pl.String, eager=True)})
    if not maybe.any():
        return out
    idx = maybe.arg_true()
    keys = values.gather(idx) + "\x1f" + country.gather(idx)
    read = map_unique(keys, _reading_key, _READING(), parallel=True).struct.unnest()
    return pl.DataFrame({c: out.get_column(c).scatter(idx, read.get_column(c)) for c in out.columns})


def registration_ids(values: pl.Series, countries: pl.Series | None = None) -> pl.Series:
    """:func:`registration_id` per value (String, same length; null where not a valid foreign id); ``countries``:
    each row's ISO alpha-2 country or null (see :func:`registration_readings`)."""
    return registration_readings(values, countries).get_column("id").alias(values.name)
