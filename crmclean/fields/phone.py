"""Phone numbers: pure, vectorized knowledge of one kind of value, shared by rules, profile, matching, survivorship.

Parsing with phonenumbers in a country, E.164 and other formats, extensions and several
numbers in a cell, why a number is invalid and hints (the PHONE001/PHONE002 rules are thin
classes over this module).

Speed: a cell that is only digits and separators is resolved by a vectorized fast path that
applies phonenumbers' own metadata (country codes, trunk prefixes, number patterns) in
polars; everything else (letters, extensions, several numbers, IDD prefixes, countries that
share a code with a different main region) goes to ``phonenumbers`` once per unique value.
``tests/test_std_phones.py`` checks that both paths agree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType

from crmclean._lazy import polars as pl
from crmclean.fields._memo import map_unique_fast

PhoneFormat = Literal["E164", "INTERNATIONAL", "NATIONAL", "RFC3966"]
PHONE_ROLES = ("phone", "mobile", "phone2")  # phone2: home/other/assistant numbers, checked like the main ones

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}

# "доб. 123", "вн. 45", "ext 45", "x45", "#12", "(доб.123)" at the end of a number
EXT_RE = re.compile(
    r"[\s,;(]*(?:доб(?:авочный)?|вн(?:утр(?:енний)?)?|доп|ext(?:ension)?|extn|x|#)\.?\s*[:.№#]?\s*(\d{1,7})\s*\)?\s*$",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"^\s*(?:(?:тел(?:ефон)?|моб(?:ильный)?|сот(?:овый)?|раб(?:очий)?|дом(?:ашний)?|гор(?:одской)?|факс|"
    r"tel(?:ephone)?|phone|ph|mob(?:ile)?|cell|work|office|home|fax|t|m|p|w)\s*[.:]?\s*)+(?=[+\d(])",
    re.IGNORECASE,
)
# the same labels after the number, bare or in brackets: "8-916-123-45-67 (моб.)", "+7 916 123-45-67 (WhatsApp)"
_TRAILING_LABEL_RE = re.compile(
    r"[\s,;\-–—]*\(?\s*(?:тел(?:ефон)?|моб(?:ильный)?|сот(?:овый)?|раб(?:очий)?|дом(?:ашний)?|гор(?:одской)?|факс|"
    r"tel(?:ephone)?|phone|mob(?:ile)?|cell|work|office|home|fax|whats\s?app|viber|telegram)\.?\s*\)?\s*$",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"\s*[,;\n]\s*|\s+/\s+|\s+(?:или|либо|or|и|and)\s+|(?<=\d)\s*/\s*(?=\+?\d{5})", re.IGNORECASE)
_EXT_ONLY_RE = re.compile(r"^(?:доб(?:авочный)?|вн(?:утр(?:енний)?)?|доп|ext(?:ension)?|extn|x|#)\.?\s*[:.№#]?\s*\d{1,7}\)?$",
                          re.IGNORECASE)
_SIMPLE_RE = r"^\+?[\d\s().\-]+$"


@dataclass(frozen=True)
class PhoneParse:
    """One number: E.164 and type when valid, else the reason it is not."""

    text: str
    e164: str | None
    ext: str | None
    type: str | None
    error: str | None


@dataclass(frozen=True)
class PhoneResult:
    """A cell of phones: the main number, extension, the other numbers, and why the main one is invalid."""

    phone: str | None  # the main valid number in the chosen format (None when no valid number)
    e164: str | None
    ext: str | None
    type: str | None
    extra: tuple[str, ...]  # other numbers of the cell: formatted when valid, raw text when not
    extra_e164: tuple[str, ...]
    error: str | None  # why the cell has no valid number / why an extra number is invalid
    suggestion: str | None = None  # a likely intended number (e.g. "+8 916…" typed for "+7 916…")


def split_phones(text: str) -> list[str]:
    """Split a cell holding several numbers; an extension-only part stays with the number before it."""
    parts = [p.strip() for p in _SPLIT_RE.split(text) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        if out and _EXT_ONLY_RE.match(part):
            out[-1] = f"{out[-1]} {part}"
        elif out and sum(c.isdigit() for c in part) < 5 and not part.startswith("+"):
            out[-1] = f"{out[-1]} {part}"  # a fragment such as "(495)" or "123" belongs to the previous number
        else:
            out.append(part)
    if len(out) > 1 and sum(c.isdigit() for c in out[0]) < 5 and not out[0].lstrip().startswith("+"):
        out[1] = f"{out[0]} {out[1]}"  # "030/1234567", "030 / 1234567": an area code before a slash (DIN 5008)
        out.pop(0)
    return out


def _reason(exc: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown or missing country code",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "not a phone number")


def parse_phone(text: str, region: str | None = "RU") -> PhoneParse:
    """Parse one number (with an optional extension) in ``region``; never guesses a different number.

    A number dialled with the prefix 00 that the region cannot read ("00 7 916 …" in Russia, Kazakhstan and Belarus,
    which dial 810; the US, 011: no national number there starts with 0) is read as "+…" when that reading is
    valid; regions that dial 00 read it so already. The fast path leaves such cells to this one.
    """
    first = _parse_one(text, region)
    if first.e164 is None and re.match(_IDD_00_RS, text):
        again = _parse_one("+" + text.strip()[2:].lstrip(), region)
        if again.e164 is not None:
            return PhoneParse(text, again.e164, again.ext, again.type, None)
    return first


_IDD_00_RS = r"^\s*00\s*[1-9]"  # the international prefix 00 before a country code (Rust and Python regex)


def _parse_one(text: str, region: str | None) -> PhoneParse:
    raw = _TRAILING_LABEL_RE.sub("", _LABEL_RE.sub("", text.strip()))
    ext = None
    m = EXT_RE.search(raw)
    if m and sum(c.isdigit() for c in raw[: m.start()]) >= 5:
        ext = m.group(1)
        raw = raw[: m.start()]
    region = (region or "").upper() or None
    try:
        num = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        return PhoneParse(text, None, ext, None, _reason(exc))
    if num.extension and not ext:
        ext = num.extension
    digits = sum(c.isdigit() for c in raw)
    if not phonenumbers.is_valid_number(num):
        why = phonenumbers.is_possible_number_with_reason(num)
        where = phonenumbers.region_code_for_country_code(num.country_code or 0)
        if why == phonenumbers.ValidationResult.TOO_SHORT:
            error = f"too short for {where} ({digits} digits)"
        elif why == phonenumbers.ValidationResult.TOO_LONG:
            error = f"too long for {where} ({digits} digits)"
        elif why == phonenumbers.ValidationResult.INVALID_LENGTH:
            error = f"wrong length for {where} ({digits} digits)"
        elif why == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
            error = "unknown country code"
        else:
            error = f"no such number range in {where}"
        return PhoneParse(text, None, ext, None, error)
    e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
    return PhoneParse(text, e164, ext, _TYPE_NAMES.get(phonenumbers.number_type(num)), None)


def format_phone(e164: str, fmt: PhoneFormat = "E164") -> str:
    """Format a valid E.164 number as E164, INTERNATIONAL, NATIONAL or RFC3966."""
    if fmt == "E164":
        return e164
    num = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(num, getattr(PhoneNumberFormat, fmt))


def normalize_phone(text: str, region: str | None = "RU", fmt: PhoneFormat = "E164") -> PhoneResult:
    """Normalize a phone cell: main number formatted, extension and extra numbers split out.

    Invalid numbers are never rewritten into another number: the cell keeps its text and
    ``error`` says why. A "+8 …" typed for "+7 …" is offered as ``suggestion`` only.
    """
    parts = split_phones(text) or [text]
    parsed = [parse_phone(p, region) for p in parts]
    valid = [p for p in parsed if p.e164]
    if not valid:
        suggestion = _plus8_suggestion(text, region)
        return PhoneResult(None, None, parsed[0].ext, None, (), (), parsed[0].error, suggestion)
    main = valid[0]
    extra: list[str] = []
    extra_e164: list[str] = []
    errors: list[str] = []
    for p in parsed:
        if p is main:
            continue
        if p.e164:
            shown = format_phone(p.e164, fmt) + (f" доб. {p.ext}" if p.ext else "")
            extra.append(shown)
            extra_e164.append(p.e164)
        else:
            extra.append(p.text)
            errors.append(f"{p.text!r}: {p.error}")
    return PhoneResult(
        format_phone(main.e164 or "", fmt), main.e164, main.ext, main.type, tuple(extra), tuple(extra_e164),
        "; ".join(errors) or None,
    )


def _plus8_suggestion(text: str, region: str | None) -> str | None:
    stripped = text.strip()
    digits = re.sub(r"\D", "", stripped)
    if stripped.startswith("+8") and len(digits) == 11:
        candidate = parse_phone("+7" + digits[1:], region)
        if candidate.e164:
            return candidate.e164
    return None


# ---------------------------------------------------------------- vectorized fast path


@dataclass(frozen=True)
class _RegionRules:
    region: str
    cc: str
    npp: str | None  # national_prefix_for_parsing
    idd: str | None
    general: str | None
    general_lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]
    leading: str | None
    types: tuple[tuple[str, str, tuple[int, ...]], ...]  # (type, pattern, lengths) in phonenumbers' order
    same_mobile_fixed: bool
    fixed: tuple[str, tuple[int, ...]] | None
    mobile: tuple[str, tuple[int, ...]] | None
    fast: bool  # the fast path reproduces phonenumbers exactly for this region


@cache
def _rules(region: str) -> _RegionRules | None:
    md = PhoneMetadata.metadata_for_region(region)
    if md is None:
        return None

    def desc(d: Any) -> tuple[str, tuple[int, ...]] | None:
        if d is None or d.national_number_pattern is None:
            return None
        return d.national_number_pattern, tuple(d.possible_length or ())

    types = []
    for name, attr in (("premium_rate", "premium_rate"), ("toll_free", "toll_free"), ("shared_cost", "shared_cost"),
                       ("voip", "voip"), ("personal_number", "personal_number"), ("pager", "pager"),
                       ("uan", "uan"), ("voicemail", "voicemail")):
        d = desc(getattr(md, attr))
        if d is not None:
            types.append((name, d[0], d[1]))
    cc = str(md.country_code)
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(md.country_code or 0, ())
    fast = (
        bool(regions)
        and regions[0] == region
        and not md.national_prefix_transform_rule
        and md.general_desc is not None
        and bool(md.general_desc.possible_length)
        and md.general_desc.possible_length[0] != -1
    )
    return _RegionRules(
        region=region,
        cc=cc,
        npp=md.national_prefix_for_parsing or None,
        idd=md.international_prefix or None,
        general=md.general_desc.national_number_pattern if md.general_desc else None,
        general_lengths=tuple(md.general_desc.possible_length or ()) if md.general_desc else (),
        local_lengths=tuple(md.general_desc.possible_length_local_only or ()) if md.general_desc else (),
        leading=md.leading_digits,
        types=tuple(types),
        same_mobile_fixed=bool(md.same_mobile_and_fixed_line_pattern),
        fixed=desc(md.fixed_line),
        mobile=desc(md.mobile),
        fast=fast,
    )


def _full(e: pl.Expr, pattern: str) -> pl.Expr:
    return e.str.contains(f"^(?:{pattern})$")


def _matches_desc(e: pl.Expr, pattern: str, lengths: tuple[int, ...]) -> pl.Expr:
    m = _full(e, pattern)
    if lengths:
        m = m & e.str.len_chars().is_in(list(lengths))
    return m


def _type_expr(nat: pl.Expr, r: _RegionRules) -> pl.Expr:
    """phonenumbers' number_type for the national number under region ``r`` (null = UNKNOWN)."""
    if r.general is None:
        return pl.lit(None, dtype=pl.String)
    general = _matches_desc(nat, r.general, r.general_lengths)
    chain: Any = None
    for name, pattern, lengths in r.types:
        cond = general & _matches_desc(nat, pattern, lengths)
        chain = pl.when(cond).then(pl.lit(name)) if chain is None else chain.when(cond).then(pl.lit(name))
    fixed = _matches_desc(nat, *r.fixed) if r.fixed else pl.lit(False)
    mobile = _matches_desc(nat, *r.mobile) if r.mobile else pl.lit(False)
    fixed_type = pl.lit("fixed_line_or_mobile") if r.same_mobile_fixed else (
        pl.when(mobile).then(pl.lit("fixed_line_or_mobile")).otherwise(pl.lit("fixed_line"))
    )
    cond_f = general & fixed
    chain = pl.when(cond_f).then(fixed_type) if chain is None else chain.when(cond_f).then(fixed_type)
    if not r.same_mobile_fixed:
        chain = chain.when(general & mobile).then(pl.lit("mobile"))
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def _strip_np(frame: pl.DataFrame, src: str, dst: str, r: _RegionRules) -> pl.DataFrame:
    """phonenumbers' _maybe_strip_national_prefix_carrier_code (regions without a transform rule).

    Works in materialized steps: nested when/then trees re-evaluate their branches.
    """
    if not r.npp or r.general is None:
        return frame.with_columns(pl.col(src).alias(dst))
    nat = pl.col(src)
    frame = frame.with_columns(nat.str.extract(f"^((?:{r.npp}))", 1).str.len_chars().fill_null(0).alias("_pl"))
    frame = frame.with_columns(nat.str.slice(pl.col("_pl")).alias("_st"))
    keep = (pl.col("_pl") == 0) | (nat.str.len_chars() == 0) | (_full(nat, r.general) & ~_full(pl.col("_st"), r.general))
    return frame.with_columns(pl.when(keep).then(nat).otherwise(pl.col("_st")).alias(dst)).drop("_pl", "_st")


def _length_accepts(nat: pl.Expr, r: _RegionRules) -> pl.Expr:
    """True unless phonenumbers' _test_number_length says TOO_SHORT, local-only or INVALID_LENGTH."""
    n = nat.str.len_chars()
    lengths = list(r.general_lengths)
    ok = n.is_in(lengths) | (n > max(lengths))
    if r.local_lengths:
        ok = ok & ~n.is_in(list(r.local_lengths))
    return ok


def _if_long_enough(stripped: str, src: str, r: _RegionRules) -> pl.Expr:
    """``stripped`` (``src`` with its national prefix taken off, :func:`_strip_np`) when phonenumbers' length test
    accepts it, else ``src`` as it was."""
    return pl.when(_length_accepts(pl.col(stripped), r)).then(pl.col(stripped)).otherwise(pl.col(src))


def _strip_if_long_enough(frame: pl.DataFrame, src: str, dst: str, r: _RegionRules) -> pl.DataFrame:
    frame = _strip_np(frame, src, "_s2", r)
    return frame.with_columns(_if_long_enough("_s2", src, r).alias(dst)).drop("_s2")


def _national_numbers(frame: pl.DataFrame, r: _RegionRules) -> pl.DataFrame:
    """Add ``nat``: the national number phonenumbers derives from ``d`` (digits) and ``plus`` in region ``r``."""
    assert r.general is not None
    d = pl.col("d")
    # with '+': the digits after the country code
    frame = frame.with_columns(d.str.slice(len(r.cc)).alias("_after_cc"))
    # the national prefix stripped once from the digits after the country code: both readings below use it
    frame = _strip_np(frame, "_after_cc", "_potential", r)
    frame = frame.with_columns(_if_long_enough("_potential", "_after_cc", r).alias("_plus_nat"))
    # without '+': a leading country code is dropped when that makes the number viable or fixes TOO_LONG
    take_cc = d.str.starts_with(r.cc) & (
        (~_full(d, r.general) & _full(pl.col("_potential"), r.general)) | (d.str.len_chars() > max(r.general_lengths))
    )
    frame = frame.with_columns(pl.when(take_cc).then(pl.col("_potential")).otherwise(d).alias("_base"))
    frame = _strip_if_long_enough(frame, "_base", "_local_nat", r)
    nat = pl.when(pl.col("plus")).then(pl.col("_plus_nat")).otherwise(pl.col("_local_nat"))
    if r.idd:
        # numbers dialled with the international prefix (810…, 00…) go to the slow path
        nat = pl.when(~pl.col("plus") & d.str.contains(f"^(?:{r.idd})")).then(None).otherwise(nat)
    return frame.with_columns(nat.alias("nat")).drop("_after_cc", "_plus_nat", "_potential", "_base", "_local_nat")


@cache
def _country_code_sets() -> tuple[dict[str, str], ...]:
    """Country calling codes (1-3 digits) -> main region, for geographic regions the fast path handles."""
    by_len: tuple[dict[str, str], ...] = ({}, {}, {})
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        if regions and regions[0] != "001":
            by_len[len(str(cc)) - 1][str(cc)] = regions[0]
    return by_len


def fast_e164(values: pl.Series, regions: pl.Series | str) -> tuple[pl.Series, pl.Series]:
    """(E.164, type) for simple cells, null where the slow path must decide (vectorized)."""
    e164, ptype, _, _ = _fast_scan(values, regions)
    return e164, ptype


@cache
def _cc_lengths(cc: str) -> frozenset[int]:
    """Every national-number length any region sharing calling code ``cc`` accepts (general descriptor)."""
    lengths: set[int] = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(cc), ()):
        md = PhoneMetadata.metadata_for_region(region)
        if md is not None and md.general_desc is not None:
            lengths |= set(md.general_desc.possible_length or ())
    return frozenset(lengths)


def _length_error(nat: pl.Expr, digits: pl.Expr, r: _RegionRules) -> pl.Expr:
    """parse_phone's message for a national number no region of the calling code can validate.

    Mirrors phonenumbers' is_possible_number_with_reason (main region of the code, general lengths).
    """
    n = nat.str.len_chars()
    lengths = sorted(r.general_lengths)
    where = f" for {r.region} ("
    tail = pl.lit(where) + digits.cast(pl.String) + pl.lit(" digits)")
    no_range = pl.lit(f"no such number range in {r.region}")
    return (
        pl.when(n.is_in(list(r.local_lengths)) if r.local_lengths else pl.lit(False)).then(no_range)
        .when(n == lengths[0]).then(no_range)
        .when(n < lengths[0]).then(pl.lit("too short") + tail)
        .when(n > lengths[-1]).then(pl.lit("too long") + tail)
        .when(n.is_in(lengths[1:])).then(no_range)
        .otherwise(pl.lit("wrong length") + tail)
    )


def _fast_scan(values: pl.Series, regions: pl.Series | str) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """(E.164, type, error, invalid) for simple cells; null / false where the slow path must decide (vectorized).

    ``error`` is set only where the number cannot be valid in any region of its calling code
    (its length fits none of them), with parse_phone's message. ``invalid`` is true there and also where only
    the message is phonenumbers' to write (a national number with a leading 0: parse_phone says "wrong length"
    where the length alone says "too long"): no valid reading for sure. Each distinct (cell, region) is read
    once (an office line typed on many records).
    """
    frame = pl.DataFrame({"v": values}).with_columns(
        (regions if isinstance(regions, pl.Series) else pl.lit(regions, dtype=pl.String)).alias("region"))
    uniq = frame.unique(maintain_order=True)
    if uniq.height > 0.8 * frame.height:
        return _fast_scan_rows(values, regions)
    e164, ptype, error, invalid = _fast_scan_rows(uniq.get_column("v"), uniq.get_column("region"))
    read = uniq.with_columns(e164.alias("__e164"), ptype.alias("__type"), error.alias("__error"),
                             invalid.alias("__invalid"))
    back = frame.join(read, on=["v", "region"], how="left", maintain_order="left", nulls_equal=True)
    return (back.get_column("__e164").alias("e164"), back.get_column("__type").alias("type"),
            back.get_column("__error").alias("error"), back.get_column("__invalid").alias("invalid"))


def _fast_scan_rows(values: pl.Series, regions: pl.Series | str
                    ) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """_fast_scan over every row as given."""
    frame = pl.DataFrame({"v": values})
    frame = frame.with_columns(
        (regions if isinstance(regions, pl.Series) else pl.lit(regions, dtype=pl.String)).alias("region")
    )
    simple = pl.col("v").str.contains(_SIMPLE_RE)
    frame = frame.with_columns(
        simple.fill_null(False).alias("simple"),
        pl.col("v").str.strip_chars().str.starts_with("+").alias("plus"),
        pl.col("v").str.replace_all(r"\D", "").alias("d"),
    )
    one, two, three = _country_code_sets()
    d = pl.col("d")
    cc = (
        pl.when(d.str.slice(0, 1).is_in(list(one))).then(d.str.slice(0, 1))
        .when(d.str.slice(0, 2).is_in(list(two))).then(d.str.slice(0, 2))
        .when(d.str.slice(0, 3).is_in(list(three))).then(d.str.slice(0, 3))
        .otherwise(None)
    )
    all_cc = {**one, **two, **three}
    frame = frame.with_columns(cc.alias("cc"))
    frame = frame.with_columns(
        pl.when(pl.col("plus")).then(pl.col("cc").replace_strict(all_cc, default=None))
        .otherwise(pl.col("region")).alias("rr")
    )
    out_e164 = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("e164")
    out_type = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("type")
    out_error = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("error")
    out_invalid = pl.repeat(False, frame.height, eager=True).alias("invalid")
    frame = frame.with_row_index("i")
    cand = frame.filter(pl.col("simple") & pl.col("rr").is_not_null() & (pl.col("d").str.len_chars() >= 5)
                        & (pl.col("d").str.len_chars() <= 17))
    for region in cand.get_column("rr").unique().to_list():
        r = _rules(region)
        if r is None or not r.fast or r.general is None:
            continue
        sub = _national_numbers(cand.filter(pl.col("rr") == region), r)
        sub = sub.filter(pl.col("nat").is_not_null())
        types, every_region = _resolve_type(sub, r)
        sub = sub.with_columns(types)
        nat_len = pl.col("nat").str.len_chars()
        # invalid for sure: every region of the calling code was tried, or the length fits none of them
        certain = pl.lit(True) if every_region else ~nat_len.is_in(sorted(_cc_lengths(r.cc)))
        invalid = (pl.col("t").is_null() & certain & (nat_len >= 2)
                   & ~pl.col("v").str.strip_chars().str.starts_with("+8")  # "+8…": the slow path suggests +7
                   & ~pl.col("v").str.contains(_IDD_00_RS))  # "00 7 916 …": parse_phone reads it as "+7 916 …"
        none = sub.filter(invalid)
        if none.height:
            out_invalid = out_invalid.scatter(none.get_column("i"), True)
        bad = none.filter(~pl.col("nat").str.starts_with("0"))  # the message is ours to write (see _fast_scan)
        if bad.height:
            errors = bad.select(_length_error(pl.col("nat"), pl.col("d").str.len_chars(), r)).to_series()
            out_error = out_error.scatter(bad.get_column("i"), errors)
        sub = sub.filter(pl.col("t").is_not_null() & (nat_len >= 2))
        if sub.height == 0:
            continue
        idx = sub.get_column("i")
        out_e164 = out_e164.scatter(idx, ("+" + r.cc + sub.get_column("nat")).alias("e164"))
        out_type = out_type.scatter(idx, sub.get_column("t"))
    return out_e164, out_type, out_error, out_invalid


def _resolve_type(sub: pl.DataFrame, r: _RegionRules) -> tuple[pl.Series, bool]:
    """The type of ``sub["nat"]`` where phonenumbers would call the number valid, else null.

    The flag says whether every region of the calling code was tried (then null means invalid).

    phonenumbers picks the region among those sharing the calling code in order: the first
    whose leading digits match, or (without leading digits) whose patterns know the number;
    the number is valid when its type in that region is known. Rows are narrowed region by
    region so the many NANPA regions cost little.
    """
    out = pl.repeat(None, sub.height, dtype=pl.String, eager=True).alias("t")
    todo = sub.select("nat").with_row_index("_j")
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(r.cc), (r.region,)):
        if todo.height == 0:
            break
        rr = r if code == r.region else _rules(code)
        if rr is None or rr.general is None:
            return out, False  # unknown metadata: leave the rest to phonenumbers
        nat = pl.col("nat")
        if rr.leading:
            # a region with leading digits decides exactly the numbers they match: only those are typed here
            # (most regions sharing a code match none of them, and their patterns are not even compiled)
            step = todo.with_columns(nat.str.contains(f"^(?:{rr.leading})").alias("_lead"))
            done = step.filter(pl.col("_lead"))
            todo = step.filter(~pl.col("_lead")).select("_j", "nat")
            if done.height:
                done = done.with_columns(_type_expr(nat, rr).alias("_t"))
                out = out.scatter(done.get_column("_j"), done.get_column("_t"))
            continue
        step = todo.with_columns(_type_expr(nat, rr).alias("_t"))
        decided = pl.col("_t").is_not_null()
        done = step.filter(decided)
        if done.height:
            out = out.scatter(done.get_column("_j"), done.get_column("_t"))
        todo = step.filter(~decided).select("_j", "nat")
    return out, True


@functools.cache
def _STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({
    "phone": pl.String, "e164": pl.String, "ext": pl.String, "type": pl.String, "extra": pl.String,
    "extra_e164": pl.String, "error": pl.String, "suggestion": pl.String,
})


def _slow_key(key: str) -> dict[str, Any]:
    region, fmt, text = key.split("\x1f", 2)
    res = normalize_phone(text, region or None, fmt)  # type: ignore[arg-type]
    return {
        "phone": res.phone, "e164": res.e164, "ext": res.ext, "type": res.type,
        "extra": "; ".join(res.extra) or None, "extra_e164": "; ".join(res.extra_e164) or None,
        "error": res.error, "suggestion": res.suggestion,
    }


def analyze_phones(values: pl.Series, regions: pl.Series | str, fmt: PhoneFormat = "E164",
                   *, reasons: bool = True, distinct: bool = False) -> pl.DataFrame:
    """Per row: phone (formatted), e164, ext, type, extra, extra_e164, error, suggestion (vectorized + slow path).

    ``distinct``: the values are (nearly) all different already (PHONE001 passes each distinct cell once), so
    the fast path does not look for repeated (cell, region) pairs.

    ``reasons=False``: a one-line cell with no valid reading for sure (``_fast_scan``'s invalid, as typed or
    once its label and extension are taken off: ``_second_chance``) is not read again by phonenumbers for the
    message only; its ``error`` stays null (every other column is the same).
    """
    values, lost = _from_spreadsheet_numbers(values)
    e164, ptype, error, invalid = _fast_scan_rows(values, regions) if distinct else _fast_scan(values, regions)
    n = len(values)
    region_col = regions if isinstance(regions, pl.Series) else pl.Series("region", [regions] * n, dtype=pl.String)
    slow_mask = e164.is_null() & error.is_null() & values.is_not_null()
    if not reasons:  # a cell of several lines is split into numbers first (split_phones, _second_chance)
        slow_mask = slow_mask & ~(invalid & ~values.str.contains("\n").fill_null(True))
    out = pl.DataFrame({"e164": e164, "type": ptype, "error": error})
    out = out.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in ("ext", "extra", "extra_e164", "suggestion")
    )
    if fmt == "E164":
        out = out.with_columns(pl.col("e164").alias("phone"))
    else:
        out = out.with_columns(map_unique_fast(e164, _format_factory(fmt), pl.String).alias("phone"))
    if slow_mask.any() and fmt == "E164":
        out, slow_mask = _second_chance(values, region_col, slow_mask, out, reasons=reasons)
    if slow_mask.any():
        keys = (region_col.filter(slow_mask).fill_null("") + "\x1f" + fmt + "\x1f" + values.filter(slow_mask))
        slow = map_unique_fast(keys, _slow_key, _STRUCT()).struct.unnest()
        idx = slow_mask.arg_true()
        cols = {}
        for name in ("phone", "e164", "type", "ext", "extra", "extra_e164", "error", "suggestion"):
            cols[name] = out.get_column(name).scatter(idx, slow.get_column(name))
        out = pl.DataFrame(cols)
    if lost is not None:
        out = out.with_columns(
            pl.when(pl.lit(lost)).then(None).otherwise(pl.col(c)).alias(c) for c in ("phone", "e164", "type")
        ).with_columns(pl.when(pl.lit(lost)).then(pl.lit(_LOST_DIGITS)).otherwise(pl.col("error")).alias("error"))
    return out.select("phone", "e164", "ext", "type", "extra", "extra_e164", "error", "suggestion")


_SPREADSHEET_NUMBER_RS = r"^\s*(?:\d(?:[.,]\d+)?[eE]\+?\d{1,2}|\d+\.0+)\s*$"
_LOST_DIGITS = ("a spreadsheet wrote the number in scientific notation and dropped its last digits; "
                "take it from the source")


def _from_spreadsheet_numbers(values: pl.Series) -> tuple[pl.Series, pl.Series | None]:
    """Cells a spreadsheet stored as a number, read back as their digits: 7.9161234567E+10 and 79161234567.0 are
    79161234567 (then read like any cell of digits); 7.91E+10 lost its last digits and is never completed
    (the mask of those, or None). The float spellings are the tax ids' (fields.taxid: one reading of them)."""
    from crmclean.fields.taxid import float_digits

    spelled = values.str.contains(_SPREADSHEET_NUMBER_RS).fill_null(False)
    if not spelled.any():
        return values, None
    idx = spelled.arg_true()
    raw = values.gather(idx)
    digits = map_unique_fast(raw.str.strip_chars().str.replace(",", ".", literal=True), float_digits, pl.String)
    restored = values.scatter(idx, digits.fill_null(raw))
    lost = pl.repeat(False, len(values), eager=True).scatter(idx, digits.is_null())
    return restored, (lost if lost.any() else None)


# Rust-regex forms of _LABEL_RE / EXT_RE / _SPLIT_RE (no look-around): used before giving up on the fast path
_LABEL_RS = (r"(?i)^\s*(?:(?:тел(?:ефон)?|моб(?:ильный)?|сот(?:овый)?|раб(?:очий)?|дом(?:ашний)?|гор(?:одской)?|факс|"
             r"tel(?:ephone)?|phone|ph|mob(?:ile)?|cell|work|office|home|fax|t|m|p|w)\s*[.:]?\s*)+([+\d(].*)$")
_EXT_RS = (r"(?i)^(.*?)[\s,;(]*(?:доб(?:авочный)?|вн(?:утр(?:енний)?)?|доп|ext(?:ension)?|extn|x|#)\.?\s*[:.№#]?\s*"
           r"(\d{1,7})\s*\)?\s*$")
_SPLIT_RS = r"\s*[,;\n]\s*|\s+/\s+"


def _second_chance(values: pl.Series, regions: pl.Series, todo: pl.Series,
                   out: pl.DataFrame, *, reasons: bool = True) -> tuple[pl.DataFrame, pl.Series]:
    """Vectorized handling of labels ("тел.:"), extensions ("доб. 12") and "a, b" lists of plain numbers.

    Cells whose every part then passes the fast path are resolved here; the rest stay for
    phonenumbers (``todo`` is returned narrowed). ``reasons=False`` (see analyze_phones): a cell of one
    number with no valid reading for sure (``_fast_scan``'s invalid, after its label and extension) is
    resolved too, as phonenumbers would: no number, its extension, no error.
    """
    idx = todo.arg_true()
    sub = pl.DataFrame({"i": idx, "v": values.gather(idx), "r": regions.gather(idx)})
    sub = sub.with_columns(pl.col("v").str.replace_all(_SPLIT_RS, "\x1f").str.split("\x1f").alias("parts"))
    sub = sub.with_columns(pl.col("parts").list.len().alias("n")).filter((pl.col("n") >= 1) & (pl.col("n") <= 4))
    parts = sub.select("i", "r", "parts").with_columns(pl.int_ranges(0, pl.col("parts").list.len()).alias("k"))
    parts = parts.explode("parts", "k").rename({"parts": "p"})
    labelled = pl.col("p").str.extract(_LABEL_RS, 1)
    parts = parts.with_columns(pl.coalesce(labelled, pl.col("p")).str.strip_chars().alias("p"))
    parts = parts.with_columns(
        pl.col("p").str.extract(_EXT_RS, 1).alias("base"), pl.col("p").str.extract(_EXT_RS, 2).alias("ext")
    )
    parts = parts.with_columns(
        pl.when(pl.col("base").str.count_matches(r"\d") >= 5).then(pl.col("base")).otherwise(None).alias("base")
    ).with_columns(
        pl.when(pl.col("base").is_null()).then(None).otherwise(pl.col("ext")).alias("ext"),
        pl.coalesce(pl.col("base"), pl.col("p")).alias("num"),
    )
    if parts.height == 0:
        return out, todo
    e164, ptype, _, invalid = _fast_scan(parts.get_column("num"), parts.get_column("r"))
    parts = parts.with_columns(e164.alias("e"), ptype.alias("t"), invalid.alias("bad"))
    # only extensions on the first number are carried (the slow path keeps others in the text)
    cells = parts.group_by("i").agg(
        pl.len().alias("parts"),
        pl.col("bad").first().alias("bad"),
        pl.col("e").is_not_null().all().alias("all_ok"),
        (pl.col("ext").is_not_null() & (pl.col("k") > 0)).any().alias("late_ext"),
        pl.col("e").sort_by("k").first().alias("e164"),
        pl.col("t").sort_by("k").first().alias("type"),
        pl.col("ext").sort_by("k").first().alias("ext"),
        pl.col("e").sort_by("k").slice(1).str.join("; ").alias("extra"),
    )
    ok = cells.filter(pl.col("all_ok") & ~pl.col("late_ext"))
    if not reasons:
        unread = cells.filter((pl.col("parts") == 1) & pl.col("bad"))
        if unread.height:
            rows = unread.get_column("i")
            out = out.with_columns(out.get_column("ext").scatter(rows, unread.get_column("ext").cast(pl.String)))
            todo = todo & ~pl.repeat(False, len(todo), eager=True).alias("").scatter(rows, True)
    if ok.height == 0:
        return out, todo
    ok = ok.with_columns(pl.when(pl.col("extra") == "").then(None).otherwise(pl.col("extra")).alias("extra"))
    rows = ok.get_column("i")
    cols = {name: out.get_column(name) for name in out.columns}
    for name, src in (("e164", "e164"), ("phone", "e164"), ("type", "type"), ("ext", "ext"), ("extra", "extra"),
                      ("extra_e164", "extra")):
        cols[name] = cols[name].scatter(rows, ok.get_column(src).cast(pl.String))
    done = pl.repeat(False, len(todo), eager=True).alias("").scatter(rows, True)
    return pl.DataFrame(cols), todo & ~done


# ---------------------------------------------------------------- hints for invalid numbers (were the check's)


@cache
def calling_code_of(region: str) -> str | None:
    code = phonenumbers.country_code_for_region(region)
    return str(code) if code else None


def calling_codes(e164: pl.Series) -> pl.Series:
    """Country calling code of E.164 numbers ('+74951234567' -> '7')."""
    codes = {str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
    digits = e164.str.strip_prefix("+")
    out = pl.Series([None] * len(e164), dtype=pl.String)
    for n in (3, 2, 1):
        prefix = digits.str.slice(0, n)
        out = prefix.zip_with(prefix.is_in(list(codes)).fill_null(False), out)
    return out


def valid_elsewhere(values: pl.Series) -> pl.Series:
    """Per row, a hint when the number is valid written with a country code (a US number on a UK record)."""
    n = len(values)
    nulls = pl.Series([None] * n, dtype=pl.String)
    digits = values.str.replace_all(r"\D", "")
    length = digits.str.len_chars()
    plus = ("+" + digits).zip_with((length.is_between(11, 13) & ~values.str.strip_chars().str.starts_with("+"))
                                   .fill_null(False), nulls)
    with_plus, _ = fast_e164(plus, "RU")
    us, _ = fast_e164(digits.zip_with((length == 10).fill_null(False), nulls), "US")
    e164 = with_plus.fill_null(us)
    return pl.DataFrame({"e": e164, "cc": calling_codes(e164)}).select(
        pl.format("valid as a +{} number {}: write it with the country code, or fix the country",
                  pl.col("cc"), pl.col("e"))
    ).to_series()


@cache
def example_number(region: str) -> str:
    number = phonenumbers.example_number(region)
    if number is None:
        return "+<country code> <number>"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def invalid_phone_hints(values: pl.Series, suggestion: pl.Series, regions: pl.Series | str) -> pl.Series:
    """Per row: "did you mean …?", else the country where the number is valid, else what a valid number looks like."""
    n = len(values)
    region = regions if isinstance(regions, pl.Series) else pl.Series([regions] * n, dtype=pl.String)
    generic = region.replace_strict(
        {r: f"check the digits; a valid number looks like {example_number(r)}" for r in region.unique().to_list()},
        return_dtype=pl.String,
    )
    did_you_mean = pl.DataFrame({"s": suggestion}).select(pl.format("did you mean {}?", pl.col("s"))).to_series()
    return did_you_mean.fill_null(valid_elsewhere(values)).fill_null(generic)


def _format_international(e164: str) -> str:
    return format_phone(e164, "INTERNATIONAL")


def _format_national(e164: str) -> str:
    return format_phone(e164, "NATIONAL")


def _format_rfc3966(e164: str) -> str:
    return format_phone(e164, "RFC3966")


def _format_factory(fmt: PhoneFormat) -> Any:
    return {"INTERNATIONAL": _format_international, "NATIONAL": _format_national, "RFC3966": _format_rfc3966}[fmt]


# ---------------------------------------------------------------- numbers that belong to another country

# a North-American grouping: (212) 555-0142, 212-555-0142, 212.555.0142, 1 212 555 0142
_NANP_LOOK_RE = re.compile(r"^\s*(?:1[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}\s*$")


@dataclass(frozen=True)
class ForeignReading:
    """A national-looking number read against the default region.

    ``kind`` is "elsewhere" (not valid in the default region, valid in exactly one other
    reading) or "ambiguous" (valid in the default region, but written the North-American way
    and valid there too); ``e164`` is the other reading.
    """

    kind: Literal["elsewhere", "ambiguous"]
    e164: str
    region: str


def foreign_reading(text: str, region: str = "RU") -> ForeignReading | None:
    """The other country a number without a country code may belong to, when the default is not sure.

    Only numbers typed without ``+``/an international prefix are considered; the reading in
    ``region`` is what PHONE001 would otherwise write. Other readings tried: the US (NANP,
    10 digits or 1 + 10) and the digits as a full international number with the ``+`` left out.
    """
    typed = _foreign_typed(text)
    if typed is None:
        return None
    raw, digits = typed
    region = (region or "RU").upper()
    us = parse_phone(raw, "US").e164 if region != "US" and len(digits) in (10, 11) else None
    return _foreign_decide(raw, digits, region, parse_phone(raw, region).e164, us)


def _foreign_typed(text: str) -> tuple[str, str] | None:
    """(the number as typed without label and extension, its digits) when foreign_reading reads it, else None."""
    raw = _LABEL_RE.sub("", text.strip())
    m = EXT_RE.search(raw)
    if m and sum(c.isdigit() for c in raw[: m.start()]) >= 5:
        raw = raw[: m.start()]
    raw = raw.strip()
    if not raw or raw.startswith("+") or not re.match(_SIMPLE_RE, raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if not 10 <= len(digits) <= 13:
        return None
    return raw, digits


def _foreign_decide(raw: str, digits: str, region: str, home: str | None, us: str | None) -> ForeignReading | None:
    """foreign_reading from the number's readings in ``region`` and in the US (None where not tried or invalid)."""
    others: dict[str, str] = {}
    if us:
        others[us] = "US"
    if 11 <= len(digits) <= 13 and not digits.startswith("0"):
        try:
            num = phonenumbers.parse("+" + digits, None)
        except NumberParseException:
            num = None
        if num is not None and phonenumbers.is_valid_number(num):
            where = phonenumbers.region_code_for_number(num) or ""
            if where != region:
                others[phonenumbers.format_number(num, PhoneNumberFormat.E164)] = where
    others.pop(home or "", None)
    if len(others) != 1:
        return None
    e164, where = next(iter(others.items()))
    if home is None:
        return ForeignReading("elsewhere", e164, where)
    if where == "US" and _NANP_LOOK_RE.match(raw):
        return ForeignReading("ambiguous", e164, where)
    return None


def _foreign_batch(texts: list[str], region: str) -> list[ForeignReading | None]:
    """foreign_reading of each text, its home and US readings taken from the fast parser where it decides
    (a valid E.164, or invalid for sure) and from parse_phone one by one only where it does not."""
    typed = [_foreign_typed(t) for t in texts]
    keep = [i for i, x in enumerate(typed) if x is not None]
    raws = pl.Series([typed[i][0] for i in keep], dtype=pl.String)  # type: ignore[index]

    def readings(where: str) -> list[str | None]:
        e164, _, _, invalid = _fast_scan(raws, where)
        open_ = (e164.is_null() & ~invalid).to_list()
        return [parse_phone(raw, where).e164 if undecided else known
                for raw, known, undecided in zip(raws.to_list(), e164.to_list(), open_, strict=True)]

    home = readings(region)
    us = readings("US") if region != "US" else [None] * len(keep)
    out: list[ForeignReading | None] = [None] * len(texts)
    for k, i in enumerate(keep):
        raw, digits = typed[i]  # type: ignore[misc]
        out[i] = _foreign_decide(raw, digits, region, home[k], us[k] if len(digits) in (10, 11) else None)
    return out


def foreign_readings(values: pl.Series, region: str = "RU") -> pl.DataFrame:
    """:func:`foreign_reading` of every value as columns kind, e164, region (null where it returns None): each
    distinct value once, its home and US readings from the fast parser in one batch (``_foreign_batch``), the
    decision itself in ``_foreign_decide`` — the one place it is made."""
    region = (region or "RU").upper()
    rest = values.drop_nulls().unique().to_list()
    looked = _foreign_batch(rest, region)
    table = pl.DataFrame({
        "v": pl.Series(rest, dtype=pl.String),
        "kind": pl.Series([r.kind if r else None for r in looked], dtype=pl.String),
        "e164": pl.Series([r.e164 if r else None for r in looked], dtype=pl.String),
        "region": pl.Series([r.region if r else None for r in looked], dtype=pl.String),
    })
    return values.to_frame("v").join(table, on="v", how="left", maintain_order="left").select("kind", "e164", "region")
