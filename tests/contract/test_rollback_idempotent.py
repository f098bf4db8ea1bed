"""Issue 17 on the CRM emulators: rolling back a run a second time re-creates nothing and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._crm_e2e import outcomes_by_unit
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


def test_hubspot_merge_whose_reply_was_lost_is_recorded_ok_and_rolled_back(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSpotTarget().started(200, tmp_path, monkeypatch) as target:
        cli = target.cli
        original = target.live()
        plan_file = tmp_path / "plan.json"
        cli("plan", target.spec, "-o", plan_file)
        # every merge lands, then its answer is a gateway timeout (and the retries' answers too)
        target.emu.inject("landed_504", count=10_000, path_contains="merge")
        run = cli.json("apply", plan_file, "--yes", codes=(0, 1, 3))
        target.emu.clear_faults()
        merges = [u for u, rows in outcomes_by_unit(cli.journal(), run["run_id"]).items() if u.startswith("merge:")]
        assert merges
        # the records each merge removes (a new-id merge also archives its master's old id: that one is not lost)
        losers = {rid for op in json.loads(plan_file.read_text(encoding="utf-8"))["operations"]
                  if op["op"] == "merge" for rid in op["loser_ids"]}
        merged_away = [rid for rid in original if rid in losers and target.emu.merged_into("contacts", rid)]
        assert merged_away  # they landed
        if run["status"] != "ok":  # whatever the first run recorded, resume reads the target
            cli("apply", "--resume", run["run_id"], "--yes", "--json", codes=(0, 1))
        latest: dict[str, str] = {}
        for rid, st, _ in (r for u, rs in outcomes_by_unit(cli.journal(), run["run_id"]).items() if u in merges
                           for r in rs):
            latest[rid] = st
        # every contact that was merged away is journaled as merged (ok), whatever the lost answers said
        assert all(latest.get(rid) == "ok" for rid in merged_away), {rid: latest.get(rid) for rid in merged_away}
        live = len(target.live())
        undo = cli.json("rollback", run["run_id"], "--yes", codes=(0, 1))
        refused = sum(1 for p in undo["problems"] if p["record_id"] in merged_away)
        # every merged-away contact is back (with a new id) unless HubSpot refused that create outright (a 409 on
        # an e-mail address the master keeps after the merge: the connector's side, reported as failed, never lost)
        assert len(target.live()) - live == len(merged_away) - refused
        assert all(p["status"] == "failed" and "409" in str(p["error"]) for p in undo["problems"]
                   if p["record_id"] in merged_away)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_salesforce_rollback_after_a_kill_in_the_merge_step_restores_original_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean.writeback import engine as engine_module
    from tests.contract.writeback_contract import _crm_contents

    with SalesforceTarget().started(200, tmp_path, monkeypatch) as target:
        cli = target.cli
        original = target.live()
        plan_file = tmp_path / "plan.json"
        cli("plan", target.spec, "-o", plan_file)
        real_send = engine_module.Engine._send

        def send_then_die(self, units, current):  # type: ignore[no-untyped-def]
            results = real_send(self, units, current)
            if any(u.op == "merge" for u in units):
                raise Killed("killed right after the first merge batch was sent")
            return results
        monkeypatch.setattr(engine_module.Engine, "_send", send_then_die)
        with pytest.raises(Killed):
            cli("apply", plan_file, "--yes")
        monkeypatch.setattr(engine_module.Engine, "_send", real_send)
        run_id = str(cli.json("runs", "--command", "apply")[0]["run_id"])  # type: ignore[index]
        assert len(target.live()) < len(original)  # some merges landed, unjournaled
        undo = cli.json("rollback", run_id, "--yes", codes=(0, 1))
        assert undo["status"] == "ok", undo["problems"][:5]
        after = list(target.live().values())
        # merged-away contacts come back with their ORIGINAL values (not the cleaned ones), nothing twice
        assert _crm_contents(target.fields, after) == _crm_contents(target.fields, list(original.values()))
