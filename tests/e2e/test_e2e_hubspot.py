"""End to end against the HubSpot emulator: every command on hubspot:* sources, through the real CLI.

The 10,000-contact audit → plan → apply → rollback loop and the faults + human edit + resume run are the write-back
contract (tests/contract/writeback_contract.py), run at 10,000 records in tests/e2e/test_e2e_writeback.py. Here:
every command on each HubSpot object. The connector and the emulator share a fake clock, so HubSpot's
100-requests-per-10-seconds limit and every Retry-After are honoured without real waiting.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.errors import UsageError
from crmclean.writeback.plan import load_plan
from tests._crm_e2e import (
    Cli,
    FakeClock,
    hubspot_rows,
    messy_contacts,
)

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
    with HubSpotEmulator(objects={obj: rows}, clock=clock) as emu:  # merges give the survivor a new id, as HubSpot
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
