"""PHONE001 on records with no country: another country's number is suggested, never written as a fix (issue 12)."""

from __future__ import annotations

import polars as pl

from crmclean.fields.phone import foreign_reading
from tests._std_helpers import column, run

US_IN_RU = ["(212) 555-0142", "1-212-555-0142", "(917) 555-0142", "415-555-2671", "8 (495) 123-45-67",
            "916 555-12-34", "9165551234", "+1 212 555 0142"]


def test_foreign_reading_kinds():
    assert foreign_reading("(212) 555-0142", "RU").kind == "elsewhere"  # type: ignore[union-attr]
    assert foreign_reading("(917) 555-0142", "RU").e164 == "+19175550142"  # type: ignore[union-attr]
    assert foreign_reading("(917) 555-0142", "RU").kind == "ambiguous"  # type: ignore[union-attr]
    assert foreign_reading("44 20 7946 0958", "RU").e164 == "+442079460958"  # type: ignore[union-attr]
    for sure in ("8 (495) 123-45-67", "916 555-12-34", "9165551234", "+1 212 555 0142", "79161234567"):
        assert foreign_reading(sure, "RU") is None, sure


def test_us_numbers_in_a_russian_file_are_suggested_not_fixed():
    result = run({"Phone": US_IN_RU}, "PHONE001", "PHONE002")
    assert column(result, "Phone") == [
        "(212) 555-0142", "1-212-555-0142", "(917) 555-0142", "415-555-2671",  # never a +7 number, never a fix
        "+74951234567", "+79165551234", "+79165551234", "+12125550142",
    ]
    info = result.findings.filter(pl.col("rule") == "PHONE001")
    assert info.get_column("record_id").to_list() == ["1", "2", "3", "4"]  # the count is reported
    assert set(info.get_column("severity").to_list()) == {"info"}
    assert "+12125550142" in info.get_column("message")[0]
    applied = run({"Phone": US_IN_RU}, "PHONE001", apply_suggestions=True)
    assert column(applied, "Phone")[:4] == ["+12125550142", "+12125550142", "+19175550142", "+14155552671"]


def test_a_record_with_a_country_is_read_in_it():
    result = run({"Phone": ["(917) 555-0142", "(917) 555-0142"], "Country": ["RU", "US"]}, "COUNTRY001", "PHONE001")
    assert column(result, "Phone") == ["+79175550142", "+19175550142"]
    assert result.findings.filter(pl.col("rule") == "PHONE001").height == 0


def test_alpha2_codes_once_per_run_and_same_as_per_value() -> None:
    from crmclean.fields._memo import clear_memo
    from crmclean.fields.country import alpha2_codes, country_alpha2

    values = pl.Series("Страна", ["Россия", None, "USA", "Нарния", "RU", "Россия"])
    clear_memo()
    first = alpha2_codes(values)
    assert first.to_list() == [None if v is None else country_alpha2(v) for v in values.to_list()]
    assert alpha2_codes(values.clone()) is first  # PHONE001 asks again for every phone column: read once
    clear_memo()
