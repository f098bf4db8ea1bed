"""Countries written any way in Russian or English ("Россия", "РФ", "USA", "Соединённые Штаты") to ISO 3166 (COUNTRY001)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import polars as pl
from pydantic import Field
from rapidfuzz import fuzz, process

from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    StdResult,
    data_lines,
    derived_name,
    findings_where,
    fold,
    map_unique_fast,
)

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


def country_suggestion(value: str, min_score: float = 90) -> str | None:
    """A likely country for a misspelled name ("Росиия" -> RU), or None."""
    key = _key(value)
    if len(key) < 5:
        return None
    keys, codes = _fuzzy_choices()
    best = process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=min_score)
    return codes[best[2]] if best else None


def country_display(alpha2: str, output: CountryOutput = "alpha2") -> str:
    c = countries().get(alpha2)
    if c is None:
        return alpha2
    return {"alpha2": c.alpha2, "alpha3": c.alpha3 or c.alpha2, "name_en": c.name_en, "name_ru": c.name_ru}[output]


class CountryOptions(RuleOptions):
    output: CountryOutput = Field("alpha2", description="Write ISO alpha2 (RU), alpha3 (RUS), name_en (Russia) or "
                                  "name_ru (Россия).")
    fuzzy_score: float = Field(90, description="Minimum similarity (0-100) to propose a country for a misspelled "
                               "name (as `suggest`).")


@register
class CountryIso(ColumnRule):
    """Write countries as ISO 3166 codes (or one name) whatever language or abbreviation they came in.

    What it does: recognizes country names in Russian and English, common abbreviations
    (РФ, США, UK, UAE, ОАЭ) and ISO alpha-2/alpha-3 codes, and writes ISO alpha-2 (or
    alpha-3 / the English or Russian name, by ``output``). Misspelled names close to a
    country are proposed as `suggest`; anything else is flagged and kept.

    Why: "Россия", "РФ", "Russia" and "RU" split one country into four in every report
    and segment, and phone parsing needs the record's country as a code.
    """

    code = "COUNTRY001"
    name = "country.iso"
    summary = "Countries in Russian/English names or codes ('Россия', 'РФ', 'USA') to ISO 3166 alpha-2 (or name)."
    roles = ("country",)
    order = 60
    Options = CountryOptions
    examples = (
        Example("Россия", "RU"),
        Example("РФ", "RU"),
        Example("Russian Federation", "RU"),
        Example("USA", "US"),
        Example("Соединённые Штаты", "US"),
        Example("Великобритания", "GB"),
        Example("Германия", "DE", "output: name_en gives 'Germany'"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, CountryOptions)
        code = map_unique_fast(values, country_alpha2, pl.String)
        shown = map_unique_fast(code, lambda a2: country_display(a2, opts.output), pl.String)
        after = shown.fill_null(values).alias(column)
        edits = [ColumnEdit(column, after, f"country → ISO {opts.output}")]
        unknown = code.is_null() & values.is_not_null()
        findings = None
        if unknown.any():
            guess = map_unique_fast(values.filter(unknown), lambda v: country_suggestion(v, opts.fuzzy_score), pl.String)
            full_guess = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("").scatter(unknown.arg_true(), guess)
            suggested = map_unique_fast(full_guess, lambda a2: country_display(a2, opts.output), pl.String)
            if suggested.is_not_null().any():
                edits.append(ColumnEdit(column, suggested.fill_null(after), "misspelled country name", "suggest"))
            findings = findings_where(unknown & full_guess.is_null(), values, column, severity="info",
                                      message="unknown country", hint="use a country name or an ISO code")
        return StdResult(edits=edits, findings=findings, derived={derived_name(column, "iso2"): code})
