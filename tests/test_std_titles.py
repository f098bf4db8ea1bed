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


def test_a_related_title_is_read_never_rewritten():
    # probe (session 10): "Директор по развитию" was written "Менеджер по развитию бизнеса" (a director made a
    # manager), "Закупщик" "Руководитель отдела закупок", "Ведущий юрист" "Юрист", "Frontend Developer"
    # "Software Developer": another rank or a narrower profession is another title, not a spelling of it
    titles = ["Директор по развитию", "Закупщик", "Менеджер по закупкам", "Ведущий юрист", "Главный специалист",
              "Key Account Manager", "Frontend Developer", "Co-founder", "President & CEO", "Гл. бухгалтер"]
    result = run({"Должность": titles}, "TITLE001", extra="  derived: all\n")
    assert column(result, "Должность") == [*titles[:-1], "Главный бухгалтер"]  # a spelling is still written
    assert result.unknown_titles == 0
    seniority = result.derived.get_column("Должность__seniority").to_list()
    assert [seniority[0], *seniority[2:7]] == ["Director", "Manager", "Specialist", "Specialist", "Manager", "Specialist"]
    # the family's matching key stays: a buyer and a procurement manager of one person still agree
    canonical = result.derived.get_column("Должность__canonical").to_list()
    assert canonical[1] == canonical[2] == "Head of Procurement"
