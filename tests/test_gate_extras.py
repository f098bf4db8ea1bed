"""Issue 14 leftovers: a LibreOffice .ods export is read (roles of every column, object type), phone2 columns
(home/other phones) are read by the phone rules, and the rules file's `object:` accepts activities."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean import api
from crmclean.config import load_rules
from crmclean.fields.phone import PHONE_ROLES
from crmclean.sources import open_source

EXPORTS = Path(__file__).parent / "exports"
ODS = EXPORTS / "contacts_libreoffice.ods"


def test_ods_fixture_roles_and_object_type() -> None:
    table, _, _ = open_source(str(ODS))
    assert table.kind == "ods" and table.object_type == "contacts" and table.id_column == "ID"
    assert table.roles == {
        "Фамилия": "last_name", "Имя": "first_name", "Отчество": "middle_name", "Мобильный телефон": "mobile",
        "Домашний телефон": "phone2", "E-mail": "email", "Компания": "company", "Город": "city",
        "Skype": "messenger", "Дата изменения": "updated_at"}
    assert table.frame.height == 3 and table.frame.get_column("Фамилия").to_list() == ["Петров", "Сидорова",
                                                                                     "Кузнецов"]


def test_ods_fixture_is_what_the_builder_writes(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_ods", EXPORTS / "build_ods.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rebuilt, _, _ = open_source(str(module.build(tmp_path / "again.ods")))
    committed, _, _ = open_source(str(ODS))
    assert rebuilt.frame.equals(committed.frame)


def test_phone2_is_read_by_the_phone_rules() -> None:
    assert "phone2" in PHONE_ROLES
    result = api.audit(str(ODS), record_run=False)
    flagged = result.findings.filter((pl.col("rule") == "PHONE002") & (pl.col("column") == "Домашний телефон"))
    assert flagged.get_column("record_id").to_list() == ["2"]
    run = api.standardize(str(ODS), dry_run=True)
    changes = run.result.changes.filter(pl.col("column") == "Домашний телефон")
    assert changes.select("record_id", "after").rows() == [("1", "+74957654321")]


def test_phone2_is_masked_in_reports() -> None:
    from crmclean.reports.content import masker

    table, _, _ = open_source(str(ODS))
    show = masker(table, True)
    assert show("Домашний телефон", "+74957654321") != "+74957654321"


def test_rules_file_object_accepts_activities(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nobject: activities\n", encoding="utf-8")
    assert load_rules(str(rules)).object == "activities"
    table, _, _ = open_source(str(EXPORTS / "salesforce_report_tasks.csv"), str(rules))
    assert table.object_type == "activities"
    result = api.validate(str(EXPORTS / "salesforce_report_tasks.csv"), str(rules))
    assert result.table.object_type == "activities"
    assert result.parts["dedupe"].startswith("not for activities")  # the matcher compares people and companies
    detected = api.validate(str(EXPORTS / "salesforce_report_tasks.csv"))  # detected, no rules file: no exit 2
    assert detected.table.object_type == "activities" and detected.exit_code("never") == 0
