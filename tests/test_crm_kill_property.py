"""Property (issue 17), on a CRM that assigns new ids and deletes merged-away records: for any plan (updates and
merges) and any kill point, apply + resume = apply once; apply + rollback + rollback = the original, and a rollback
killed part-way and run again finishes it without duplicates."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.store import RunStore
from crmclean.writeback import engine as engine_module
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.resume import resume_run
from crmclean.writeback.rollback import rollback_run
from crmclean.writeback.store import Journal
from tests._fake_crm import FIELDS, FakeCrm, FakeCrmConnector, fake_plan

IDS = [f"R{i}" for i in range(1, 9)]
value = st.one_of(st.none(), st.text(alphabet="абвгАБВabcXYZ 0123@.+-", min_size=0, max_size=8))
ORIGINAL = {rid: {f: f"{f[:2]}-{rid}" if i % 3 else None for i, f in enumerate(FIELDS, start=int(rid[1:]))}
            for rid in IDS}


@st.composite
def plans(draw: Any) -> tuple[list[tuple[str, str, str | None]], list[tuple[str, list[str], dict[str, Any]]]]:
    updates = draw(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(FIELDS), value), max_size=12))
    order = draw(st.permutations(IDS))
    merges = []
    i = 0
    for _ in range(draw(st.integers(0, 3))):
        size = draw(st.integers(2, 3))
        group = order[i:i + size]
        i += size
        if len(group) < 2:
            break
        merges.append((group[0], list(group[1:]), draw(st.dictionaries(st.sampled_from(FIELDS), value, max_size=2))))
    return updates, merges


class Killed(BaseException):
    """Stands for SIGKILL: nothing after the kill point runs."""


@contextmanager
def killed_at(point: tuple[str, int] | None):  # type: ignore[no-untyped-def]
    def hook(phase: str, batch: int) -> None:
        if (phase, batch) == point:
            raise Killed

    engine_module.CRASH_HOOK = hook
    try:
        yield
    finally:
        engine_module.CRASH_HOOK = None


def _as_killed(journal: Journal) -> None:
    """What SIGKILL leaves: runs still 'running', recorded by a process that is gone."""
    with journal.store() as st:
        st.con.execute("UPDATE runs SET details = json_merge_patch(details, '{\"pid\": 4206942}') "
                       "WHERE status IN ('running', 'interrupted')")


def _apply(updates: list, merges: list, journal: Journal, batch_size: int,  # type: ignore[type-arg]
           kill: tuple[str, int] | None) -> tuple[FakeCrm, str]:
    crm = FakeCrm(ORIGINAL)
    plan = fake_plan(crm, updates, merges)
    with killed_at(kill), suppress(Killed):
        apply_plan(plan, FakeCrmConnector(crm), journal, batch_size=batch_size)
    with journal.store() as st:
        run_id = st.list_runs(command="apply", limit=1)[0].run_id
        status = st.get_run(run_id).status  # type: ignore[union-attr]
    if status in ("running", "interrupted"):
        _as_killed(journal)
        report = resume_run(run_id, journal, connector=FakeCrmConnector(crm), batch_size=batch_size)
        assert report.status == "ok", report.problems
    return crm, run_id


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=plans(), batch_size=st.integers(1, 4),
       phase=st.sampled_from(["intents", "sent", "flushed", "outcomes"]), batch=st.integers(1, 8),
       undo_phase=st.sampled_from(["intents", "outcomes", None]), undo_batch=st.integers(1, 6))
def test_any_kill_point_resume_equals_apply_and_rollback_twice_restores(parts, batch_size, phase, batch,  # type: ignore[no-untyped-def]
                                                                        undo_phase, undo_batch) -> None:
    updates, merges = parts
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(RunStore(Path(tmp) / "runs.duckdb"))
        once, _ = _apply(updates, merges, journal, batch_size, None)
        resumed, run_id = _apply(updates, merges, Journal(RunStore(Path(tmp) / "killed.duckdb")), batch_size,
                                 (phase, batch))
        assert resumed.by_id() == once.by_id()  # apply + resume = apply once

        journal = Journal(RunStore(Path(tmp) / "killed.duckdb"))
        kill = (undo_phase, undo_batch) if undo_phase else None
        with killed_at(kill), suppress(Killed):
            rollback_run(run_id, journal, connector=FakeCrmConnector(resumed), batch_size=batch_size)
        _as_killed(journal)
        again = rollback_run(run_id, journal, connector=FakeCrmConnector(resumed), batch_size=batch_size)
        assert again.status in ("ok", "nothing to do"), again.problems
        assert resumed.values() == FakeCrm(ORIGINAL).values()  # the original, with no duplicate
        third = rollback_run(run_id, journal, connector=FakeCrmConnector(resumed), batch_size=batch_size)
        assert third.status == "nothing to do" and resumed.values() == FakeCrm(ORIGINAL).values()
