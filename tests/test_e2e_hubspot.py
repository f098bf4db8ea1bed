"""End to end against the HubSpot emulator: every command on hubspot:* sources, through the real CLI.

10,000 messy RU/EN contacts go audit → plan → apply → rollback, and the emulator's records are checked one by
one against the plan (merged-away contacts archived, as HubSpot does); a second run meets random 429s, 5xx and
gateway timeouts, a batch that HubSpot answers with per-record errors and a person editing a contact between
plan and apply, and `apply --resume` finishes what retrying can fix. The connector and the emulator share a fake
clock, so HubSpot's 100-requests-per-10-seconds limit and every Retry-After are honoured without real waiting.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Set
from pathlib import Path
from typing import Any

import pytest
from _crm_e2e import (
    HS_CONTACT_FIELDS,
    Cli,
    FakeClock,
    expected_after_apply,
    hubspot_rows,
    messy_contacts,
    outcomes_by_unit,
    same_text,
)

from crmclean.connectors import hubspot as hubspot_connector
from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.errors import UsageError
from crmclean.writeback.plan import load_plan

N = 10_000
SEED = 20261124

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hs_rows() -> list[dict[str, Any]]:
    return hubspot_rows(messy_contacts(N, SEED))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every HubSpotConnector the CLI opens sleeps and reads time on this clock (its injectable sleep/clock)."""
    fake = FakeClock()
    defaults = HubSpotConnector.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", fake.sleep)
    monkeypatch.setitem(defaults, "clock", fake)
    return fake


def connect(emu: HubSpotEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
    monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
    return Cli(tmp_path / "runs.duckdb")


@pytest.fixture
def portal(hs_rows: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           clock: FakeClock) -> Iterator[tuple[HubSpotEmulator, Cli]]:
    with HubSpotEmulator(objects={"contacts": hs_rows}, clock=clock, timeout_delay=0.02) as emu:
        yield emu, connect(emu, tmp_path, monkeypatch)


def user_values(rec: dict[str, Any]) -> dict[str, Any]:
    props = rec.get("properties") or {}
    return {f: props.get(f) for f in HS_CONTACT_FIELDS}


def live_contacts(emu: HubSpotEmulator) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): user_values(r) for r in emu.records("contacts")}


def check_applied(emu: HubSpotEmulator, plan_file: Path, before: dict[str, dict[str, Any]],
                  skip: Set[str] = frozenset()) -> tuple[int, int]:
    """Every contact against the plan: updates applied, masters hold golden values, losers archived into them."""
    plan = load_plan(plan_file)
    expected, removed = expected_after_apply(plan, before, skip)
    merges = [m for m in plan.merges if f"merge:{m.cluster_id}" not in skip]
    master_of = {loser: m.master_id for m in merges for loser in m.loser_ids}
    # HubSpot fills a master's empty properties from the contacts merged into it
    fillers = {m.master_id: [expected[x] for x in m.loser_ids] for m in merges}
    live = live_contacts(emu)
    checked = 0
    for rid, want in expected.items():
        if rid in removed:
            assert rid not in live and emu.merged_into("contacts", rid) == master_of[rid], rid
            continue
        got = live[rid]
        for field, value in want.items():
            if value is None and got[field] is not None and rid in fillers:
                assert any(same_text(got[field], loser[field]) for loser in fillers[rid]), (rid, field)
                continue
            assert same_text(got[field], value), (rid, field, got[field], value)
        checked += 1
    assert len(live) == len(before) - len(removed)  # nothing lost, nothing created twice
    return checked, len(removed)


def contents(values: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(v.get(f) or None for f in HS_CONTACT_FIELDS) for v in values)


# ---------------------------------------------------------------- the whole loop on 10,000 contacts


def test_audit_plan_apply_rollback_on_10000_contacts(portal: tuple[HubSpotEmulator, Cli], tmp_path: Path,
                                                     clock: FakeClock) -> None:
    emu, cli = portal
    original = live_contacts(emu)
    assert len(original) == N

    cli("audit", "hubspot:contacts", "--out", tmp_path / "audit")
    report = json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))
    kpis = report["kpis"]
    assert kpis["records"] == N and kpis["duplicate_records"] > 500 and 0 < kpis["pct_clean"] < 100, kpis
    flagged = {c["code"] for c in report["checks"] if c.get("records")}
    assert {"PHONEV001", "ORPHAN001"} <= flagged, flagged

    plan_file = tmp_path / "plan.json"
    cli("plan", "hubspot:contacts", "-o", plan_file)
    plan = load_plan(plan_file)
    summary = plan.summary()
    assert summary["records_updated"] > 5000 and summary["merges"] > 500, summary
    written = {u.field for u in plan.updates} | {f for m in plan.merges for f in m.values}
    assert written <= set(HS_CONTACT_FIELDS) and {"phone", "company", "country", "jobtitle"} <= written, written
    stamps = {str(r["id"]): r["properties"]["lastmodifieddate"] for r in emu.records("contacts")}
    assert all(stamps[rid] == v for rid, v in plan.versions.items())
    assert emu.access_token not in plan_file.read_text(encoding="utf-8")

    run = cli.json("apply", plan_file, "--yes")
    assert run["status"] == "ok" and run["counts"]["ok"] == run["counts"]["units"], run["counts"]
    per_unit = outcomes_by_unit(cli.journal(), run["run_id"])
    assert all(len({rid for rid, _, _ in rows}) == len(rows) for rows in per_unit.values())
    checked, merged_away = check_applied(emu, plan_file, original)
    assert checked == N - merged_away and merged_away == summary["records_merged_away"]
    # the connector paces itself to HubSpot's ten-secondly limit; the few 429s (a new command meets the window the
    # previous one filled) were waited out and retried
    assert emu.request_count(status=429) < emu.request_count() / 100 and clock.slept > 10

    undo = cli.json("rollback", run["run_id"], "--yes")
    assert undo["status"] == "ok", undo["problems"][:5]
    assert any("new ids" in line for line in undo["cannot_restore"])
    after = live_contacts(emu)
    assert len(after) == N
    for rid, values in after.items():
        if rid in original:
            assert values == original[rid], rid
    assert contents(list(after.values())) == contents(list(original.values()))
    # merged-away contacts stay archived (HubSpot cannot un-merge); their content lives on in new records
    assert sum(1 for rid in after if rid not in original) == merged_away


# ---------------------------------------------------------------- faults, a human edit, resume


def test_faults_and_a_human_edit_then_resume(portal: tuple[HubSpotEmulator, Cli], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    emu, cli = portal
    original = live_contacts(emu)
    plan_file = tmp_path / "plan.json"
    cli("plan", "hubspot:contacts", "-o", plan_file)
    plan = load_plan(plan_file)
    in_merges = {rid for m in plan.merges for rid in (m.master_id, *m.loser_ids)}
    edited = next(u.record_id for u in plan.updates if u.record_id not in in_merges)
    emu.human_edit("contacts", edited, {"jobtitle": "Коммерческий директор"})
    edited_values = live_contacts(emu)[edited]

    monkeypatch.setattr(hubspot_connector, "DEFAULT_MAX_ATTEMPTS", 2)  # a long outage: some requests fail for good
    emu.random_faults(rate=0.05, seed=11)
    emu.inject("partial_failure", count=3)  # HubSpot answers three batch updates with per-record errors
    first = cli("apply", plan_file, "--yes", "--json", codes=(1, 3))
    run_id = cli.json("runs", "--command", "apply")[0]["run_id"]  # type: ignore[index]
    if first.exit_code == 1:
        report = json.loads(first.stdout)
        assert report["status"] == "partial" and report["counts"]["failed"] > 0
    journal = cli.journal()
    failed_first = {u for u, rows in outcomes_by_unit(journal, run_id).items() if rows[-1][1] == "failed"}
    assert failed_first, "the faults should have failed some records"
    assert all(err for rows in outcomes_by_unit(journal, run_id).values() for _, st, err in rows if st == "failed")
    assert emu.request_count(status=429) > 0 and emu.request_count(status=504) > 0

    emu.clear_faults()
    monkeypatch.setattr(hubspot_connector, "DEFAULT_MAX_ATTEMPTS", 6)
    resumed = cli.json("apply", "--resume", run_id, "--yes", codes=(1,))
    assert resumed["status"] == "partial"
    assert {(p["record_id"], p["status"]) for p in resumed["problems"]} == {(edited, "conflict")}, \
        resumed["problems"][:5]

    per_unit = outcomes_by_unit(journal, run_id)
    merged_away = {rid for m in plan.merges for rid in m.loser_ids}
    for unit, rows in per_unit.items():
        if unit == f"update:{edited}":
            assert rows[-1][1] == "conflict"
            continue
        if rows[-1][1] == "skipped":
            assert rows[0][0] in merged_away and "merged into" in str(rows[-1][2]), (unit, rows)
            continue
        # each record written exactly once (a master meets a resumed merge again for the losers still left)
        oks = Counter(rid for rid, st, _ in rows if st == "ok" and not (unit.startswith("merge:") and rid == rows[0][0]))
        assert set(oks.values()) <= {1} and rows[-1][1] == "ok", (unit, rows)
    before = dict(original)
    before[edited] = edited_values
    check_applied(emu, plan_file, before, skip={f"update:{edited}"})
    assert live_contacts(emu)[edited] == edited_values


# ---------------------------------------------------------------- every command, every HubSpot object


COMPANIES: list[dict[str, Any]] = [
    {"name": "ооо ромашка", "domain": "romashka.ru", "phone": "8 (495) 123-45-67", "city": "г. Москва",
     "country": "Россия", "industry": "Ритейл", "numberofemployees": "120"},
    {"name": "Ромашка ООО", "domain": "www.romashka.ru", "phone": "+7 495 1234567", "city": "Moscow", "country": "RU",
     "industry": "Retail", "numberofemployees": "120"},
    {"name": "ACME INC", "domain": "acme.com", "phone": "(415) 555-0100", "city": "san francisco", "country": "USA",
     "industry": "Software", "numberofemployees": "2000"},
    {"name": "зао  «вектор»", "domain": "vector.ru", "phone": "8-812-555-11-22", "city": "спб", "country": "РФ",
     "industry": "Логистика", "numberofemployees": None},
]
DEALS: list[dict[str, Any]] = [
    {"dealname": "Ромашка — поставка", "amount": "150000", "dealstage": "qualifiedtobuy", "pipeline": "default",
     "hubspot_owner_id": "7101"},
    {"dealname": "ACME renewal", "amount": "20000", "dealstage": "closedwon", "pipeline": "default",
     "hubspot_owner_id": None},
]


@pytest.mark.parametrize("obj", ["contacts", "companies", "deals"])
def test_every_command_on_a_hubspot_object(obj: str, hs_rows: list[dict[str, Any]], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    choices: dict[str, list[dict[str, Any]]] = {"contacts": hs_rows[:60], "companies": COMPANIES, "deals": DEALS * 3}
    rows = choices[obj]
    if obj == "companies":  # twins of each company: the second copy differs in case and legal-form spelling
        rows = COMPANIES + [{**c, "name": str(c["name"]).upper()} for c in COMPANIES]
    with HubSpotEmulator(objects={obj: rows}, clock=clock) as emu:
        cli = connect(emu, tmp_path, monkeypatch)
        spec = f"hubspot:{obj}"
        before = {str(r["id"]): r["properties"] for r in emu.records(obj)}

        cli("audit", spec, "--out", tmp_path / "audit")
        assert json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))["kpis"]["records"] == len(
            before)
        cli("standardize", spec, "--out", tmp_path / "fixed.csv")
        assert (tmp_path / "fixed.csv").read_text(encoding="utf-8-sig").count("\n") >= len(before)
        if obj == "deals":  # the matcher compares people and companies; audit and plan say so and go on
            with pytest.raises(UsageError, match="contacts, leads or companies"):
                cli("dedupe", spec)
        else:
            cli("dedupe", spec, "--out", tmp_path / "deduped.csv")
            assert "cluster_id" in (tmp_path / "deduped.csv").read_text(encoding="utf-8-sig").splitlines()[0]
        cli("score", spec, "--out", tmp_path / "scores.csv")
        cli("validate", spec, "--fail-on", "never")
        cli("plan", spec, "-o", tmp_path / "plan.json")
        plan = load_plan(tmp_path / "plan.json")
        assert {str(r["id"]): r["properties"] for r in emu.records(obj)} == before  # planning writes nothing
        if obj == "deals":  # clean deal data: nothing to fix, and apply says so
            assert not plan.operations and any("deals are not deduplicated" in n for n in plan.notes)
            assert "nothing to apply" in cli("apply", tmp_path / "plan.json", "--yes").output
            return
        assert plan.operations
        run = cli.json("apply", tmp_path / "plan.json", "--yes")
        assert run["status"] == "ok", run["problems"]
        undo = cli.json("rollback", run["run_id"], "--yes")
        assert undo["status"] == "ok", undo["problems"]
        keys = [k for k in rows[0] if k != "createdate"]
        assert Counter(tuple(r["properties"].get(k) for k in keys) for r in emu.records(obj)) == Counter(
            tuple(p.get(k) for k in keys) for p in before.values())

        job = tmp_path / "job.yaml"
        job.write_text(f"source: {spec}\nsteps: [standardize, dedupe, report]\nlimits:\n  max_changes: null\n"
                       f"report_dir: {tmp_path / 'job-report'}\nstore: {tmp_path / 'runs.duckdb'}\n", encoding="utf-8")
        result = cli.json("run", job)
        assert result["status"] == "ok" and result["run_id"], result
        assert (tmp_path / "job-report" / "changes.csv").exists()
