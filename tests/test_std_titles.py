"""TITLE001: dictionary, compound titles, fuzzy fallback, seniority/function, user entries."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.rules.standardizers.titles import canonical_title, classify_title, default_dictionary
from tests._std_helpers import column, run


def test_variants_map_to_one_canonical_title():
    for v in ("Ген. директор", "Гендиректор", "генеральный директор", "CEO", "C.E.O.", "Chief Exec. Officer", "CEOn",
              "Генеральный диретор"):
        m = canonical_title(v)
        assert (m.en, m.ru, m.seniority, m.function) == ("CEO", "Генеральный директор", "C-level", "Management"), v
    assert canonical_title("главбух").en == "Chief Accountant"
    assert canonical_title("VP Sales").seniority == "VP"
    assert canonical_title("Mktg Mgr").en == "Marketing Manager"


def test_compound_titles_keep_both_roles():
    m = canonical_title("Founder & CEO")
    assert (m.en, m.ru, m.seniority) == ("Founder & CEO", "Основатель и генеральный директор", "Owner")
    assert canonical_title("основатель и ген. директор").ru == "Основатель и генеральный директор"


def test_unknown_titles_get_keywords_and_are_counted():
    assert classify_title("Senior Java Developer") == ("Specialist", "IT")
    assert classify_title("Зам. ген. директора по продажам")[1] == "Sales"
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


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([v for e in default_dictionary().entries for v in e.variants]))
def test_canonical_title_is_idempotent(variant):
    m = canonical_title(variant)
    assert m.en is not None
    assert canonical_title(m.en).en == m.en
    assert canonical_title(m.ru or m.en).en == m.en
