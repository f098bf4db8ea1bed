"""Record-level checks on a messy RU/EN contacts table: required fields, picklists, formats, uniqueness,
ranges, cross-field rules and CRM hygiene (orphans, owners, stale, free text)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from _audit_fixture import contacts_frame

from crmclean.config import parse_rules
from crmclean.errors import ConfigError
from crmclean.rules.base import find_rule, is_check
from crmclean.table import finalize_table
from crmclean.validate import exit_code_for, validate_table

TODAY = date(2026, 11, 23)


def fixture_table(object_type: str | None = None):  # type: ignore[no-untyped-def]
    return finalize_table(contacts_frame(), source="fixture", kind="csv", id_column="Id", object_type=object_type)


def run(rules_yaml: str = "version: 1\n", select: list[str] | None = None, table=None) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    res = validate_table(table or fixture_table(), parse_rules(rules_yaml), today=TODAY, select=select)
    return res.findings


def ids(findings: pl.DataFrame, rule: str) -> set[str]:
    # a retired code names the rule that replaced it (REQ002 -> PLACEHOLDER001: its findings in required fields)
    cls = find_rule(rule)
    code = cls.code if cls is not None else rule
    mine = findings.filter(pl.col("rule") == code)
    if cls is not None and rule.upper() in cls.aliases:
        mine = mine.filter(cls.kpi_findings())
    return set(mine.get_column("record_id").to_list())


def test_every_finding_names_rule_record_column_severity_and_hint() -> None:
    f = run()
    assert f.height > 10
    assert f.filter(pl.col("rule").is_null() | pl.col("record_id").is_null() | pl.col("column").is_null()).height == 0
    assert set(f.get_column("severity").unique()) <= {"error", "warning", "info"}
    assert f.filter(pl.col("hint").is_null() | (pl.col("hint") == "")).height == 0
    for code in f.get_column("rule").unique():
        cls = find_rule(code)
        assert cls is not None and cls.examples and cls.description() and is_check(cls)  # validate runs it


def test_required_fields_empty_and_placeholder() -> None:
    f = run()
    assert ids(f, "REQ001") == {"C08"}  # no email and no phone
    assert ids(f, "REQ002") == {"C07"}  # "-" in both


def test_required_fields_from_the_rules_file() -> None:
    f = run("validate:\n  required:\n    contacts: [company, 'Должность', inn]\n", select=["REQ001"])
    assert ids(f, "REQ001") == {"C05", "C06", "C07", "C11"}  # no company (C07) or no INN (the English ones)


def test_required_field_that_is_not_a_column_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Телефон2"):
        run("validate:\n  required:\n    contacts: [Телефон2]\n", select=["REQ001"])


def test_picklist_with_closest_match_hint_and_case_variant() -> None:
    rules = "validate:\n  picklists:\n    city: [Москва, Санкт-Петербург, Казань, Новосибирск, New York, Berlin]\n"
    f = run(rules, select=["PICKLIST001", "PICKLIST002"])
    assert ids(f, "PICKLIST002") == {"C02"}  # "москва"
    miss = f.filter(pl.col("rule") == "PICKLIST001")
    hints = dict(zip(miss.get_column("value"), miss.get_column("hint"), strict=True))
    assert "Новосибирск" in hints["Новосибриск"]
    assert set(hints) == {"г. Москва", "Moscow", "Новосибриск"}


def test_formats_regex_length_characters() -> None:
    rules = """validate:
  formats:
    full_name: {max_length: 19, allowed_chars: "А-Яа-яЁёA-Za-z .-"}
    ИНН: {regex: "\\\\d{10}|\\\\d{12}", severity: warning}
"""
    f = run(rules, select=["FORMAT001", "FORMAT002", "FORMAT003"])
    assert ids(f, "FORMAT001") == {"C10"}  # 9 digits
    assert f.filter(pl.col("rule") == "FORMAT001").get_column("severity").to_list() == ["warning"]
    assert ids(f, "FORMAT002") == {"C01", "C02"}  # XSS and the long ФИО
    assert ids(f, "FORMAT003") == {"C01"}  # < > ( ) /


def test_unique_column() -> None:
    f = run("validate:\n  unique: [inn]\n", select=["UNIQUE001"])
    assert ids(f, "UNIQUE001") == {"C01", "C02", "C03", "C08", "C12"}
    hint = f.filter(pl.col("record_id") == "C02").get_column("hint")[0]
    assert hint.startswith("5 records share this value")


def test_unique_inn_lets_branches_with_their_own_kpp_through() -> None:
    # Сбербанк's head office and two branches: one INN, three KPPs (three registrations, НК РФ ст. 83) — no repeat;
    # a record without KPP beside another of its INN may be a copy of either: flagged, with the INN read cleaned
    frame = pl.DataFrame({
        "Id": ["1", "2", "3", "4", "5"],
        "Наименование": ["ПАО Сбербанк", "Сбербанк Поволжский банк", "Сбербанк Северо-Западный банк", "ООО Ромашка",
                         "ООО «Ромашка»"],
        "ИНН": ["7707083893", "7707083893", "7707083893", "7702070139", "ИНН 7702 070 139"],
        "КПП": ["773601001", "631602006", "784243001", "770201001", ""],
    })
    table = finalize_table(frame, source="t.csv", kind="csv", id_column="Id", object_type="companies")
    assert ids(run(select=["UNIQUE001"], table=table), "UNIQUE001") == {"4", "5"}


def test_numeric_ranges() -> None:
    frame = pl.DataFrame({"Id": ["1", "2", "3", "4", "5"], "Компания": ["ООО «А»"] * 5,
                          "Численность": ["50", "-5", "около 50", "1 200", "12.5"]})
    table = finalize_table(frame, source="t", kind="csv", id_column="Id")
    f = run("version: 1\n", select=["RANGE001", "RANGE002"], table=table)
    assert ids(f, "RANGE001") == {"2", "5"}
    assert ids(f, "RANGE002") == {"3"}


def test_cross_field_checks() -> None:
    f = run()
    assert ids(f, "XFIELD001") == {"C06"}  # +49 number, US record
    assert ids(f, "XFIELD002") == {"C12"}  # other.ru vs romashka.ru (gmial.com typo is not a mismatch)
    assert ids(f, "XFIELD003") == {"C08"}  # ИП with a 10-digit INN
    assert ids(f, "XFIELD004") == {"C09"}  # ООО with a 12-digit INN


def test_hygiene_orphan_owner_stale_apart() -> None:
    f = run()
    assert ids(f, "ORPHAN001") == {"C07"}
    assert ids(f, "OWNER001") == {"C07"}
    assert ids(f, "STALE001") == {"C07"}  # modified 2021
    assert ids(f, "STALE002") == {"C10"}  # never
    assert ids(f, "STALE003") == {"C08"}  # "давно"
    assert ids(run("validate:\n  stale_days: 60\n", select=["STALE001"]), "STALE001") >= {"C04", "C07", "C09"}


def test_inactive_owner_with_spelling_hint() -> None:
    f = run("validate:\n  active_owners: [Петрова А., Сидоров К., Иванова Е.]\n", select=["OWNER002"])
    assert ids(f, "OWNER002") == {"C05", "C06", "C11"}  # j.smith left


def test_orphan_check_is_for_contacts_only() -> None:
    f = run(select=["ORPHAN001"], table=fixture_table("companies"))
    assert f.height == 0


def test_free_text_that_should_be_a_picklist() -> None:
    f = run(select=["FREETEXT001"]).filter(pl.col("column") == "Город")
    hints = dict(zip(f.get_column("value"), f.get_column("hint"), strict=True))
    assert set(hints) - {"Новосибирск", "Новосибриск"} == {"москва", "г. Москва", "Moscow"}
    assert len(set(hints) & {"Новосибирск", "Новосибриск"}) == 1  # a typo, one record each: one absorbs the other
    assert hints["Moscow"].startswith("use 'Москва'")


def test_rules_file_select_ignore_severity_and_unknown_check() -> None:
    f = run("validate:\n  ignore: [FREETEXT001, hygiene.stale]\n  rules:\n    ORPHAN001: {severity: error}\n")
    assert "FREETEXT001" not in f.get_column("rule").to_list() and "STALE001" not in f.get_column("rule").to_list()
    assert f.filter(pl.col("rule") == "ORPHAN001").get_column("severity").to_list() == ["error"]
    with pytest.raises(ConfigError, match=r"unknown (rule|check) `ORPHN001`.*ORPHAN001") as err:
        run("version: 1\nvalidate:\n  rules:\n    ORPHN001: {}\n")
    assert err.value.line == 4


def test_fail_on_thresholds() -> None:
    f = run()
    assert exit_code_for(f, "error") == 1
    assert exit_code_for(f.filter(pl.col("severity") == "info"), "warning") == 0
    assert exit_code_for(f, "never") == 0
