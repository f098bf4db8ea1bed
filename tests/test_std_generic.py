"""MAP001, REGEX001, MAP002 (picklist) and CASE001: rules configured for any column."""

from __future__ import annotations

import polars as pl

from tests._std_helpers import column, run


def test_value_map_with_case_insensitive_keys():
    extra = "  rules:\n    MAP001:\n      by_column:\n        city: {мск: Москва, msk: Москва, 'г. москва': Москва}\n"
    result = run({"Город": ["МСК", "Msk", "г. Москва", "Казань"]}, "MAP001", extra=extra)
    assert column(result, "Город") == ["Москва", "Москва", "Москва", "Казань"]


def test_regex_replace():
    extra = ("  rules:\n    REGEX001:\n      replacements:\n"
             "        - {columns: [city], pattern: '^г\\.\\s*', replace: ''}\n"
             "        - {columns: [Компания], pattern: '\\s*\\(копия\\)$', replace: ''}\n")
    result = run({"Город": ["г. Москва", "Тверь"], "Компания": ["ООО Ромашка (копия)", "Acme"]}, "REGEX001",
                 extra=extra)
    assert column(result, "Город") == ["Москва", "Тверь"]
    assert column(result, "Компания") == ["ООО Ромашка", "Acme"]


def test_picklist_fixes_case_suggests_close_and_flags_the_rest():
    extra = "  rules:\n    MAP002:\n      by_column:\n        Source: [Website, Referral, Выставка]\n"
    result = run({"Source": ["website", "Webiste", "выставка", "радио"]}, "MAP002", extra=extra)
    assert column(result, "Source") == ["Website", "Webiste", "Выставка", "радио"]
    assert result.changes.filter(pl.col("confidence") == "suggest").get_column("after").to_list() == ["Website"]
    assert result.findings.get_column("value").to_list() == ["радио"]


def test_generic_case():
    extra = "  rules:\n    CASE001: {by_column: {Currency: upper, Status: sentence}}\n"
    result = run({"Currency": ["rub", "Usd"], "Status": ["HOT LEAD", "cold"]}, "CASE001", extra=extra)
    assert column(result, "Currency") == ["RUB", "USD"]
    assert column(result, "Status") == ["Hot lead", "Cold"]
