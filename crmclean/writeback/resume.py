"""Finish an interrupted apply or rollback run, or retry its failed units, from the journal."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from crmclean.connectors.base import Connector, Value
from crmclean.errors import UsageError
from crmclean.writeback.apply import units_from_plan
from crmclean.writeback.engine import Engine, Unit
from crmclean.writeback.rollback import rollback_units
from crmclean.writeback.run import RunReport, finish_run, interrupt_guard
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import open_target


def _pending(units: Sequence[Unit], journal: Journal, run_id: str) -> tuple[list[Unit], int, int]:
    """Units of ``run_id`` without an outcome, marked in doubt when their intent was journaled."""
    done = journal.unit_status(run_id)
    intents = journal.intents(run_id)
    versions: dict[str, dict[str, str]] = {}
    logged: dict[str, datetime] = {}
    for unit, at in intents.select("unit", "logged_at").iter_rows():
        logged.setdefault(unit, at)
    changes: dict[str, dict[str, tuple[Value, Value]]] = {}
    for unit, rid, fld, before, after, version in intents.select(
            "unit", "record_id", "field", "before", "after", "before_version").iter_rows():
        if version is not None:
            versions.setdefault(unit, {})[rid] = version
        if fld is not None:
            changes.setdefault(unit, {})[fld] = (before, after)
    journaled = set(intents.get_column("unit").to_list())
    pending = []
    for u in units:
        if done.get(u.key) not in (None, "failed", "skipped"):
            continue  # ok or conflict: retrying cannot change that (a conflict needs a new plan)
        if u.key in journaled:
            u.in_doubt = True
            u.intent_versions = versions.get(u.key, {})
            u.intent_at = logged.get(u.key)
            u.changes.update(changes.get(u.key, {}))
        pending.append(u)
    max_seq = int(intents["seq"].max() or 0) if intents.height else 0  # type: ignore[arg-type]
    with journal.store() as st:
        row = st.con.execute("SELECT max(batch) FROM (SELECT batch FROM journal_intents WHERE run_id = ? UNION ALL "
                             "SELECT batch FROM journal_outcomes WHERE run_id = ?)", [run_id, run_id]).fetchall()
    max_batch = int(row[0][0] or 0) if row else 0
    return pending, max_seq, max_batch


def resume_run(run_id: str, journal: Journal, *, connector: Connector | None = None,
               batch_size: int | None = None, progress: Callable[[int], None] | None = None) -> RunReport:
    """Finish an interrupted apply or rollback, or retry the failed units of a finished one.

    Units that ended ok or in conflict are never sent again; failed and skipped ones are re-checked
    against the target (in doubt: a write that failed late may have landed) and sent when still due.
    """
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store", hint="list runs with `crmclean runs`")
    run_id = info.run_id
    if info.command not in ("apply", "rollback"):
        raise UsageError(f"run {run_id} is a `{info.command}` run; only apply and rollback runs can be resumed")
    if info.status not in ("running", "interrupted", "partial", "failed"):
        raise UsageError(f"run {run_id} already finished (status {info.status}); nothing to resume")
    details = info.details or {}
    connector = connector or open_target(details, resume=True)
    cannot: list[str] = []
    if info.command == "apply":
        units = units_from_plan(journal.load_plan(run_id), details.get("only"))
    else:
        units, cannot = rollback_units(journal, str(info.parent_run), connector, check_done=False)
    pending, max_seq, max_batch = _pending(units, journal, run_id)
    with journal.store() as st:
        st.claim_run(run_id)
    engine = Engine(connector, journal, run_id, batch_size=batch_size or details.get("batch_size"),
                    progress=progress)
    masters = {u.key: u.record_id for u in units if u.op == "merge"}
    creates = {u.key for u in units if u.op == "create"}
    for key, rid, nid, st, av in journal.outcomes(run_id).select(
            "unit", "record_id", "new_id", "status", "after_version").iter_rows():
        if av is not None:
            engine.written[nid or rid] = av  # the earlier attempt's writes are this run's own
        if st == "ok" and key in masters and rid != masters[key]:
            engine.merged_away[rid] = masters[key]
        if key in masters and rid == masters[key] and nid is not None and nid != rid:
            engine.survivors[rid] = nid  # the merge made a new record (HubSpot): what is left is sent there
        if st == "ok" and key in creates and nid is not None:
            engine.recreated[rid] = nid
    with interrupt_guard(journal, run_id):
        engine.run(pending, first_seq=max_seq, first_batch=max_batch)
        connector.close()
    return finish_run(journal, run_id, info.command, str(details.get("target")), engine, units, cannot)
