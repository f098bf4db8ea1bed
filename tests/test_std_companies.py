"""COMPANY001: legal forms normalized or split, quotes, matching key; INN/KPP/OGRN; countries."""

from __future__ import annotations

import polars as pl

from crmclean.fields.country import country_alpha2
from crmclean.fields.taxid import clean_tax_id, inn_error, lost_leading_zero, ogrn_error, tax_id_kind
from tests._std_helpers import column, run


def test_split_mode_moves_the_form_to_its_own_column():
    result = run({"Company": ["ООО «Ромашка»", "Acme LLC"]}, "COMPANY001",
                 extra="  rules:\n    COMPANY001: {mode: split}\n")
    assert column(result, "Company") == ["Ромашка", "Acme"]
    assert column(result, "Company__legal_form") == ["ООО", "LLC"]


def test_tax_ids_cleaned_and_checked():
    assert clean_tax_id("ИНН 7707 083 893") == "7707083893"
    assert clean_tax_id("КПП: 7707 01 001") == "770701001"
    assert inn_error("7707083893") is None
    assert "checksum" in (inn_error("7707083894") or "")
    assert "8 digits" in (inn_error("77070838") or "")
    assert inn_error("500100732259") is None  # a 12-digit INN of a person
    assert ogrn_error("1027700132195") is None
    assert lost_leading_zero("274062111") == "0274062111"
    assert tax_id_kind("1027700132195") == "ogrn"


def test_tax_id_rules_flag_and_detect_wrong_columns():
    result = run({"ИНН": ["ИНН 7707-083-893", "7707083894", "1027700132195"], "КПП": ["770701001", "7707083893", None],
                  "Компания": ["ООО Ромашка", "ООО «Лютик» ИНН 7707083893", None]},
                 "INN001", "INN002", "INN003", "INN005")
    assert column(result, "ИНН")[0] == "7707083893"
    f = result.findings
    assert f.filter(pl.col("rule") == "INN002").get_column("record_id").to_list() == ["2", "3"]
    wrong = f.filter(pl.col("rule") == "INN005")
    assert set(zip(wrong["record_id"], wrong["column"], strict=True)) == {("2", "КПП"), ("3", "ИНН"), ("2", "Компания")}


def test_countries_to_iso():
    for raw, code in {"Россия": "RU", "РФ": "RU", "Russian Federation": "RU", "USA": "US", "U.S.A.": "US",
                      "Соединённые Штаты": "US", "Великобритания": "GB", "Germany": "DE", "rus": "RU",
                      "Moscow, Russia": "RU", "Беларусь": "BY"}.items():
        assert country_alpha2(raw) == code, raw
    result = run({"Страна": ["Россия", "Росиия", "Нарния"]}, "COUNTRY001")
    assert column(result, "Страна") == ["RU", "Росиия", "Нарния"]
    assert result.changes.filter(pl.col("confidence") == "suggest").get_column("after").to_list() == ["RU"]
    assert result.findings.get_column("value").to_list() == ["Нарния"]
    named = run({"Country": ["РФ"]}, "COUNTRY001", extra="  rules:\n    COUNTRY001: {output: name_en}\n")
    assert column(named, "Country") == ["Russia"]


def test_a_neighbours_own_spelling_of_its_name_is_that_country():
    # probe (session 10): 'Қазақстан' in a Kazakh counterparty's row was "not a recognizable country" (warning)
    for raw, code in {"Қазақстан": "KZ", "Қазақстан Республикасы": "KZ", "Україна": "UA", "O'zbekiston": "UZ",
                      "Кыргыз Республикасы": "KG", "Рэспубліка Беларусь": "BY", "საქართველო": "GE"}.items():
        assert country_alpha2(raw) == code, raw


def test_a_name_two_countries_share_is_flagged_with_both():
    # probe (session 10): 'Congo' was written CG (Brazzaville) as a fix, though DR Congo (CD) goes by it too;
    # CD's Russian name was English; 'Republic of Korea', 'Ivory Coast', 'Eswatini', 'Burma' were not countries
    result = run({"Country": ["Congo", "Конго", "DR Congo", "Republic of Korea", "Ivory Coast", "Burma"]}, "COUNTRY001")
    assert column(result, "Country") == ["Congo", "Конго", "CD", "KR", "CI", "MM"]
    assert result.findings.get_column("message").to_list() == ["one name of two countries"] * 2
    assert "(CG) or" in result.findings.get_column("hint").to_list()[0]
    named = run({"Country": ["CD"]}, "COUNTRY001", extra="  rules:\n    COUNTRY001: {output: name_ru}\n")
    assert column(named, "Country") == ["Демократическая Республика Конго"]
