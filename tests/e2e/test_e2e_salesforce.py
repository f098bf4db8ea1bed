"""End to end against the Salesforce emulator: every command on salesforce:* sources, through the real CLI.

The 10,000-contact audit → plan → apply → rollback loop and the faults + human edit + resume run are the write-back
contract (tests/contract/writeback_contract.py), run at 10,000 records in tests/e2e/test_e2e_writeback.py. Here:
every command on each Salesforce object, read-only fields, `validate --against`, a merge killed before sending.
Credentials come from the environment exactly as a user would set them; the connector's retry sleeps are
injected (no real waiting).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator
from crmclean.writeback.plan import load_plan
from tests._crm_e2e import (
    Cli,
    FakeClock,
    link_accounts,
    messy_contacts,
    salesforce_rows,
    same_text,
)

N = 10_000
SEED = 20261123

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sf_data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return salesforce_rows(messy_contacts(N, SEED))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every SalesforceConnector the CLI opens sleeps on this clock (the connector's injectable sleep)."""
    fake = FakeClock()
    defaults = SalesforceConnector.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", fake.sleep)
    return fake



# ---------------------------------------------------------------- every command, every Salesforce object


LEADS: list[dict[str, Any]] = [
    {"FirstName": "иван", "LastName": "ПЕТРОВ", "Company": "ооо ромашка", "Email": "Ivan.Petrov@Romashka.ru",
     "Phone": "8 (495) 123-45-67", "MobilePhone": "89161234567", "Title": "ген. директор", "Country": "Россия",
     "City": "г. Москва", "LeadSource": "Сайт", "Status": "Open"},
    {"FirstName": "Ivan", "LastName": "Petrov", "Company": "Romashka LLC", "Email": "ivan.petrov@romashka.ru",
     "Phone": "+7 495 123 45 67", "MobilePhone": "+7 916 123-45-67", "Title": "CEO", "Country": "RU",
     "City": "Moscow", "LeadSource": "Website", "Status": "Open"},
    {"FirstName": "Mary", "LastName": "Smith", "Company": "acme inc", "Email": "MARY@ACME.COM",
     "Phone": "(415) 555-0100", "MobilePhone": None, "Title": "VP Sales", "Country": "USA", "City": "san francisco",
     "LeadSource": "Webinar", "Status": "Working"},
    {"FirstName": "Ольга", "LastName": "Сидорова", "Company": "ИП Сидорова О.В.", "Email": "olga@mail.ru",
     "Phone": "8-812-555-11-22", "MobilePhone": None, "Title": "Бухгалтер", "Country": "РФ", "City": "спб",
     "LeadSource": None, "Status": "Open"},
]
ACCOUNTS: list[dict[str, Any]] = [
    {"Name": "ооо «ромашка»", "BillingCountry": "Россия", "BillingCity": "москва", "Phone": "8 495 123-45-67",
     "Website": "romashka.ru", "Industry": "Ритейл", "NumberOfEmployees": "120"},
    {"Name": "Ромашка ООО", "BillingCountry": "RU", "BillingCity": "Moscow", "Phone": "+74951234567",
     "Website": "https://romashka.ru", "Industry": "Retail", "NumberOfEmployees": "120"},
    {"Name": "ACME INC", "BillingCountry": "United States", "BillingCity": "SF", "Phone": "415 555 0100",
     "Website": "acme.com", "Industry": "Software", "NumberOfEmployees": "2000"},
]


@pytest.mark.parametrize("obj", ["Contact", "Lead", "Account"])
def test_every_command_on_a_salesforce_object(obj: str, sf_data: tuple[list[dict[str, Any]], list[dict[str, Any]]],
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              clock: FakeClock) -> None:
    accounts, contacts = sf_data
    choices: dict[str, list[dict[str, Any]]] = {"Contact": contacts[:60], "Lead": LEADS * 3, "Account": ACCOUNTS * 2}
    rows = choices[obj]
    # the 10k messy objects hold planted duplicates that the cleanup makes match exactly: the standard duplicate
    # rules would refuse those updates per record (tests/test_salesforce_official.py checks that); this test
    # checks every record's round trip, so it runs without duplicate rules
    with SalesforceEmulator(duplicate_rules=[]) as emu:
        if obj == "Contact":
            emu.load("Account", accounts)
            emu.load("Contact", link_accounts(rows, [str(r["Id"]) for r in emu.records("Account")]))
        else:
            emu.load(obj, rows)
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
        cli = Cli(tmp_path / "runs.duckdb")
        spec = f"salesforce:{obj}"
        before = {str(r["Id"]): r for r in emu.records(obj)}

        cli("audit", spec, "--out", tmp_path / "audit")
        assert json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))["kpis"]["records"] == len(
            before)
        cli("standardize", spec, "--out", tmp_path / "fixed.csv", "--changes", tmp_path / "changes.csv")
        assert (tmp_path / "fixed.csv").read_text(encoding="utf-8-sig").count("\n") >= len(before)
        assert (tmp_path / "changes.csv").stat().st_size > 0
        cli("dedupe", spec, "--out", tmp_path / "deduped.csv")
        assert "cluster_id" in (tmp_path / "deduped.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        cli("score", spec, "--out", tmp_path / "scores.csv")
        assert "completeness_score" in (tmp_path / "scores.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        cli("validate", spec, "--fail-on", "never")
        cli("plan", spec, "-o", tmp_path / "plan.json")
        plan = load_plan(tmp_path / "plan.json")
        assert plan.operations, "the messy records must need fixes"
        assert emu.records(obj) == list(before.values())  # nothing written before apply

        run = cli.json("apply", tmp_path / "plan.json", "--yes")
        assert run["status"] == "ok", run["problems"]
        changed = [u for u in plan.updates if u.record_id not in {x for m in plan.merges for x in m.loser_ids}]
        assert all(same_text((emu.record(obj, u.record_id) or {}).get(u.field), u.after) for u in changed[-20:])
        undo = cli.json("rollback", run["run_id"], "--yes")
        assert undo["status"] == "ok", undo["problems"]
        keys = [k for k in rows[0] if not k.startswith("__") and k != "CreatedDate"]
        live = emu.records(obj)
        assert Counter(tuple(r.get(k) for k in keys) for r in live) == Counter(
            tuple(r.get(k) for k in keys) for r in before.values())

        job = tmp_path / "job.yaml"
        job.write_text(f"source: {spec}\nsteps: [standardize, dedupe, report]\nlimits:\n  max_changes: null\n"
                       f"report_dir: {tmp_path / 'job-report'}\nstore: {tmp_path / 'runs.duckdb'}\n", encoding="utf-8")
        result = cli.json("run", job)
        assert result["status"] == "ok" and result["run_id"], result
        assert (tmp_path / "job-report" / "plan.json").exists() and (tmp_path / "job-report" / "changes.csv").exists()


def test_read_only_fields_are_never_planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"FirstName": "иван", "LastName": "петров", "Full_Name__c": "петров иван", "Phone": "8 916 123 45 67"},
            {"FirstName": "MARY", "LastName": "smith", "Full_Name__c": "smith mary", "Phone": "+1 415 555 0100"}]
    types = {"Full_Name__c": {"type": "string", "updateable": False, "createable": False}}
    with SalesforceEmulator(objects={"Contact": rows}, field_types={"Contact": types}) as emu:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        cli = Cli(tmp_path / "runs.duckdb")
        cli("plan", "salesforce:Contact", "-o", tmp_path / "plan.json", "--steps", "standardize")
        plan = load_plan(tmp_path / "plan.json")
        fields = {u.field for u in plan.updates}
        assert {"FirstName", "LastName", "Phone"} <= fields and "Full_Name__c" not in fields
        assert any("Full_Name__c" in note for note in plan.notes)  # said, not silently dropped
        run = cli.json("apply", tmp_path / "plan.json", "--yes", "--store", tmp_path / "runs.duckdb")
        assert run["status"] == "ok"
        assert {r["LastName"] for r in emu.records("Contact")} == {"Петров", "Smith"}


# ---------------------------------------------------------------- validate leads.xlsx --against salesforce:Contact


def write_xlsx(path: Path, header: list[str], rows: list[list[str | None]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Лиды"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_validate_leads_against_salesforce_contacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crm = [
        {"FirstName": "Иван", "LastName": "Петров", "Email": "ivan.petrov@romashka.ru", "MobilePhone": "+79161234567",
         "Title": "Генеральный директор", "MailingCity": "Москва"},
        {"FirstName": "Mary", "LastName": "Smith", "Email": "mary.smith@acme.com", "MobilePhone": "+14155550100",
         "Title": "VP Sales", "MailingCity": "San Francisco"},
        {"FirstName": "Анна", "LastName": "Кузнецова", "Email": "a.kuznetsova@stroymontazh.ru",
         "MobilePhone": "+79035550011", "Title": "Главный бухгалтер", "MailingCity": "Казань"},
        {"FirstName": "Олег", "LastName": "Смирнов", "Email": "oleg@vector-trade.ru", "MobilePhone": "+79214443322",
         "Title": "Менеджер по закупкам", "MailingCity": "Санкт-Петербург"},
    ]
    header = ["ФИО", "Мобильный телефон", "Email", "Должность", "Город"]
    leads: list[list[str | None]] = [
        ["ПЕТРОВ Иван Сергеевич", "8 (916) 123-45-67", "Ivan.Petrov@Romashka.ru", "ген. директор", "г. Москва"],
        ["Smith Mary", "+1 415 555 0100", "MARY.SMITH@ACME.COM", "VP Sales", "San Francisco"],
        ["кузнецова анна", "8-903-555-00-11", None, "Гл. бухгалтер", "Казань"],
        ["Соколов Дмитрий Андреевич", "+7 926 777-88-99", "d.sokolov@gazstroy.ru", "Директор", "Москва"],
        ["Jane Doe", "+44 20 7946 0958", "jane.doe@example.co.uk", "Buyer", "London"],
    ]
    write_xlsx(tmp_path / "leads.xlsx", header, leads)
    write_xlsx(tmp_path / "new_only.xlsx", header, leads[3:])
    with SalesforceEmulator(objects={"Contact": crm}) as emu:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
        cli = Cli(tmp_path / "runs.duckdb")
        ids = {r["LastName"]: str(r["Id"]) for r in emu.records("Contact")}
        result = cli("validate", tmp_path / "leads.xlsx", "--against", "salesforce:Contact", "--fail-on", "error",
                     "--out", tmp_path / "checks", codes=(1,))
        assert "validation failed" in result.output
        findings = (tmp_path / "checks" / "findings.csv").read_text(encoding="utf-8-sig").splitlines()
        exists = [line for line in findings if ",EXISTS001," in line]
        assert len(exists) == 3, exists  # Петров, Smith, Кузнецова are in the CRM already; Соколов and Doe are new
        assert all(",error," in line for line in exists)
        for name in ("Петров", "Smith", "Кузнецова"):
            assert any(ids[name] in line for line in exists), (name, exists)
        assert not any("Соколов" in line or "Doe" in line for line in exists)
        # the same check passes when nothing in the file is in the CRM yet
        cli("validate", tmp_path / "new_only.xlsx", "--against", "salesforce:Contact", "--fail-on", "error",
            "--out", tmp_path / "checks2", codes=(0, 1))
        again = (tmp_path / "checks2" / "findings.csv").read_text(encoding="utf-8-sig")
        assert ",EXISTS001," not in again


# ---------------------------------------------------------------- a merge killed before it was sent


def test_rollback_of_a_merge_killed_before_sending_recreates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    """The journal holds the merge's intent but the process died before the SOAP call: rollback must not
    re-create the 'merged-away' contacts, which are still in the org."""
    import crmclean.writeback.engine as engine_module
    from crmclean.connectors import ConnectorOptions, open_connector
    from crmclean.sources import open_source
    from crmclean.writeback.apply import apply_plan
    from crmclean.writeback.plan import build_plan
    from crmclean.writeback.rollback import rollback_run
    from crmclean.writeback.store import Journal

    contacts = [
        {"FirstName": "Иван", "LastName": "Петров", "Email": "ivan.petrov@romashka.ru", "Phone": "+74951234567",
         "Title": "Генеральный директор"},
        {"FirstName": "Ivan", "LastName": "Petrov", "Email": "IVAN.PETROV@ROMASHKA.RU", "Phone": "8 (495) 123-45-67",
         "Title": "CEO"},
        {"FirstName": "Anna", "LastName": "Smith", "Email": "anna.smith@acme.com", "Phone": "+12125550100",
         "Title": "CFO"},
    ]
    emu = SalesforceEmulator().start()
    try:
        emu.load("Contact", contacts)
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        table, rules, connector = open_source("salesforce:Contact")
        plan = build_plan(table, rules, version_of=connector.version_of, steps=("dedupe",))
        assert plan.merges, "the two Petrovs should be planned as one merge"
        before = {str(r["Id"]) for r in emu.records("Contact")}
        journal = Journal(tmp_path / "runs.duckdb")

        class Killed(BaseException):
            pass

        def die(phase: str, batch: int) -> None:
            if phase == "intents":
                raise Killed

        monkeypatch.setattr(engine_module, "CRASH_HOOK", die)
        with pytest.raises(Killed):
            apply_plan(plan, open_connector("salesforce:Contact", ConnectorOptions()), journal)
        monkeypatch.setattr(engine_module, "CRASH_HOOK", None)
        assert {str(r["Id"]) for r in emu.records("Contact")} == before  # nothing was sent

        with journal.store() as st:
            run_id = st.list_runs(command="apply", limit=1)[0].run_id
        report = rollback_run(run_id, journal, connector=open_connector("salesforce:Contact", ConnectorOptions()))
        assert {str(r["Id"]) for r in emu.records("Contact")} == before  # no copy of a record that never left
        assert report.counts.get("failed", 0) == 0
    finally:
        emu.stop()
