"""TITLE001: dictionary, compound titles, fuzzy fallback, seniority/function, user entries."""

from __future__ import annotations

import polars as pl

from tests._std_helpers import column, run


def test_unknown_titles_get_keywords_and_are_counted():
    result = run({"Должность": ["Водитель", "Ген. директор", "Водитель"]}, "TITLE001")
    assert column(result, "Должность") == ["Водитель", "Генеральный директор", "Водитель"]
    assert result.unknown_titles == 2
    assert result.derived.get_column("Должность__seniority").to_list()[1] == "C-level"


def test_language_option_and_fuzzy_suggestions():
    result = run({"Title": ["CEO", "Ген. директор", "Sales Managr"]}, "TITLE001",
                 extra="  rules:\n    TITLE001: {language: en}\n")
    assert column(result, "Title") == ["CEO", "CEO", "Sales Managr"]
    fuzzy = result.changes.filter(pl.col("confidence") == "suggest")
    assert fuzzy.get_column("after").to_list() == ["Sales Manager"]


def test_user_dictionary_extends_the_shipped_one():
    extra = ("  rules:\n    TITLE001:\n      language: ru\n      titles:\n"
             "        - {en: Driver, ru: Водитель, seniority: Specialist, function: Operations, variants: [шофёр]}\n")
    result = run({"Должность": ["шофёр", "водитель"]}, "TITLE001", extra=extra)
    assert column(result, "Должность") == ["Водитель", "Водитель"]
    assert result.unknown_titles == 0
