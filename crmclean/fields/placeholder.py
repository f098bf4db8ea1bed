"""Placeholders: pure, vectorized knowledge of one kind of value, shared by rules, profile, matching, survivorship.

Filler values typed only to get past a required field ("-", "нет", "n/a", "000", "test",
noemail@…, +7 000 000-00-00), per column role. PLACEHOLDER001 (which also carries the
retired required-field code REQ002) is a thin rule over it, and so is every "is this filled?" test.
"""

from __future__ import annotations

import re
from functools import cache

from crmclean._lazy import polars as pl
from crmclean.fields._memo import memo_on_values

_FILLER_SINGLE = """
    - -- --- — –– – . .. ... … ? ?? ??? ! * ** *** _ __ ___ / \\ # 0 00 000 0000 00000 000000
    нет нету неизвестно неизвестен неизвестна отсутствует отсутствуют н/д н/а н.д. нд пусто пустое незнаю
    уточнить уточнится уточняется безымянный тест тестовый тестовая тестовое тестов тестович проба йцукен
    фыва ячсм ааа ббб ыыы ххх n/a na n.a. n/d nd none null nil nan undefined unknown empty blank missing no
    notavailable unavailable tbd tba todo tbc test testing tester testtest asdf asdfgh asdfghjkl qwerty qwer
    qwe zxcv xxx xx x zzz aaa abc abcd noname dummy fake sample example temp placeholder default foo bar
    foobar lorem ipsum 123 1234 12345 123456 1234567 12345678 123456789 1234567890 0123456789 9876543210 321
"""
_FILLER_PHRASES = (
    "не указан", "не указано", "не указана", "не указаны", "нет данных", "без данных", "не знаю", "не заполнено",
    "нет имени", "без имени", "not provided", "not available", "not applicable", "no name", "test test",
    "тест тест", "lorem ipsum",
)
# compared after lower-casing, ё -> е and trimming surrounding spaces
FILLER_WORDS: frozenset[str] = frozenset(_FILLER_SINGLE.split()) | frozenset(_FILLER_PHRASES)

_REPEATED = r"^(.)\1{2,}$"  # "aaaa", "0000000", "xxxxx" (documentation; polars' regex has no backreferences)
_KEYBOARD = r"^(asdf|qwer|zxcv|йцук|фыва|ячсм|1234|0123|9876)"
_FILLER_EMAIL = (
    r"^(no-?e?mail|no_?e?mail|none|nomail|no|na|n/a|test|testing|asdf|qwerty|xxx+|x|example|email|mail|"
    r"noreply|no-reply|нет|fake|dummy|null|0+|1+|123+|a|aa|aaa)@"
    r"|@(example\.(com|org|net|ru)|test\.(com|ru)|nomail\.[a-z]+|noemail\.[a-z]+|no\.?email\.[a-z]+|"
    r"none\.[a-z]+|xxx\.[a-z]+|asdf\.[a-z]+|test)$"
    r"|^x+@x+\.x+$"
)
# after removing everything but digits: one digit repeated, or a counting sequence, with an optional country/trunk
_FILLER_PHONE_SEQUENCE = r"^(?:\+?[78]|1)?(?:0?1234567890?|1234567|9876543210?)$"

NAME_ROLES = ("full_name", "first_name", "last_name", "middle_name")
PLACEHOLDER_ROLES = (
    *NAME_ROLES, "email", "email2", "phone", "mobile", "company", "job_title", "inn", "kpp", "ogrn", "city",
    "country", "region", "address", "zip", "website", "department", "industry", "salutation",
)


def _folded(col: pl.Expr) -> pl.Expr:
    return col.str.to_lowercase().str.replace_all("ё", "е", literal=True).str.strip_chars(" ")


@cache
def _filler_words_regex() -> str:
    alternatives = "|".join(re.escape(w) for w in sorted(_FILLER_SINGLE.split(), key=len, reverse=True))
    return rf"^(?:(?:{alternatives})(?:\s+|$))+$"


# characters people hold down to fill a field; an alternation because polars' regex has no backreferences
_REPEATABLE = "0123456789xzaqwsdfghjklй№хыфвапрячсмитьбюжэё-._*?!/\\#+=~"


@cache
def _repeat_regex(min_len: int) -> str:
    return "^(?:" + "|".join(f"{re.escape(c)}{{{min_len},}}" for c in _REPEATABLE) + ")$"


def _one_char_repeated(col: pl.Expr, min_len: int) -> pl.Expr:
    """ "0000000", "xxxx", "----", "ааааа" (lower-cased input)."""
    return col.str.contains(_repeat_regex(min_len))


def placeholder_expr(col: pl.Expr, role: str | None, extra: frozenset[str] = frozenset(),
                     patterns: tuple[str, ...] = (), *, names_check: bool = True,
                     folded: pl.Expr | None = None) -> pl.Expr:
    """True where the value is a filler for a column of ``role`` (vectorized; ``folded``: the value pre-folded)."""
    folded = _folded(col) if folded is None else folded
    words = pl.Series(sorted(FILLER_WORDS | extra), dtype=pl.String)
    hit = folded.is_in(words.implode()) | _one_char_repeated(folded, 3)
    if role in ("email", "email2"):
        # judge the address itself, as the email rules will see it: no mailto:, display name or brackets
        inner = folded.str.extract(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", 1)
        # a trailing dot or comma is typing noise EMAIL001 removes ("mary@example.com."): judged without it too
        address = (pl.coalesce(inner, folded.str.replace(r"^mailto:\s*", "")).str.strip_chars("\"'«»<>[](){} ")
                   .str.strip_chars_end(".,;:"))
        hit = hit | address.str.contains(_FILLER_EMAIL)
    elif role in ("phone", "mobile"):
        digits = folded.str.replace_all(r"[^\d+]", "")
        core = digits.str.replace(r"^(?:\+?[78]|\+?1)", "")
        hit = hit | (
            (digits.str.contains(_FILLER_PHONE_SEQUENCE) | _one_char_repeated(core, 6))
            & ~folded.str.contains(r"[a-zа-я]")
        )
    elif role in ("inn", "kpp", "ogrn", "zip"):
        digits = folded.str.replace_all(r"\D", "")
        hit = hit | _one_char_repeated(digits, 3) | digits.str.contains(r"^0123456789|^123456789")
    else:
        hit = hit | (folded.str.contains(_KEYBOARD) & (folded.str.len_chars() <= 12) & ~folded.str.contains(" "))
    if role in NAME_ROLES and names_check:
        # every word a filler: "Test Test", "Тест Тестович"
        hit = hit | folded.str.contains(_filler_words_regex())
    for pattern in patterns:
        hit = hit | col.str.contains(pattern)
    return hit.fill_null(False)


def placeholder_values(values: pl.Series, role: str | None, extra: frozenset[str] = frozenset(),
                       patterns: tuple[str, ...] = ()) -> pl.Series:
    """:func:`placeholder_expr` over ``values``, row by row, their folded form computed once: an eager select
    evaluates a sub-expression once per use, and placeholder_expr reads the folded value four to six times (42,000
    company names: 0.085 -> 0.03 s)."""
    frame = pl.DataFrame({"v": values}).with_columns(_folded(pl.col("v")).alias("f"))
    return frame.select(placeholder_expr(pl.col("v"), role, extra, patterns, folded=pl.col("f"))).to_series()


def _phone_placeholder_mask(values: pl.Series) -> pl.Series:
    """placeholder_expr for phone columns, with the word checks only on values that could be words.

    A value with no letters and 9+ digits can only be a filler by its digits (repeated or counting).
    """
    frame = pl.DataFrame({"v": values}).with_columns(pl.col("v").str.replace_all(r"[^\d+]", "").alias("d"))
    frame = frame.with_columns(
        (pl.col("v").str.contains(r"\p{L}") | (pl.col("d").str.len_chars() < 9)).fill_null(False).alias("small"),
        (
            pl.col("d").str.contains(_FILLER_PHONE_SEQUENCE)
            | _one_char_repeated(pl.col("d").str.replace(r"^(?:\+?[78]|\+?1)", ""), 6)
        ).fill_null(False).alias("digits_hit"),
    )
    mask = frame.get_column("digits_hit") & ~frame.get_column("small")
    small = frame.get_column("small")
    if small.any():
        sub = values.filter(small)
        mask = mask.clone().scatter(small.arg_true(), placeholder_values(sub, "phone"))
    return mask


def is_placeholder(value: str | None, role: str | None = None) -> bool:
    """True when ``value`` is a filler for a column of ``role`` (the scalar form of :func:`placeholder_expr`)."""
    if value is None:
        return False
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    return bool(frame.select(placeholder_expr(pl.col("v"), role)).item())


def placeholder_mask(values: pl.Series, role: str | None, extra: frozenset[str] = frozenset(),
                     patterns: tuple[str, ...] = ()) -> pl.Series:
    """:func:`placeholder_expr` for a Series, evaluated once per unique value when values repeat."""
    mask: pl.Series = memo_on_values(("placeholder", role, extra, patterns), values,
                                     lambda v: _placeholder_mask(v, role, extra, patterns))
    return mask.alias(values.name)


def _placeholder_mask(values: pl.Series, role: str | None, extra: frozenset[str],
                      patterns: tuple[str, ...]) -> pl.Series:
    if role in ("phone", "mobile") and not extra and not patterns:
        return _phone_placeholder_mask(values)
    # both ways give the same mask: the estimate only picks the cheaper (it costs a tenth of unique(), which a
    # column of mostly distinct values, e-mails, would pay for nothing: 0.08 s at 300k)
    if int(values.approx_n_unique()) * 2 < len(values):  # type: ignore[arg-type]
        uniques = values.drop_nulls().unique()
        hits = uniques.filter(placeholder_values(uniques, role, extra, patterns))
        return values.is_in(hits.implode()).fill_null(False) if len(hits) else pl.repeat(False, len(values), eager=True).alias("")
    frame = pl.DataFrame({"v": values}).with_columns(_folded(pl.col("v")).alias("f"))
    mask = frame.select(
        placeholder_expr(pl.col("v"), role, extra, patterns, names_check=False, folded=pl.col("f"))).to_series()
    if role in NAME_ROLES:
        # two stages: the all-words-are-fillers regex is costly, so it only sees values starting with a filler word
        words = pl.Series(sorted(FILLER_WORDS | extra), dtype=pl.String).implode()
        first = frame.get_column("f").str.extract(r"^(\S+)", 1)
        cand = (first.is_in(words).fill_null(False)) & ~mask
        if cand.any():
            sub = values.filter(cand)
            mask = mask.clone().scatter(cand.arg_true(), placeholder_values(sub, role, extra, patterns))
    return mask


def filler_regexes() -> dict[str, re.Pattern[str]]:
    """The built-in filler patterns, for documentation and tests."""
    return {"repeated": re.compile(_REPEATED), "keyboard": re.compile(_KEYBOARD), "email": re.compile(_FILLER_EMAIL),
            "phone_sequence": re.compile(_FILLER_PHONE_SEQUENCE)}
