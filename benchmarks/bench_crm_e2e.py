"""Time audit → plan → apply → rollback of N messy contacts through the CLI against the Salesforce and HubSpot emulators.

Prints wall time per command, API requests per command and, for HubSpot, the time the connector would have
waited for the 100-requests-per-10-seconds limit (measured on a fake clock shared with the emulator). ``plan``
includes the merge preview (Salesforce: child records re-parented; HubSpot: associations moved).

    python benchmarks/bench_crm_e2e.py            # 10,000 contacts
    python benchmarks/bench_crm_e2e.py 50000
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _crm_e2e import FakeClock, hubspot_rows, link_accounts, messy_contacts, salesforce_rows
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator


def pipeline(spec: str, work: Path, requests: Callable[[], int]) -> list[tuple[str, float, int, str]]:
    runner = CliRunner()
    rows: list[tuple[str, float, int, str]] = []

    def step(name: str, *args: str) -> str:
        before, t0 = requests(), time.perf_counter()
        result = runner.invoke(app, list(args), catch_exceptions=False)
        rows.append((name, time.perf_counter() - t0, requests() - before, f"exit {result.exit_code}"))
        return result.stdout

    step("audit", "audit", spec, "--out", str(work / "audit"))
    step("plan", "plan", spec, "-o", str(work / "plan.json"))
    report = json.loads(step("apply", "apply", str(work / "plan.json"), "--yes", "--json"))
    step("rollback", "rollback", report["run_id"], "--yes", "--json")
    plan = json.loads((work / "plan.json").read_text(encoding="utf-8"))
    updates = sum(1 for op in plan["operations"] if op["op"] == "update")
    merges = sum(1 for op in plan["operations"] if op["op"] == "merge")
    rows.append(("(plan size)", 0.0, 0, f"{updates} field updates, {merges} merges"))
    return rows


def show(title: str, rows: list[tuple[str, float, int, str]], extra: str = "") -> None:
    print(f"\n{title}")
    print(f"{'step':12} {'seconds':>8} {'requests':>9}  note")
    for name, seconds, count, note in rows:
        print(f"{name:12} {seconds:8.1f} {count:9d}  {note}")
    if extra:
        print(extra)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    frame = messy_contacts(n, seed=20261123)
    work = Path(tempfile.mkdtemp(prefix="bench-crm-"))
    os.environ["CRMCLEAN_STORE"] = str(work / "runs.duckdb")
    clock = FakeClock()
    sf_defaults = SalesforceConnector.__init__.__kwdefaults__ or {}
    hs_defaults = HubSpotConnector.__init__.__kwdefaults__ or {}
    sf_defaults["sleep"] = clock.sleep
    hs_defaults["sleep"], hs_defaults["clock"] = clock.sleep, clock

    accounts, contacts = salesforce_rows(frame)
    with SalesforceEmulator() as emu:
        emu.load("Account", accounts)
        emu.load("Contact", link_accounts(contacts, [str(r["Id"]) for r in emu.records("Account")]))
        os.environ.update(emu.env())
        (work / "sf").mkdir()
        show(f"Salesforce emulator, {n:,} contacts", pipeline("salesforce:Contact", work / "sf", emu.request_count))

    start = clock.now
    # HubSpot's own merge behaviour (the emulator's default): the survivor of a contact merge gets a new id; apply
    # and rollback follow it from the journal, and this bench checks no record ids, only each command's exit code
    with HubSpotEmulator(objects={"contacts": hubspot_rows(frame)}, clock=clock) as hs:
        os.environ["HUBSPOT_ACCESS_TOKEN"], os.environ["HUBSPOT_BASE_URL"] = hs.access_token, hs.base_url
        (work / "hs").mkdir()
        rows = pipeline("hubspot:contacts", work / "hs", hs.request_count)
        show(f"HubSpot emulator, {n:,} contacts", rows,
             f"waits for HubSpot's 100 requests / 10 s limit (fake clock): {clock.now - start:,.0f} s")


if __name__ == "__main__":
    main()
