"""Countries: pure, vectorized knowledge of one kind of value, shared by rules, profile, matching, survivorship.

Countries written any way in Russian or English ("Россия", "РФ", "USA", "Соединённые Штаты")
to ISO 3166, display forms and a guess for a misspelled name (COUNTRY001 is a thin rule over it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from crmclean._lazy import fuzz, process
from crmclean._lazy import polars as pl
from crmclean.fields._data import data_lines, fold
from crmclean.fields._unique import map_unique

CountryOutput = Literal["alpha2", "alpha3", "name_en", "name_ru"]


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    name_en: str
    name_ru: str


def _key(text: str) -> str:
    """Lookup key: case/ё-folded, dots and extra spaces removed ("U.S.A." -> "usa")."""
    k = fold(text).replace(".", "")
    k = re.sub(r"[\s\-_,()]+", " ", k).strip()
    return k


@cache
def countries() -> dict[str, Country]:
    out: dict[str, Country] = {}
    for line in data_lines("countries.tsv"):
        parts = (line.split("\t") + [""] * 5)[:5]
        out[parts[0]] = Country(parts[0], parts[1], parts[2], parts[3] or parts[2])
    return out


@cache
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    # names first, then codes: a name always wins over a code that spells the same
    for line in data_lines("countries.tsv"):
        parts = (line.split("\t") + [""] * 5)[:5]
        a2, _a3, en, ru, other = parts
        for name in [en, ru, *[o for o in other.split("|") if o]]:
            if name:
                table.setdefault(_key(name), a2)
    for c in countries().values():
        table.setdefault(_key(c.alpha2), c.alpha2)
        if c.alpha3:
            table.setdefault(_key(c.alpha3), c.alpha2)
    return table


@cache
def _fuzzy_choices() -> tuple[list[str], list[str]]:
    keys = [k for k in _lookup() if len(k) >= 5]
    return keys, [_lookup()[k] for k in keys]


def alpha2_codes(values: pl.Series) -> pl.Series:
    """:func:`country_alpha2` of every value (null where unknown), computed once per run for equal columns (PHONE001
    reads each record's country for every phone column, twice)."""
    from crmclean.fields._memo import map_unique_fast, memo_on_values

    codes: pl.Series = memo_on_values(("country_alpha2",), values,
                                      lambda v: map_unique_fast(v, country_alpha2, pl.String))
    return codes


def country_alpha2(value: str) -> str | None:
    """ISO alpha-2 for a country written as a name (RU/EN), alpha-2 or alpha-3 code; None if unknown."""
    key = _key(value)
    hit = _lookup().get(key)
    if hit:
        return hit
    # "Россия, Москва" / "Moscow, Russia": try each comma-separated part
    if "," in value:
        for part in value.split(","):
            hit = _lookup().get(_key(part))
            if hit:
                return hit
    return None


# Names two countries share: never read as either ("Congo" is Brazzaville's or Kinshasa's), the finding names both
_AMBIGUOUS = {"congo": ("CG", "CD"), "конго": ("CG", "CD"), "virgin islands": ("VG", "VI"),
              "виргинские острова": ("VG", "VI")}


def ambiguous_country(value: str) -> tuple[str, ...] | None:
    """The countries a name shared by several stands for ("Congo" -> CG, CD), or None."""
    return _AMBIGUOUS.get(_key(value))


def country_suggestion(value: str, min_score: float = 90) -> str | None:
    """A likely country for a misspelled name ("Росиия" -> RU), or None."""
    key = _key(value)
    if len(key) < 5 or key in _AMBIGUOUS:
        return None
    keys, codes = _fuzzy_choices()
    best = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=min_score)
    return codes[best[2]] if best else None


def country_display(alpha2: str, output: CountryOutput = "alpha2") -> str:
    c = countries().get(alpha2)
    if c is None:
        return alpha2
    return {"alpha2": c.alpha2, "alpha3": c.alpha3 or c.alpha2, "name_en": c.name_en, "name_ru": c.name_ru}[output]


def country_code(text: str) -> str | None:
    """ISO alpha-2 for a country name or code in English or Russian ('Россия', 'USA', 'de'), else None.

    The one table COUNTRY001 converts with, so a value it would convert is never flagged.
    """
    return country_alpha2(text)


def country_codes(values: pl.Series) -> pl.Series:
    """Vectorized :func:`country_code` (one lookup per distinct value)."""
    return map_unique(values, country_code, pl.String)
