"""Job-title rule (TITLE001): a thin declaration over :mod:`crmclean.fields.title`."""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.title import Language, TitleEntry, build_dictionary, default_dictionary
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import ColumnRule, StdResult, derived_name, findings_where, map_unique_fast


class TitleOptions(RuleOptions):
    language: Language = Field("same", description="Language of the canonical title written: same (default: each "
                               "value keeps its language, an English title is never rewritten in Russian), auto (the "
                               "column's majority language), ru or en.")
    fuzzy_score: float = Field(90, description="Minimum rapidfuzz ratio (0-100) for a title outside the dictionary "
                               "to be matched to the closest variant.")
    fuzzy_confidence: Literal["fix", "suggest"] = Field("suggest", description="Whether fuzzy matches are applied "
                                                        "(fix) or only proposed (suggest).")
    titles: list[TitleEntry] = Field(default_factory=list, description="Extra or overriding dictionary entries: "
                                     "{en, ru, seniority, function, variants}. An entry with an existing `en` replaces it.")
    dictionary: str | None = Field(None, description="A YAML file with more entries in the same shape.")
    flag_unknown: bool = Field(True, description="Report titles that matched nothing (info).")


@functools.cache
def _STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"en": pl.String, "ru": pl.String, "seniority": pl.String, "function": pl.String,
                     "how": pl.String})


@register
class TitleCanonical(ColumnRule):
    """Map job-title variants, abbreviations and typos to one canonical title, with seniority and function.

    What it does: looks each title up in a shipped Russian/English dictionary ("Ген.
    директор", "Гендиректор", "CEO", "C.E.O.", "Chief Exec. Officer", "CEOn" →
    Генеральный директор / CEO; "главбух" → Главный бухгалтер; "VP Sales", "Mktg Mgr"…),
    keeps both roles of compound titles ("Founder & CEO", "Основатель и генеральный
    директор"), falls back to fuzzy matching (rapidfuzz, ``fuzzy_score``) proposed as
    `suggest`, and leaves unknown titles unchanged (counted and reported as info). A title
    the dictionary lists as *related* to an entry (a rank up or down: "Ведущий юрист", "Key
    Account Manager", "Директор по развитию"; a narrower profession: "Frontend Developer")
    is another title: it gets the entry's function, its own rank words' seniority, and is
    never rewritten.
    Seniority (C-level, VP, Director, Head, Manager, Specialist …) and function (Sales,
    Marketing, Finance, IT …) go to the match profile and, with ``derived: all``, to
    ``<column>__seniority`` / ``__function``; unknown titles still get them from keywords.

    Why: the same role written ten ways cannot be segmented, routed or scored; a
    canonical title and its seniority make "all C-level contacts in finance" a filter.
    """

    code = "TITLE001"
    name = "title.canonical"
    summary = "Map job-title variants/typos (Ген. директор, C.E.O., главбух, VP Sales) to one title + seniority + function."
    roles = ("job_title",)
    order = 90
    reads_roles = ()
    Options = TitleOptions
    examples = (
        Example("Ген. директор", "Генеральный директор"),
        Example("гендиректор", "Генеральный директор"),
        Example("C.E.O.", "CEO"),
        Example("Chief Exec. Officer", "CEO"),
        Example("главбух", "Главный бухгалтер"),
        Example("Mktg Mgr", "Marketing Manager"),
        Example("Founder & CEO", "Founder & CEO"),
        Example("основатель и ген. директор", "Основатель и генеральный директор"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, TitleOptions)
        dictionary = (
            build_dictionary(opts.titles, opts.dictionary) if (opts.titles or opts.dictionary) else default_dictionary()
        )
        score = opts.fuzzy_score

        def match(v: str) -> dict[str, Any]:
            m = dictionary.match(v, score)
            return {"en": m.en, "ru": m.ru, "seniority": m.seniority, "function": m.function, "how": m.how}

        info = map_unique_fast(values, match, _STRUCT()).struct.unnest()
        cyr = values.str.contains(r"[А-Яа-яЁё]").fill_null(False)
        known = info.get_column("en").is_not_null()
        language = opts.language
        if language == "auto":
            share = float((cyr & known).sum()) / max(1, int(known.sum()))
            language = "ru" if share >= 0.5 else "en"
        if language == "same":
            title = info.get_column("en").zip_with(~cyr, info.get_column("ru"))
        else:
            title = info.get_column(language)
        how = info.get_column("how")
        # a related title (a higher or lower rank, another profession of the entry's family) is read, not rewritten
        after = title.zip_with((how != "related").fill_null(True), values).fill_null(values).alias(column)
        exact = how.is_in(["exact", "compound"])
        fuzzy = how == "fuzzy"
        edits = [ColumnEdit(column, after.zip_with(exact | ~known, values), "canonical job title")]
        if fuzzy.any():
            edits.append(ColumnEdit(column, after, "closest dictionary title (fuzzy match)",
                                    opts.fuzzy_confidence))
        findings = None
        if opts.flag_unknown:
            unknown = ~known & values.is_not_null()
            findings = findings_where(unknown, values, column, severity="info", message="job title not in the dictionary",
                                      hint="add it under standardize.rules.TITLE001.titles")
        derived = {
            derived_name(column, "canonical"): info.get_column("en"),
            derived_name(column, "seniority"): info.get_column("seniority"),
            derived_name(column, "function"): info.get_column("function"),
        }
        return StdResult(edits=edits, findings=findings, derived=derived)
