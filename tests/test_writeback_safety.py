"""Issue 17: an undo that is safe to repeat, merges that survive lost replies, interrupted runs (in-memory CRM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmclean.store import RunStore
from crmclean.writeback import engine as engine_module
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.resume import resume_run
from crmclean.writeback.rollback import rollback_run
from crmclean.writeback.store import Journal
from tests._fake_crm import FakeCrm, FakeCrmConnector, fake_plan

ORIGINAL = {
    "A1": {"Name": "иванов иван", "Email": "IVANOV@ROMASHKA.RU", "Phone": "8 495 123-45-67", "City": "москва"},
    "A2": {"Name": "Иванов И.", "Email": "ivanov@romashka.ru", "Phone": None, "City": "Москва"},
    "A3": {"Name": "Petrov P", "Email": "petrov@x.ru", "Phone": "4951112233", "City": None},
    "A4": {"Name": "Petrov Petr", "Email": "PETROV@X.RU", "Phone": None, "City": "Moscow"},
    "A5": {"Name": "Sidorov", "Email": "s@y.ru", "Phone": "-", "City": "Tver"},
}


def _crm() -> FakeCrm:
    return FakeCrm(ORIGINAL)


def _plan(crm: FakeCrm):  # type: ignore[no-untyped-def]
    return fake_plan(crm, [
        ("A1", "Name", "Иванов Иван"), ("A1", "Email", "ivanov@romashka.ru"), ("A1", "City", "Москва"),
        ("A2", "Name", "Иванов И."), ("A2", "Phone", "+7 495 123-45-67"),
        ("A4", "Email", "petrov@x.ru"), ("A5", "Phone", None),
    ], [("A1", ["A2"], {"Phone": "+7 495 123-45-67"}), ("A3", ["A4"], {"City": "Moscow"})])


@pytest.fixture()
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "runs.duckdb")


class Killed(BaseException):
    """Stands for SIGKILL: the engine's code after the kill point never runs."""


def _kill_at(point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def hook(phase: str, batch: int) -> None:
        if f"{phase}:{batch}" == point:
            raise Killed(point)
    monkeypatch.setattr(engine_module, "CRASH_HOOK", hook)


def _mark_killed(journal: Journal, run_id: str) -> None:
    """What SIGKILL leaves: the run still 'running', recorded by a process that is gone."""
    with journal.store() as st:
        info = st.get_run(run_id)
        assert info is not None
        details = {**(info.details or {}), "pid": 2 ** 22 + 12345}
        st.con.execute("UPDATE runs SET status = 'running', details = ? WHERE run_id = ?",
                       [__import__("json").dumps(details), run_id])


def _last_run(journal: Journal, command: str) -> str:
    with journal.store() as st:
        return st.list_runs(command=command, limit=1)[0].run_id


def test_rollback_twice_creates_nothing_the_second_time_and_says_so(journal: Journal) -> None:
    crm = _crm()
    plan = _plan(crm)
    report = apply_plan(plan, FakeCrmConnector(crm), journal)
    assert report.status == "ok" and len(crm.records) == 3
    undo = rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    assert undo.status == "ok"
    assert crm.values() == _crm().values()
    again = rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    assert crm.values() == _crm().values() and len(crm.records) == 5  # no duplicate re-created
    assert again.run_id is None and again.status == "nothing to do"
    assert any("already rolled back" in line for line in again.cannot_restore)


def test_killed_rollback_run_again_finishes_it_without_duplicates(journal: Journal,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    crm = _crm()
    report = apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    _kill_at("outcomes:2", monkeypatch)
    with pytest.raises(Killed):
        rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    _mark_killed(journal, _last_run(journal, "rollback"))
    monkeypatch.setattr(engine_module, "CRASH_HOOK", None)
    again = rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    assert again.status == "ok", again
    assert crm.values() == _crm().values() and len(crm.records) == 5
    third = rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    assert third.status == "nothing to do" and len(crm.records) == 5


def test_rollback_after_a_kill_in_the_merge_step_restores_original_values(journal: Journal,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    crm = _crm()
    plan = _plan(crm)
    # batches: updates (3 + 1 records), then both merges: kill right after they were sent
    _kill_at("sent:3", monkeypatch)
    with pytest.raises(Killed):
        apply_plan(plan, FakeCrmConnector(crm), journal)
    monkeypatch.setattr(engine_module, "CRASH_HOOK", None)
    run_id = _last_run(journal, "apply")
    _mark_killed(journal, run_id)
    assert "A2" not in crm.records  # the merge landed
    undo = rollback_run(run_id, journal, connector=FakeCrmConnector(crm))
    assert undo.status == "ok", undo.problems
    assert crm.values() == _crm().values()  # the re-created record holds its ORIGINAL values, not the cleaned ones


def test_merge_with_lost_reply_is_read_back_recorded_ok_and_rolled_back(journal: Journal) -> None:
    crm = _crm()
    crm.lose_replies = {"merge"}
    report = apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    assert "A2" not in crm.records and "A4" not in crm.records  # both merges landed; their replies were lost
    assert report.status == "ok" and report.counts["failed"] == 0, report
    crm.lose_replies = set()
    undo = rollback_run(str(report.run_id), journal, connector=FakeCrmConnector(crm))
    assert undo.status == "ok", undo.problems
    assert crm.values() == _crm().values()


def test_merge_recorded_failed_before_read_back_is_cleared_by_resume_and_rolled_back(
        journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    # a journal written before outcomes were read back: the landed merge is recorded failed
    crm = _crm()
    crm.lose_replies = {"merge"}
    monkeypatch.setattr(engine_module.Engine, "_reconcile", lambda self, units, results: None)
    first = apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    assert first.status == "failed" or first.counts["failed"] > 0
    monkeypatch.undo()
    crm.lose_replies = set()
    resumed = resume_run(str(first.run_id), journal, connector=FakeCrmConnector(crm))
    assert resumed.status == "ok" and resumed.counts["failed"] == 0, resumed
    undo = rollback_run(str(first.run_id), journal, connector=FakeCrmConnector(crm))
    assert undo.status == "ok", undo.problems
    assert crm.values() == _crm().values()


def test_rollback_of_a_failed_merge_reads_the_target(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    crm = _crm()
    crm.lose_replies = {"merge"}
    monkeypatch.setattr(engine_module.Engine, "_reconcile", lambda self, units, results: None)
    first = apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    monkeypatch.undo()
    crm.lose_replies = set()
    undo = rollback_run(str(first.run_id), journal, connector=FakeCrmConnector(crm))
    assert crm.values() == _crm().values(), undo.problems


def test_killed_run_shows_as_interrupted_with_how_to_finish_or_undo(journal: Journal,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    crm = _crm()
    _kill_at("intents:2", monkeypatch)
    with pytest.raises(Killed):
        apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    run_id = _last_run(journal, "apply")
    _mark_killed(journal, run_id)
    with journal.store() as st:
        info = st.get_run(run_id)
    assert info is not None and info.status == "running" and info.state == "interrupted"
    hint = info.how_to_finish() or ""
    assert f"crmclean apply --resume {run_id}" in hint and f"crmclean rollback {run_id}" in hint
    # a run recorded by this (live) process is still running
    with journal.store() as st:
        live = st.start_run("apply", "x.csv", mode="write")
        assert (st.get_run(live) or info).state == "running"


def test_start_run_and_plan_are_saved_together(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    # a kill between recording the run and saving its plan must not leave a run that cannot be resumed
    crm = _crm()

    from crmclean.writeback import store as store_module

    def killed(text: str) -> str:  # runs between recording the run and saving its plan
        raise Killed("between start_run and save_plan")
    monkeypatch.setattr(store_module, "content_hash", killed)
    with pytest.raises(Killed):
        apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    with journal.store() as st:
        runs = st.list_runs(command="apply")
    for info in runs:  # either no run at all, or one that has its plan
        journal.load_plan(info.run_id)


def test_run_store_lock_waits_with_backoff_then_names_the_holder(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys
    import time

    from crmclean.errors import SourceError

    path = tmp_path / "runs.duckdb"
    RunStore(path).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}, "
                               "read_only=True); print('ready', flush=True); time.sleep(2.5)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        RunStore(path).close()  # waits for the holder to let go (about 2.5 s), does not fail
        assert time.monotonic() - started > 0.5
    finally:
        holder.wait(timeout=30)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}, "
                               "read_only=True); print('ready', flush=True); time.sleep(5)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv("CRMCLEAN_STORE_WAIT", "0.5")
        with pytest.raises(SourceError) as err:
            RunStore(path)
        assert f"PID {holder.pid}" in str(err.value) and "CRMCLEAN_STORE_WAIT" in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_cli_runs_shows_a_killed_run_as_interrupted_with_how_to_finish(journal: Journal,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from crmclean.cli import app

    crm = _crm()
    _kill_at("intents:2", monkeypatch)
    with pytest.raises(Killed):
        apply_plan(_plan(crm), FakeCrmConnector(crm), journal)
    run_id = _last_run(journal, "apply")
    _mark_killed(journal, run_id)
    result = CliRunner().invoke(app, ["runs", "--store", str(journal.path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "interrupted" in text and "running" not in text
    assert f"crmclean apply --resume {run_id}" in text and f"crmclean rollback {run_id}" in text
    shown = CliRunner().invoke(app, ["runs", "show", run_id, "--store", str(journal.path)])
    assert "interrupted" in shown.output and "--resume" in shown.output


@pytest.mark.parametrize("tamper", ["extra_op", "changed_after", "versions_removed", "target_moved", "unsigned"])
def test_a_tampered_plan_is_refused(tamper: str, journal: Journal, tmp_path: Path) -> None:
    import json

    from crmclean.errors import UsageError
    from crmclean.writeback.plan import load_plan, save_plan

    crm = _crm()
    path = tmp_path / "plan.json"
    save_plan(_plan(crm), path)
    signed = load_plan(path)
    assert signed.signature and signed.signature.startswith("hmac-sha256:")
    data = json.loads(path.read_text(encoding="utf-8"))
    if tamper == "extra_op":  # a record the plan never covered
        data["operations"].append({"op": "update", "record_id": "A3", "field": "Name", "before": "Petrov P",
                                   "after": "pwned", "rule": "", "reason": ""})
    elif tamper == "changed_after":
        data["operations"][0]["after"] = "=HYPERLINK(\"http://evil\")"
    elif tamper == "versions_removed":  # would merge a record a person edited after planning
        for op in data["operations"]:
            op.pop("versions", None)
        data["versions"] = {}
    elif tamper == "target_moved":
        data["source"]["spec"] = "../victim_dir/secret"
    else:
        data.pop("signature")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = crm.by_id()
    with pytest.raises(UsageError, match=r"refusing|no planned version"):
        apply_plan(load_plan(path), FakeCrmConnector(crm), journal, plan_path=str(path))
    assert crm.by_id() == before  # nothing written
    with journal.store() as st:
        assert st.list_runs(command="apply") == []


def test_a_signed_plan_file_applies(journal: Journal, tmp_path: Path) -> None:
    from crmclean.writeback.plan import load_plan, save_plan

    crm = _crm()
    path = tmp_path / "plan.json"
    save_plan(_plan(crm), path)
    report = apply_plan(load_plan(path), FakeCrmConnector(crm), journal, plan_path=str(path))
    assert report.status == "ok"


def test_a_merge_without_its_own_versions_still_checks_the_planned_version(journal: Journal) -> None:
    crm = _crm()
    plan = _plan(crm)
    for op in plan.merges:
        op.versions = {}
    crm.records["A4"]["Name"] = "edited by a person"
    crm.records["A4"]["Stamp"] = crm._tick()
    report = apply_plan(plan, FakeCrmConnector(crm), journal)
    assert "A4" in crm.records and crm.records["A4"]["Name"] == "edited by a person"
    assert any(p["unit"] == "merge:c1" and p["status"] == "conflict" for p in report.problems), report.problems


def test_a_plan_re_signed_without_the_key_is_refused(journal: Journal, tmp_path: Path) -> None:
    """Editing plan.json and recomputing a plain hash of it does not get past apply: the signature is keyed."""
    import hashlib
    import json

    from crmclean.errors import UsageError
    from crmclean.writeback.plan import load_plan, save_plan, verify_plan

    path = tmp_path / "plan.json"
    save_plan(_plan(_crm()), path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["operations"][0]["after"] = "pwned"
    content = {"source": data["source"], "operations": data["operations"], "versions": data["versions"]}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    data["signature"] = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(UsageError, match="refusing"):
        verify_plan(load_plan(path), str(path))


def test_landed_create_is_one_reading_of_the_copies_found() -> None:
    """After an uncertain create: one copy is the record (never create again), several ask a person, none is open."""
    from crmclean.connectors.base import landed_create

    assert landed_create(["003A"], "timeout") == ("003A", "timeout; found created as 003A")
    new_id, note = landed_create(["003A", "003B"], "timeout")
    assert new_id is None and note is not None and "2 records" in note and "keep one" in note
    assert landed_create([], "timeout") == (None, None)
