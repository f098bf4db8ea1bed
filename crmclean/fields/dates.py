"""Dates: the one reader of the date spellings CRMs export, shared by checks, staleness and survivorship.

Every place crmclean needs a date (DATE001–003, STALE001–003, survivorship ``oldest`` /
``newest`` / ``most_recently_modified``) calls :func:`parse_dates` (a Series) or
:func:`parse_dates_expr` (an expression), so a value means the same date everywhere.

Understood (case-insensitive, surrounding blanks ignored):

* ISO and year-first: ``2023-01-15``, ``2023-01-15 14:30:00``, ``2023-01-15T14:30:00Z``,
  ``2023-01-15T14:30:00+03:00`` (Bitrix24), ``2023-01-15T14:30:00.000+0000`` (Salesforce),
  ``2023.01.15``, ``2023/01/15``.
* Numeric day-first: ``15.01.2023``, ``1.2.2023``, ``15.01.2023 14:30``, ``15.01.2023 0:00:00`` (1C),
  ``15/01/2023``, ``15-01-2023``, ``15.01.2023 г.``; month-first ``01/15/2023 2:30 PM`` (US exports).
* Month names, Russian and English, full or short, any case: ``15 января 2023``,
  ``15 янв. 2023 г.``, ``15 Jan 2023``, ``15-Jan-2023``, ``Jan 15, 2023``, ``January 15th 2023``,
  ``Mon, 15 Jan 2023 14:30:00 GMT``.
* Numbers: epoch milliseconds (13 digits, HubSpot), epoch seconds (10 digits, amoCRM),
  ``YYYYMMDD`` (8 digits), and Excel serial days (1900 date system, days since 1899-12-30)
  when a whole number is between 20000 and 80000 (1954-10-03 … 2119-01-11): smaller or larger
  numbers in a date column are more likely ids or typos than dates.

Decisions, documented because they change which record survives a merge:

* **Two-digit years** pivot like Excel: ``00``–``29`` are 2000–2029, ``30``–``99`` are 1930–1999.
* **Day or month first.** A value whose first number is above 12 is day-first and one whose
  second number is above 12 is month-first, always. An ambiguous value (``03/04/2024``) follows
  the column: when its other slash/dash values show only one order, that order; otherwise the
  region decides — month-first for the United States and the countries that write dates the
  US way (:data:`MONTH_FIRST_REGIONS`), day-first for Russia and everywhere else (the default).
  Dotted dates (``03.04.2024``) are day-first whatever the region.
* **Time zones** are dropped, not converted: the wall-clock time as written is kept, so the
  calendar day a steward sees in the CRM is the day crmclean uses (``2023-01-15T01:30:00+03:00``
  is 15 January, not 14 January in UTC).
* Impossible dates (``31.02.2024``, month 13, hour 25) and words (``вчера``) are null.
* "No date" spellings are blank, not unreadable: 1C's empty date ``01.01.0001 0:00:00`` and MySQL's
  ``0000-00-00 00:00:00``.

Speed: each distinct spelling is parsed once, and families of spellings are tried in turn only on
what is still unread (a column is almost always in one format), all in polars expressions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from crmclean._lazy import polars as pl


@functools.cache
def DATETIME() -> pl.Datetime:  # built on first use: importing the module reads no polars
    return pl.Datetime("us")

# Countries whose numeric dates are month-first (US and its territories, and those using US conventions).
MONTH_FIRST_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "FM", "MH", "PW", "PH"})

Order = Literal["auto", "day_first", "month_first"]

EXCEL_SERIAL_MIN = 20_000
EXCEL_SERIAL_MAX = 80_000
_EXCEL_EPOCH = datetime(1899, 12, 30)

# ---------------------------------------------------------------- spelling patterns

_MONTH_PREFIX = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    "янв": 1, "фев": 2, "мар": 3, "апр": 4, "май": 5, "мая": 5, "мае": 5, "июн": 6,
    "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}
# longest spellings first: the regex takes the first alternative that matches
_MONTH_WORDS = (
    "january|february|march|april|june|july|august|september|october|november|december|"
    "sept|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
    "январ[ьяе]|феврал[ьяе]|март[ае]?|апрел[ьяе]|июн[ьяе]|июл[ьяе]|август[ае]?|сентябр[ьяе]|"
    "октябр[ьяе]|ноябр[ьяе]|декабр[ьяе]|"
    "сент|нояб|янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек"
)
_MON = rf"({_MONTH_WORDS})\.?"
_YEAR_WORD = r"(?:\s*(?:г\.?|года?\.?))?"  # 15.01.2023 г., 15 января 2023 года
# T or blanks (optionally a comma) then h:mm[:ss][.fraction] [am|pm]
_TIME = (
    r"(?:(?:t|\s*,?\s*)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?:[.,][0-9]{1,9})?"
    r"(?:\s*([ap])\.?m\.?)?)?"
)
_ZONE = r"(?:\s*(?:z|(?:utc|gmt|msk)?\s*[+-][0-9]{1,2}(?::?[0-9]{2})?|utc|gmt|msk))?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс)[a-zа-я]*\.?,?\s*)?"
_ORDINAL = r"(?:st|nd|rd|th|-?го|-?е)?"

# year first: 2023-01-15[ 14:30[:00]], 2023.01.15, 2023/01/15
_YMD = rf"^([0-9]{{4}})[-./]([0-9]{{1,2}})[-./]([0-9]{{1,2}}){_TIME}{_ZONE}$"
# numeric day/month or month/day: 15.01.2023, 1.2.23, 01/15/2023 2:30 PM, 15-01-2023
_NUMERIC = (
    rf"^([0-9]{{1,2}})([-./])([0-9]{{1,2}})[-./]([0-9]{{4}}|[0-9]{{2}}){_YEAR_WORD}{_TIME}{_ZONE}$"
)
# day, month name, year: 15 января 2023 г., 15-Jan-2023, 15 jan 23
_DAY_NAME = (
    rf"^{_WEEKDAY}([0-9]{{1,2}}){_ORDINAL}[\s./-]*{_MON}[\s./,-]*([0-9]{{4}}|[0-9]{{2}}){_YEAR_WORD}{_TIME}{_ZONE}$"
)
# month name, day, year: Jan 15, 2023; January 15th 2023
_NAME_DAY = rf"^{_WEEKDAY}{_MON}[\s./-]*([0-9]{{1,2}}){_ORDINAL},?\s*([0-9]{{4}}){_TIME}{_ZONE}$"
_NUMBER = r"^([0-9]+)(?:\.0+)?$"

_TIME_FIELDS = ("h", "mi", "s", "ampm")


def month_first_region(region: str | None) -> bool:
    """True when the region writes ambiguous numeric dates month-first (US style)."""
    return (region or "").strip().upper() in MONTH_FIRST_REGIONS


# ---------------------------------------------------------------- public API


def parse_dates(values: pl.Series, *, region: str | None = None, order: Order = "auto") -> pl.Series:
    """Datetime (microseconds, naive wall-clock) of each cell; null when blank or not a date.

    ``region`` (ISO alpha-2, default RU) decides ambiguous numeric dates such as ``03/04/2024``
    unless ``order`` forces ``day_first`` / ``month_first``; with ``auto`` the column's own
    unambiguous values decide first (see the module docstring). Date and Datetime columns pass
    through unchanged (cast to microseconds), numbers are read as epoch/Excel serials.
    """
    if values.dtype == pl.Date or isinstance(values.dtype, pl.Datetime):
        if isinstance(values.dtype, pl.Datetime) and values.dtype.time_zone is not None:
            return values.dt.replace_time_zone(None).cast(DATETIME()).alias(values.name)
        return values.cast(DATETIME()).alias(values.name)
    text = values if values.dtype == pl.String else values.cast(pl.String)
    empty = _empty_dates(text)
    if empty.any():
        text = text.zip_with(~empty, pl.Series([None] * text.len(), dtype=pl.String))
    out = pl.Series(values.name, [None] * text.len(), dtype=DATETIME())
    todo = text.is_not_null()
    # fixed-width spellings most exports use are read over the whole column by polars' own strptime;
    # only shapes seen in a sample are tried (anything they miss still reaches the general parser)
    sample = text.drop_nulls().head(_SAMPLE)
    repeated = sample.n_unique() < sample.len() // 2
    for shape, width, fmt in _FAST_SHAPES:
        if not sample.str.contains(shape).any():
            continue
        hit = todo & text.str.contains(shape)
        cells = text if hit.all() else text.set(~hit, None)
        if fmt == "number":
            parsed = pl.select(_number_value(pl.lit(cells))).to_series()
        else:
            parsed = cells.str.slice(0, width).str.to_datetime(fmt, strict=False, time_unit="us", cache=repeated)
        out = parsed if hit.all() else pl.select(pl.coalesce(pl.lit(out), pl.lit(parsed))).to_series()
        todo = todo & ~hit
    if todo.any():
        idx = todo.arg_true()
        rest = pl.DataFrame({"i": idx, "key": text.gather(idx)})
        keys = rest.get_column("key").unique()
        lookup = pl.DataFrame({"key": keys, "value": _parse_unique(keys, region=region, order=order)})
        found = rest.join(lookup, on="key", how="left")
        out = out.scatter(found.get_column("i"), found.get_column("value"))
    return out.alias(values.name)


_SAMPLE = 2000
# (shape, characters read, strptime format): exact shapes only, so that they agree with the general parser
_FAST_SHAPES = (
    (r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$", 10, "%Y-%m-%d"),
    (r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})?$",
     19, "%Y-%m-%dT%H:%M:%S"),
    (r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?$", 19, "%Y-%m-%d %H:%M:%S"),
    (r"^[0-9]{2}\.[0-9]{2}\.[1-9][0-9]{3}$", 10, "%d.%m.%Y"),
    (r"^[0-9]{2}\.[0-9]{2}\.[1-9][0-9]{3} [0-9]{2}:[0-9]{2}$", 16, "%d.%m.%Y %H:%M"),
    # 1C writes hours without a leading zero: 15.01.2023 0:00:00
    (r"^[0-9]{2}\.[0-9]{2}\.[1-9][0-9]{3} [0-9]{1,2}:[0-9]{2}:[0-9]{2}$", 19, "%d.%m.%Y %H:%M:%S"),
    (r"^(?:[0-9]{13}|[0-9]{10})$", 13, "number"),  # epoch milliseconds (HubSpot) and seconds (amoCRM)
)


def parse_dates_expr(values: pl.Expr, *, region: str | None = None, order: Order = "auto") -> pl.Expr:
    """:func:`parse_dates` as an expression (the whole column is read at once, so ``auto`` order sees it all)."""
    return values.map_batches(lambda s: parse_dates(s, region=region, order=order), return_dtype=DATETIME())


def unreadable_dates(values: pl.Series, parsed: pl.Series | None = None, **options: object) -> pl.Series:
    """True where a cell holds something (not blank) that is not a readable date."""
    if parsed is None:
        parsed = parse_dates(values, **options)  # type: ignore[arg-type]
    text = values.cast(pl.String).str.strip_chars()
    return (text.is_not_null() & (text != "") & parsed.is_null() & ~_empty_dates(text)).alias(values.name)


# the spellings systems write for "no date": 1C's empty date (01.01.0001 0:00:00, 0001-01-01T00:00:00) and
# MySQL's zero date (0000-00-00 00:00:00): blank, neither a date nor an unreadable one
_EMPTY_DATE = (r"^\s*(?:0?1[./-]0?1[./-]0001|0001[./-]0?1[./-]0?1|0?0[./-]0?0[./-]0000|0000[./-]0?0[./-]0?0)"
               r"(?:[ T]0?0:00(?::00(?:\.0+)?)?)?\s*$")


def _empty_dates(text: pl.Series) -> pl.Series:
    return text.str.contains(_EMPTY_DATE).fill_null(False)


def to_dates(values: pl.Series, **options: object) -> pl.Series:
    """Calendar days (pl.Date) of :func:`parse_dates`."""
    return parse_dates(values, **options).dt.date()  # type: ignore[arg-type]


def date_digits(values: pl.Series, **options: object) -> pl.Series:
    """``YYYYMMDD`` of each readable date, else the cell's digits (for digit-wise date comparisons)."""
    parsed = parse_dates(values, **options)  # type: ignore[arg-type]
    raw = values.cast(pl.String).str.replace_all(r"\D", "")
    return pl.select(pl.coalesce(pl.lit(parsed.dt.strftime("%Y%m%d")), pl.lit(raw))).to_series().alias(values.name)


def date_digits_from_parts(year: pl.Series, month: pl.Series, day: pl.Series) -> pl.Series:
    """``YYYYMMDD`` of a date kept in three columns (R RecordLinkage's RLdata ``by``, ``bm``, ``bd``), read by the
    same parser as a whole date; null when a part is blank (a partial date is no date to compare).

    A date the parser cannot read (month 19, day 50: a digit mistyped) keeps its parts in their places, each
    zero-padded (``1960``, ``6``, ``50`` -> ``19600650``), when each part is digits that fit its width: the parts
    are known even if the date is impossible, so the comparison still sees which part differs and by how much
    (``19600630`` is one digit away), where the digits run together (``1960650``) would shift the day into the
    month."""
    parts = [pl.lit(s.cast(pl.String)).str.strip_chars().replace("", None) for s in (year, month, day)]
    joined = pl.select(pl.concat_str(parts, separator="-")).to_series()
    parsed = parse_dates(joined.fill_null(""))
    fits = pl.all_horizontal(p.str.contains(f"^[0-9]{{1,{w}}}$") for p, w in zip(parts, (4, 2, 2), strict=True))
    padded = pl.when(fits).then(pl.concat_str([p.str.zfill(w) for p, w in zip(parts, (4, 2, 2), strict=True)]))
    raw = pl.lit(joined).str.replace_all(r"\D", "")
    return pl.select(pl.coalesce(pl.lit(parsed).dt.strftime("%Y%m%d"), padded, raw)).to_series().alias(year.name)


# ---------------------------------------------------------------- the parser over distinct spellings


def _normalized(keys: pl.Series) -> pl.Series:
    return (
        keys.str.replace_all(r"[\s\u00a0\u202f]+", " ")
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all("ё", "е")
    )


def _parse_unique(keys: pl.Series, *, region: str | None, order: Order) -> pl.Series:
    """Parsed datetimes aligned with ``keys`` (distinct strings)."""
    frame = pl.DataFrame({"i": pl.int_range(0, keys.len(), eager=True, dtype=pl.UInt32), "_text": _normalized(keys)})
    frame = frame.filter(pl.col("_text") != "")
    parts: list[pl.DataFrame] = []

    for family in (_year_first, _numeric, _day_name, _name_day, _number):
        if frame.height == 0:
            break
        matched, frame = family(frame, region=region, order=order)
        parts.append(matched)
    parts = [p for p in parts if p.height]
    result = pl.Series("value", [None] * keys.len(), dtype=DATETIME())
    if parts:
        found = pl.concat(parts)
        result = result.scatter(found.get_column("i"), found.get_column("value"))
    return result


_TEXT_GROUPS = frozenset({"sep", "ampm", "mon", "n"})


def _split(frame: pl.DataFrame, pattern: str, names: Iterable[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows matching ``pattern`` with its groups as columns, numbers as Int32; the rest)."""
    names = list(names)
    # one regex pass: every pattern's first group is mandatory, so it is null exactly when nothing matched
    groups = frame.get_column("_text").str.extract_groups(pattern).struct.rename_fields(names).struct.unnest()
    both = pl.concat([frame, groups], how="horizontal")
    hit = both.get_column(names[0]).is_not_null()
    matched = both.filter(hit).drop("_text").with_columns(
        pl.col(n).cast(pl.Int32, strict=False) for n in names if n not in _TEXT_GROUPS)
    return matched, frame.filter(~hit)


_MONTH_DAYS = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_US_PER_DAY = 86_400_000_000


def _assemble(frame: pl.DataFrame, year: pl.Expr, month: pl.Expr, day: pl.Expr, with_time: bool = True) -> pl.DataFrame:
    """``i`` and ``value``: the datetime of the components, null unless that date (and time) exists.

    Pure integer arithmetic (days from the civil date, Howard Hinnant's algorithm), so invalid
    components never raise and a million rows take milliseconds.
    """
    parts = [year.cast(pl.Int64).alias("_y"), month.cast(pl.Int64).alias("_m"), day.cast(pl.Int64).alias("_d")]
    if with_time:
        hour = pl.col("h").cast(pl.Int64).fill_null(0)
        ampm = pl.col("ampm")
        parts += [
            pl.when(ampm.is_null()).then(hour)
            .when((ampm == "a") & (hour == 12)).then(0)
            .when((ampm == "p") & (hour < 12)).then(hour + 12)
            .otherwise(hour).alias("_h"),
            pl.when(ampm.is_null()).then(hour.is_between(0, 23)).otherwise(hour.is_between(1, 12)).alias("_hok"),
            pl.col("mi").cast(pl.Int64).fill_null(0).alias("_mi"),
            pl.col("s").cast(pl.Int64).fill_null(0).alias("_s"),
        ]
    else:
        parts += [pl.lit(0, pl.Int64).alias(c) for c in ("_h", "_mi", "_s")] + [pl.lit(True).alias("_hok")]
    y, m, d = pl.col("_y"), pl.col("_m"), pl.col("_d")
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_len = m.replace_strict(_MONTH_DAYS, default=0, return_dtype=pl.Int64) + ((m == 2) & leap).cast(pl.Int64)
    ok = (
        y.is_between(1, 9999) & d.is_between(1, month_len) & pl.col("_hok")
        & pl.col("_mi").is_between(0, 59) & pl.col("_s").is_between(0, 59)
    ).fill_null(False)
    shifted = y - (m <= 2).cast(pl.Int64)  # >= 0 for years 1..9999
    era = shifted // 400
    yoe = shifted - era * 400
    doy = (153 * (m + pl.when(m > 2).then(-3).otherwise(9)) + 2) // 5 + d - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    micros = days * _US_PER_DAY + pl.col("_h") * 3_600_000_000 + pl.col("_mi") * 60_000_000 + pl.col("_s") * 1_000_000
    return frame.with_columns(parts).select("i", pl.when(ok).then(micros).otherwise(None).cast(DATETIME()).alias("value"))


def _full_year(year: pl.Expr) -> pl.Expr:
    """Two-digit years pivot like Excel: 00–29 → 2000s, 30–99 → 1900s; a year written with four digits is that year
    (0001 is not 2001)."""
    two = year.cast(pl.String).str.len_chars() <= 2
    value = year.cast(pl.Int64)
    return pl.when(two & (value < 30)).then(value + 2000).when(two & (value < 100)).then(value + 1900).otherwise(value)


def _year_first(frame: pl.DataFrame, **_: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched, rest = _split(frame, _YMD, ("y", "m", "d", *_TIME_FIELDS))
    return _assemble(matched, pl.col("y"), pl.col("m"), pl.col("d")), rest


def _numeric(frame: pl.DataFrame, *, region: str | None, order: Order) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched, rest = _split(frame, _NUMERIC, ("a", "sep", "b", "y", *_TIME_FIELDS))
    if matched.height == 0:
        return matched.select("i", pl.lit(None, dtype=DATETIME()).alias("value")), rest
    a, b = pl.col("a"), pl.col("b")
    dotted = pl.col("sep") == "."
    month_first = _month_first_default(matched, region, order)
    # unambiguous values are read the only way they can be; ambiguous ones by the column/region
    matched = matched.with_columns(
        pl.when(a > 12).then(True).when(b > 12).then(False).when(dotted).then(True)
        .otherwise(not month_first).alias("_day_first"))
    day_first = pl.col("_day_first")
    day = pl.when(day_first).then(a).otherwise(b)
    month = pl.when(day_first).then(b).otherwise(a)
    return _assemble(matched, _full_year(pl.col("y")), month, day), rest


def _month_first_default(matched: pl.DataFrame, region: str | None, order: Order) -> bool:
    """How ambiguous slash/dash dates of this column are read."""
    if order == "day_first":
        return False
    if order == "month_first":
        return True
    evidence = matched.filter(pl.col("sep") != ".").select(
        (pl.col("a") > 12).any().alias("day_first"), (pl.col("b") > 12).any().alias("month_first"))
    shows_day_first, shows_month_first = evidence.row(0)
    if shows_month_first and not shows_day_first:
        return True
    if shows_day_first and not shows_month_first:
        return False
    return month_first_region(region)


def _month_number() -> pl.Expr:
    return pl.col("mon").str.slice(0, 3).replace_strict(_MONTH_PREFIX, default=None, return_dtype=pl.Int32)


def _day_name(frame: pl.DataFrame, **_: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched, rest = _split(frame, _DAY_NAME, ("d", "mon", "y", *_TIME_FIELDS))
    return _assemble(matched, _full_year(pl.col("y")), _month_number(), pl.col("d")), rest


def _name_day(frame: pl.DataFrame, **_: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched, rest = _split(frame, _NAME_DAY, ("mon", "d", "y", *_TIME_FIELDS))
    return _assemble(matched, pl.col("y"), _month_number(), pl.col("d")), rest


def _number(frame: pl.DataFrame, **_: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    matched, rest = _split(frame, _NUMBER, ("n",))
    return matched.select("i", _number_value(pl.col("n"))), rest


def _number_value(digits: pl.Expr) -> pl.Expr:
    """Epoch ms (13 digits), epoch s (10), YYYYMMDD (8), Excel serial (whole number in the plausible range)."""
    length = digits.str.len_chars()
    number = digits.cast(pl.Int64, strict=False)
    y = digits.str.slice(0, 4).cast(pl.Int64, strict=False)
    m = digits.str.slice(4, 2).cast(pl.Int64, strict=False)
    d = digits.str.slice(6, 2).cast(pl.Int64, strict=False)
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_len = m.replace_strict(_MONTH_DAYS, default=0, return_dtype=pl.Int64) + ((m == 2) & leap).cast(pl.Int64)
    compact_ok = y.is_between(1900, 2099) & d.is_between(1, month_len)
    compact = pl.date(pl.when(compact_ok).then(y).otherwise(2000), pl.when(compact_ok).then(m).otherwise(1),
                      pl.when(compact_ok).then(d).otherwise(1)).cast(DATETIME())
    return (
        pl.when(length == 13).then(pl.from_epoch(number, time_unit="ms").cast(DATETIME()))
        .when(length == 10).then(pl.from_epoch(number, time_unit="s").cast(DATETIME()))
        .when((length == 8) & compact_ok).then(compact)
        .when((length <= 6) & number.is_between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX)).then(
            pl.lit(_EXCEL_EPOCH, dtype=DATETIME()) + pl.duration(days=number))
        .otherwise(None)
        .cast(DATETIME())
        .alias("value")
    )


__all__ = (
    "DATETIME",
    "EXCEL_SERIAL_MAX",
    "EXCEL_SERIAL_MIN",
    "MONTH_FIRST_REGIONS",
    "date_digits",
    "month_first_region",
    "parse_dates",
    "parse_dates_expr",
    "to_dates",
    "unreadable_dates",
)
