"""Issue 17 on the CRM emulators: rolling back a run a second time re-creates nothing and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract.writeback_contract import HubSpotTarget, SalesforceTarget, Target


@pytest.mark.parametrize("target_type", [SalesforceTarget, HubSpotTarget], ids=["salesforce", "hubspot"])
def test_rollback_twice_creates_nothing_the_second_time(target_type: type[Target], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with target_type().started(200, tmp_path, monkeypatch) as target:
        cli = target.cli
        original = target.live()
        plan_file = tmp_path / "plan.json"
        cli("plan", target.spec, "-o", plan_file)
        run = cli.json("apply", plan_file, "--yes", codes=(0, 1))
        assert run["counts"]["merges"] > 0
        merged = len(original) - len(target.live())
        assert merged > 0
        first = cli.json("rollback", run["run_id"], "--yes", codes=(0, 1))
        assert first["run_id"], first
        after_first = target.live()
        assert len(after_first) > len(original) - merged  # merged-away records re-created (once)
        second = cli("rollback", run["run_id"], "--yes", "--json", codes=(0, 1))
        if first["status"] == "ok":
            assert "already rolled back" in " ".join(second.output.split())
        else:  # the first left failures: running it again finishes that rollback, it does not start over
            assert json.loads(second.stdout)["run_id"] == first["run_id"]
        assert len(target.live()) == len(after_first)  # nothing re-created twice
        runs = cli.json("runs", "--command", "rollback")
        assert isinstance(runs, list) and len(runs) == 1, json.dumps(runs)[:500]
