"""A write run's lifecycle around the engine: marked interrupted on an exception, finished with its counts, reported."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crmclean.writeback.engine import Engine, Unit
from crmclean.writeback.store import Journal


@dataclass
class RunReport:
    """What a run did, for the CLI and for job summaries."""

    run_id: str | None
    command: str
    status: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)  # conflict / failed records with why
    cannot_restore: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "command": self.command, "status": self.status, "target": self.target,
            "dry_run": self.dry_run, "counts": self.counts, "problems": self.problems,
            "cannot_restore": self.cannot_restore,
        }


def finish_run(journal: Journal, run_id: str, command: str, target: str, engine: Engine,
               units: Sequence[Unit], cannot_restore: list[str] | None = None) -> RunReport:
    status_by_unit = journal.unit_status(run_id)
    counts = {"units": len(units), "ok": 0, "failed": 0, "conflict": 0, "skipped": 0}
    for u in units:
        unit_status = status_by_unit.get(u.key)
        if unit_status is not None:
            counts[unit_status] = counts.get(unit_status, 0) + 1
    counts["fields"] = sum(len(u.changes) for u in units if u.op == "update")
    counts["updates"] = sum(1 for u in units if u.op == "update")
    counts["merges"] = sum(1 for u in units if u.op == "merge")
    counts["creates"] = sum(1 for u in units if u.op == "create")
    counts["deletes"] = sum(1 for u in units if u.op == "delete")
    if counts["failed"] and not counts["ok"]:
        status = "failed"
    elif counts["failed"] or counts["conflict"]:
        status = "partial"
    else:
        status = "ok"
    problems = run_problems(journal, run_id)
    details_extra = {"cannot_restore": cannot_restore or []}
    with journal.store() as st:
        info = st.get_run(run_id)
        details = dict(info.details or {}) if info else {}
        details.update(details_extra)
        st.finish_run(run_id, status, counts=counts, details=details)
    return RunReport(run_id, command, status, target, counts, problems, cannot_restore or [])


def run_problems(journal: Journal, run_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with journal.store() as st:
        rows = st.con.execute(
            """SELECT unit, record_id, arg_max(status, logged_at), arg_max(error, logged_at) FROM journal_outcomes
               WHERE run_id = ? GROUP BY unit, record_id
               HAVING arg_max(status, logged_at) IN ('conflict', 'failed') ORDER BY unit, record_id LIMIT ?""",
            [run_id, limit]).fetchall()
    return [{"unit": r[0], "record_id": r[1], "status": r[2], "error": r[3]} for r in rows]


@contextmanager
def interrupt_guard(journal: Journal, run_id: str) -> Iterator[None]:
    """An exception mid-run leaves the run marked ``interrupted`` (SIGKILL leaves ``running``): both resume."""
    try:
        yield
    except BaseException:
        try:
            with journal.store() as st:
                st.update_status(run_id, "interrupted")
        except Exception:  # the store itself may be what failed; the run stays resumable either way
            pass
        raise
