"""End to end against the Salesforce emulator: every command on salesforce:* sources, through the real CLI.

10,000 messy RU/EN contacts go audit → plan → apply → rollback, and the emulator's records are checked one by
one against the plan; a second run meets random 429/503s, a validation rule that blocks some records and a
person editing a record between plan and apply, and `apply --resume` finishes what retrying can fix.
Credentials come from the environment exactly as a user would set them; the connector's retry sleeps are
injected (no real waiting).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Set
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from _crm_e2e import (
    SF_CONTACT_FIELDS,
    Cli,
    FakeClock,
    expected_after_apply,
    link_accounts,
    messy_contacts,
    outcomes_by_unit,
    salesforce_rows,
    same_text,
)

from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator
from crmclean.writeback.plan import load_plan

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


def start_org(accounts: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> SalesforceEmulator:
    emu = SalesforceEmulator().start()
    emu.load("Account", accounts)
    emu.load("Contact", link_accounts(contacts, [str(r["Id"]) for r in emu.records("Account")]))
    return emu


@pytest.fixture
def org(sf_data: tuple[list[dict[str, Any]], list[dict[str, Any]]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[tuple[SalesforceEmulator, Cli]]:
    emu = start_org(*sf_data)
    try:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
        yield emu, Cli(tmp_path / "runs.duckdb")
    finally:
        emu.stop()


def user_values(rec: dict[str, Any]) -> dict[str, Any]:
    return {f: rec.get(f) for f in SF_CONTACT_FIELDS}


def check_applied(emu: SalesforceEmulator, plan_file: Path, before: dict[str, dict[str, Any]],
                  skip: Set[str] = frozenset()) -> tuple[int, int]:
    """Every record of the org against the plan: updates applied, masters hold golden values, losers merged."""
    plan = load_plan(plan_file)
    expected, removed = expected_after_apply(plan, before, skip)
    masters = {loser: m.master_id for m in plan.merges if f"merge:{m.cluster_id}" not in skip for loser in m.loser_ids}
    live = {str(r["Id"]): r for r in emu.records("Contact")}
    checked = 0
    for rid, want in expected.items():
        if rid in removed:
            gone = emu.record("Contact", rid)
            assert gone is not None and gone["IsDeleted"] == "true" and gone["MasterRecordId"] == masters[rid], rid
            assert rid not in live
            continue
        got = live[rid]
        for field, value in want.items():
            assert same_text(got.get(field), value), (rid, field, got.get(field), value)
        checked += 1
    assert len(live) == len(before) - len(removed)  # nothing lost, nothing created twice
    return checked, len(removed)


def contents(records: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(rec.get(f) or None for f in SF_CONTACT_FIELDS) for rec in records)


# ---------------------------------------------------------------- the whole loop on 10,000 contacts


def test_audit_plan_apply_rollback_on_10000_contacts(org: tuple[SalesforceEmulator, Cli], tmp_path: Path) -> None:
    emu, cli = org
    original = {str(r["Id"]): user_values(r) for r in emu.records("Contact")}
    assert len(original) == N

    audit = cli.json("audit", "salesforce:Contact", "--out", tmp_path / "audit")
    report = json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))
    kpis = report["kpis"]
    assert kpis["records"] == N and kpis["duplicate_records"] > 500 and kpis["orphans"] > 0, kpis
    assert 0 < kpis["pct_clean"] < 100
    flagged = {c["code"] for c in report["checks"] if c.get("records")}
    assert {"PHONEV001", "ORPHAN001"} <= flagged and "DATE001" not in flagged, flagged  # no ids read as dates
    assert audit  # the summary printed on stdout is JSON too

    plan_file = tmp_path / "plan.json"
    cli("plan", "salesforce:Contact", "-o", plan_file)
    plan = load_plan(plan_file)
    summary = plan.summary()
    assert summary["records_updated"] > 5000 and summary["merges"] > 500, summary
    written_fields = {u.field for u in plan.updates} | {f for m in plan.merges for f in m.values}
    assert written_fields <= set(SF_CONTACT_FIELDS) - {"AccountId", "OwnerId"}, written_fields
    assert {"Phone", "MobilePhone", "MailingCountry", "Title"} <= written_fields
    # every touched record is pinned to the LastModifiedDate Salesforce showed when planning
    stamps = {str(r["Id"]): str(r["LastModifiedDate"]).replace("+0000", "Z") for r in emu.records("Contact")}
    assert all(stamps[rid] == v for rid, v in plan.versions.items())
    assert "password" not in plan_file.read_text(encoding="utf-8").lower()
    assert emu.session_id not in plan_file.read_text(encoding="utf-8")  # credentials stay in the environment

    run = cli.json("apply", plan_file, "--yes")
    assert run["status"] == "ok" and run["counts"]["ok"] == run["counts"]["units"], run["counts"]
    per_unit = outcomes_by_unit(cli.journal(), run["run_id"])
    assert all(len({rid for rid, _, _ in rows}) == len(rows) for rows in per_unit.values())  # one outcome per record
    checked, merged_away = check_applied(emu, plan_file, original)
    assert checked == N - merged_away and merged_away == summary["records_merged_away"]

    undo = cli.json("rollback", run["run_id"], "--yes")
    assert undo["status"] == "ok", undo["problems"][:5]
    assert any("new ids" in line for line in undo["cannot_restore"])
    after = emu.records("Contact")
    assert len(after) == N
    for rec in after:  # records that were never merged away keep their ids and get every value back
        rid = str(rec["Id"])
        if rid in original:
            assert user_values(rec) == original[rid], rid
    # merged-away records come back with new ids: compare by content
    assert contents(after) == contents([{**v, "Id": k} for k, v in original.items()])
    recreated = [r for r in after if str(r["Id"]) not in original]
    assert len(recreated) == merged_away and all(r["CreatedDate"] != original.get(str(r["Id"])) for r in recreated)

    shown = cli.json("runs", "show", run["run_id"])
    assert shown["status"] == "ok" and shown["undone_by"] == [undo["run_id"]]


# ---------------------------------------------------------------- faults, a human edit, resume


def test_faults_and_a_human_edit_then_resume(org: tuple[SalesforceEmulator, Cli], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    emu, cli = org
    original = {str(r["Id"]): user_values(r) for r in emu.records("Contact")}
    plan_file = tmp_path / "plan.json"
    cli("plan", "salesforce:Contact", "-o", plan_file)
    plan = load_plan(plan_file)
    in_merges = {rid for m in plan.merges for rid in (m.master_id, *m.loser_ids)}
    edited = next(u.record_id for u in plan.updates if u.record_id not in in_merges)
    emu.human_edit("Contact", edited, {"Title": "Коммерческий директор"})
    edited_values = user_values(emu.record("Contact", edited) or {})

    # two attempts per request (not five): some requests fail for good, as in a long outage
    defaults = SalesforceConnector.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "max_attempts", 2)
    emu.random_faults(rate=0.05, seed=7)
    emu.inject("partial_failure", count=2, path_contains="composite/sobjects")  # a validation rule blocks some
    emu.inject("partial_failure", count=1, path_contains="Soap/u/merge")
    first = cli("apply", plan_file, "--yes", "--json", codes=(1, 3))
    runs = cli.json("runs", "--command", "apply")
    assert isinstance(runs, list)
    run_id = runs[0]["run_id"]
    if first.exit_code == 1:  # finished, some records failed; 3: a read failed for good and the run stopped
        report = json.loads(first.stdout)
        assert report["status"] == "partial" and report["counts"]["failed"] > 0
    journal = cli.journal()
    failed_first = {u for u, rows in outcomes_by_unit(journal, run_id).items() if rows[-1][1] == "failed"}
    assert failed_first, "the faults should have failed some records"
    assert all(err for rows in outcomes_by_unit(journal, run_id).values() for _, st, err in rows if st == "failed")
    assert clock.slept > 0  # backoff and Retry-After were honoured (on the fake clock)

    emu.clear_faults()  # the outage is over
    monkeypatch.setitem(defaults, "max_attempts", 5)
    resumed = cli.json("apply", "--resume", run_id, "--yes", codes=(1,))
    assert resumed["status"] == "partial"
    problems = {(p["record_id"], p["status"]) for p in resumed["problems"]}
    assert problems == {(edited, "conflict")}, resumed["problems"][:5]

    per_unit = outcomes_by_unit(journal, run_id)
    assert per_unit[f"update:{edited}"][-1][1] == "conflict"
    merged_away = {rid for m in plan.merges for rid in m.loser_ids}
    for unit, rows in per_unit.items():
        if unit == f"update:{edited}":
            continue
        if rows[-1][1] == "skipped":
            # its update failed, then the run merged it away: the merge carried the values, nothing to retry
            assert rows[0][0] in merged_away and "merged into" in str(rows[-1][2]), (unit, rows)
            continue
        # each record written exactly once (a master meets a resumed merge again for the losers still left)
        oks = Counter(rid for rid, st, _ in rows if st == "ok" and not (unit.startswith("merge:") and rid == rows[0][0]))
        assert set(oks.values()) <= {1} and rows[-1][1] == "ok", (unit, rows)
    assert failed_first <= set(per_unit)  # the resume finished the failed ones
    before = dict(original)
    before[edited] = edited_values
    check_applied(emu, plan_file, before, skip={f"update:{edited}"})
    assert user_values(emu.record("Contact", edited) or {}) == edited_values  # the person's edit is untouched


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
    with SalesforceEmulator() as emu:
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
