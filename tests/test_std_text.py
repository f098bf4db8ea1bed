"""TEXT001 whitespace, TEXT002 case and PLACEHOLDER001 fillers on Russian and English values."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.placeholder import is_placeholder
from crmclean.rules.standardizers.text import clean_whitespace, clean_whitespace_expr, fix_case
from tests._std_helpers import column, run


def test_whitespace_trims_collapses_and_removes_invisible_characters():
    result = run({"Company": ["  ООО\u00a0«Ромашка»  ", "Acme\u200b  Corp", "\u00a0 ", "Иван\tПетров"]}, "TEXT001")
    assert column(result, "Company") == ["ООО «Ромашка»", "Acme Corp", None, "Иван Петров"]
    assert set(result.changes.get_column("rule")) == {"TEXT001"}
    assert result.changes.height == 4


def test_whitespace_keeps_line_breaks_in_notes():
    result = run({"Notes": ["первая строка  \n  вторая\u00a0строка"]}, "TEXT001", roles={"Notes": "notes"})
    assert column(result, "Notes") == ["первая строка\nвторая строка"]


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("ab Ив\u00a0\u200b\t\n.«»")), max_size=30))
def test_whitespace_is_idempotent_and_vectorized_form_agrees(text):
    once = clean_whitespace(text)
    assert once is None or clean_whitespace(once) == once
    vec = pl.DataFrame({"v": [text]}).select(clean_whitespace_expr(pl.col("v"))).item()
    assert vec == once


def test_case_fixes_shouting_and_flat_values_but_keeps_acronyms():
    assert fix_case("ООО РОМАШКА", "sentence") == "ООО Ромашка"
    assert fix_case("ооо «торговый дом»", "sentence") == "ООО «Торговый дом»"
    assert fix_case("ACME CORPORATION LLC", "title") == "Acme Corporation LLC"
    assert fix_case("IBM") == "IBM"
    assert fix_case("HSBC BANK PLC") == "HSBC Bank PLC"
    assert fix_case("ЗАО МТС ТЕЛЕКОМ", "sentence") == "ЗАО МТС Телеком"
    assert fix_case("ростов-на-дону") == "Ростов-на-Дону"
    assert fix_case("bank of america") == "Bank of America"
    assert fix_case("McDonald's") == "McDonald's"  # mixed case: typed deliberately


def test_case_rule_uses_sentence_case_for_russian_companies_and_title_case_for_cities():
    result = run({"Компания": ["ООО РОМАШКА ПЛЮС", "acme gmbh"], "Город": ["санкт-петербург", "NEW YORK"]},
                 "TEXT002")
    assert column(result, "Компания") == ["ООО Ромашка плюс", "Acme GmbH"]
    assert column(result, "Город") == ["Санкт-Петербург", "New York"]


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("abcXYZабвЮЯ -«»'ООО")), max_size=25))
def test_fix_case_is_idempotent(text):
    once = fix_case(text, "sentence")
    assert fix_case(once, "sentence") == once


def test_placeholders_recognized_by_role():
    assert is_placeholder("-", "company")
    assert is_placeholder("нет", "company")
    assert is_placeholder("N/A", "job_title")
    assert is_placeholder("noemail@noemail.com", "email")
    assert is_placeholder("test@test.com", "email")
    assert is_placeholder("+7 (000) 000-00-00", "phone")
    assert is_placeholder("89999999999", "phone")
    assert is_placeholder("123456", "phone")
    assert is_placeholder("Test Test", "full_name")
    assert is_placeholder("000", "inn")
    assert not is_placeholder("Иван Петров", "full_name")
    assert not is_placeholder("ivan@mail.ru", "email")
    assert not is_placeholder("+7 916 123-45-67", "phone")
    assert not is_placeholder("Ли", "last_name")
    assert not is_placeholder("7707083893", "inn")


def test_placeholder_rule_flags_and_proposes_emptying_then_empties_by_config():
    cols = {"Компания": ["нет", "ООО «Ромашка»"], "Email": ["noemail@noemail.com", "ivan@acme.ru"]}
    flagged = run(cols, "PLACEHOLDER001")
    assert column(flagged, "Компания") == ["нет", "ООО «Ромашка»"]
    assert set(flagged.changes.get_column("confidence")) == {"suggest"}
    assert flagged.findings.height == 2
    emptied = run(cols, "PLACEHOLDER001", extra="  rules:\n    PLACEHOLDER001: {empty: true}\n")
    assert column(emptied, "Компания") == [None, "ООО «Ромашка»"]
    assert column(emptied, "Email") == [None, "ivan@acme.ru"]


phone_like = st.text(alphabet=st.sampled_from(list("0123456789+-() 78нетn/ax")), max_size=16)


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(phone_like, min_size=1, max_size=10))
def test_phone_filler_mask_agrees_with_the_expression(values):
    from crmclean.fields.placeholder import placeholder_expr, placeholder_mask

    fast = placeholder_mask(pl.Series(values, dtype=pl.String), "phone").to_list()
    full = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(
        placeholder_expr(pl.col("v"), "phone")).to_series().to_list()
    assert fast == full


def test_look_alike_letters_of_the_other_alphabet_are_replaced_when_the_script_is_certain():
    # probe (session 10): "Сeмёнов" with a Latin e stood as typed, so it never matched "Семёнов"
    values = ["Сeмёнов", "ООО «Рoмашка»", "Ivanоv", "ivanоv@mail.ru", "Сoc", "Пaul", "IT-директор", "А123ВС", None]
    result = run({"Фамилия": values}, "TEXT001")
    assert column(result, "Фамилия") == ["Семёнов", "ООО «Ромашка»", "Ivanov", "ivanov@mail.ru", "Сoc", "Пaul",
                                         "IT-директор", "А123ВС", None]


def test_a_cyrillic_acronym_the_dictionary_lacks_is_never_proposed_in_lower_case():
    # probe (session 10): 'ФГБУ «ЦНИИ»' got the suggestion 'ФГБУ «Цнии»'
    result = run({"Компания": ["ФГБУ «ЦНИИ»", "ООО «ДОМ»", "ООО РОМАШКА"]}, "TEXT002")
    assert column(result, "Компания") == ["ФГБУ «ЦНИИ»", "ООО «Дом»", "ООО Ромашка"]
    assert result.changes.filter(pl.col("record_id") == "1").is_empty()


def test_a_place_is_cased_as_a_place():
    # probe (session 10): in a city column 'Г. МОСКВА' was written 'Г. Москва', 'ST. PETERSBURG' 'ST. Petersburg',
    # and (this session's acronym rule, meant for company names) 'РОСТОВ-НА-ДОНУ' 'Ростов-на-ДОНУ', 'НУР-СУЛТАН'
    # 'НУР-Султан'; 'СОЧИ' was kept as if an acronym
    values = ["Г. МОСКВА", "ST. PETERSBURG", "РОСТОВ-НА-ДОНУ", "НУР-СУЛТАН", "КНЯЖПОГОСТСКИЙ Р-Н", "СОЧИ", "СПБ"]
    result = run({"Город": values}, "TEXT002", roles={"Город": "city"})
    assert column(result, "Город") == ["г. Москва", "St. Petersburg", "Ростов-на-Дону", "Нур-Султан",
                                       "Княжпогостский р-н", "Сочи", "СПБ"]
