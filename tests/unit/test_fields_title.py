"""Job-title knowledge (crmclean.fields.title): dictionary, compound titles, keywords for seniority/function."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.title import canonical_title, classify_title, default_dictionary


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


def test_unknown_titles_get_seniority_and_function_from_keywords():
    assert classify_title("Senior Java Developer") == ("Specialist", "IT")
    assert classify_title("Зам. ген. директора по продажам")[1] == "Sales"


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([v for e in default_dictionary().entries for v in e.variants]))
def test_canonical_title_is_idempotent(variant):
    m = canonical_title(variant)
    assert m.en is not None
    assert canonical_title(m.en).en == m.en
    assert canonical_title(m.ru or m.en).en == m.en
