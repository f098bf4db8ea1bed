"""Undo a run from its journal: restore before-values, re-create merged-away records, skip records changed since."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from crmclean.connectors.base import Connector, Value
from crmclean.errors import UsageError
from crmclean.store import RunInfo
from crmclean.writeback.engine import Engine, Unit
from crmclean.writeback.run import RunReport, finish_run, interrupt_guard
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import FILE_KINDS, open_target


def earlier_rollbacks(journal: Journal, run_id: str) -> list[RunInfo]:
    """Rollback runs of ``run_id`` already recorded, oldest first."""
    with journal.store() as st:
        ids = [r[0] for r in st.con.execute(
            "SELECT run_id FROM runs WHERE command = 'rollback' AND parent_run = ? ORDER BY started_at",
            [run_id]).fetchall()]
        return [info for rid in ids if (info := st.get_run(rid)) is not None]


def already_rolled_back(journal: Journal, run_id: str) -> str | None:
    """Why there is nothing to undo when a finished rollback already undid ``run_id``; else None."""
    done = [r for r in earlier_rollbacks(journal, run_id) if r.state == "ok"]
    if not done:
        return None
    return (f"run {run_id} was already rolled back by run {done[-1].run_id}: nothing to undo "
            f"(to redo its writes, roll back {done[-1].run_id})")


def rollback_units(journal: Journal, run_id: str, connector: Connector, *,
                   check_done: bool = True) -> tuple[list[Unit], list[str]]:
    """The inverse of every write ``run_id`` made (or may have made), newest first, and what cannot be undone.

    With ``check_done``, a run an earlier rollback already undid yields no units (an undo is idempotent).
    """
    if check_done:
        done = already_rolled_back(journal, run_id)
        if done:
            return [], [done]
    intents = journal.intents(run_id)
    status = journal.unit_status(run_id)
    outcomes = journal.outcomes(run_id)
    after_version: dict[tuple[str, str], str] = {}
    new_ids: dict[str, str] = {}
    last_version: dict[str, str] = {}  # record -> the version the run left it at (its last write wins)
    record_status: dict[tuple[str, str], str] = {}  # (unit, record) -> its latest outcome
    for unit, rid, st, nid, av in outcomes.select("unit", "record_id", "status", "new_id", "after_version").iter_rows():
        record_status[(unit, rid)] = st
        if av is not None:
            last_version[rid] = av  # after_version is only journaled when the run changed the record
        if st == "ok":
            if av is not None:
                after_version[(unit, rid)] = av
            if nid is not None:
                new_ids[unit] = nid
    # a record the run updated and then merged away is re-created with its values from before the update
    first_before: dict[str, dict[str, Value]] = {}
    for rid, fld, before, op, unit in intents.select("record_id", "field", "before", "op", "unit").iter_rows():
        if op == "update" and fld is not None and status.get(unit) in (None, "ok"):
            first_before.setdefault(rid, {}).setdefault(fld, before)
    recreated: set[str] = set()
    doubtful: set[str] = set()  # records of merges that may have landed without an outcome
    by_unit: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for row in intents.iter_rows(named=True):
        if row["unit"] not in by_unit:
            order.append(row["unit"])
        by_unit.setdefault(row["unit"], []).append(row)
    caps = frozenset(getattr(connector, "capabilities", frozenset()))
    crm = connector.kind not in FILE_KINDS
    keeps = bool(getattr(connector, "merge_keeps_records", False))
    keeps_ids = not crm or bool(getattr(connector, "keeps_ids_on_create", False))  # merges only flagged the duplicates (amoCRM)
    units: list[Unit] = []
    cannot: list[str] = []
    survivor_of: dict[str, str] = {}  # merge master -> the new id its merge gave the survivor
    for key in order:
        head = next((r for r in by_unit[key] if r["op"] == "merge" and r["field"] is None and _role(r) == "master"),
                    None)
        if head is not None and new_ids.get(key):
            survivor_of[head["record_id"]] = new_ids[key]
    for key in reversed(order):
        st = status.get(key)
        # a merge that failed part-way merged some losers: those come back
        partial = st == "failed" and by_unit[key][0]["op"] == "merge" and any(
            record_status.get((key, r["record_id"])) == "ok" for r in by_unit[key] if _role(r) == "loser")
        # a failed merge may have landed (its reply lost): undo it in doubt, reading the target to see
        failed_merge = st == "failed" and by_unit[key][0]["op"] == "merge" and not partial
        if st not in (None, "ok") and not partial and not failed_merge:
            continue  # conflict / failed / skipped: nothing was written
        in_doubt = st is None or failed_merge
        rows = by_unit[key]
        op = rows[0]["op"]
        undo = f"undo:{key}"
        if op == "update":
            rid = rows[0]["record_id"]
            if rid in recreated:
                continue  # merged away later in the run: its re-created copy already holds these before-values
            changes = {r["field"]: (r["after"], r["before"]) for r in rows if r["field"] is not None}
            # a merge after this update may have landed unjournaled (killed): its new version is unknown, so the
            # record is checked by its values
            av = last_version.get(rid) if not in_doubt and rid not in doubtful else None
            rid = survivor_of.get(rid, rid)  # the master of a later merge that gave it a new id (HubSpot)
            units.append(Unit(key=undo, op="update", record_id=rid, changes=changes,
                              rules={f: "rollback" for f in changes},
                              accept={rid: frozenset([av])} if av and not in_doubt else {}))
        elif op == "merge":
            if in_doubt:
                doubtful.update(r["record_id"] for r in rows)
            master_rows = [r for r in rows if r["field"] is not None]
            head = next((r for r in rows if r["field"] is None and _role(r) == "master"), None)
            master_id = head["record_id"] if head else master_rows[0]["record_id"]
            changes = {r["field"]: (r["after"], r["before"]) for r in master_rows}
            filled: list[str] = []
            if crm and not keeps and head is not None and head["detail"]:
                # HubSpot fills the master's empty fields from the merged-away records: empty them again
                writable = {f.name for f in connector.describe() if f.updateable}
                for fld, value in json.loads(head["detail"]).get("snapshot", {}).items():
                    if value in (None, "") and fld in writable and fld not in changes:
                        changes[fld] = (None, None)
                        filled.append(fld)
            av = last_version.get(master_id, after_version.get((key, master_id)))
            survivor = new_ids.get(key) or master_id  # HubSpot may give the merged record a new id
            losers = [r for r in rows if r["field"] is None and _role(r) == "loser"]
            if changes:
                # by-values targets: the survivor holds what the merge wrote, and a filled field any merged value
                fills = [json.loads(r["detail"])["snapshot"] for r in losers] if filled else []
                expect = {f: frozenset({a or None}) for f, (a, _) in changes.items() if f not in filled}
                expect.update({f: frozenset({None, *(snap.get(f) or None for snap in fills)}) for f in filled})
                units.append(Unit(key=f"{undo}:master", op="update", record_id=survivor, changes=changes,
                                  rules={f: "rollback" for f in changes},
                                  accept={survivor: frozenset([av])} if av and not in_doubt else {},
                                  expect={survivor: expect}))
            for r in reversed(losers):
                if partial and record_status.get((key, r["record_id"])) != "ok":
                    continue
                snap = json.loads(r["detail"])["snapshot"]
                if keeps:  # the duplicate is still there: give its flag fields (tags) their values back
                    rid = r["record_id"]
                    flags: dict[str, tuple[Value, Value]] = {
                        str(f): (None, snap.get(f)) for f in getattr(connector, "flag_fields", ())}
                    lv = last_version.get(rid) if not in_doubt else None
                    if flags:
                        units.append(Unit(key=f"{undo}:{rid}", op="update", record_id=rid, changes=flags,
                                          rules={f: "rollback" for f in flags},
                                          accept={rid: frozenset([lv])} if lv else {}))
                    continue
                # re-created with its values from before the run's updates; in doubt too where the copy gets a new
                # id (a CRM): it is only made when the record is gone, and then the updates' undo has no record
                # left to act on. A file re-creates it under its own id, and the updates' undo follows.
                if not in_doubt or not keeps_ids:
                    snap = {**snap, **first_before.get(r["record_id"], {})}
                if not in_doubt:  # merged for sure: no record left to undo the updates on
                    recreated.add(r["record_id"])
                if "create" not in caps:
                    cannot.append(f"record {r['record_id']} (merged into {master_id}) cannot be re-created: "
                                  f"the {connector.kind} target does not create records")
                    continue
                units.append(Unit(key=f"{undo}:{r['record_id']}", op="create", record_id=r["record_id"],
                                  snapshot=snap))
            caveat = getattr(connector, "flag_rollback_caveat", None)
            if keeps and losers and caveat:
                cannot.append(f"duplicates of {master_id}: {caveat}")
            if crm and losers and not keeps:
                cannot.append(f"merge into {master_id}: activities, notes, deals and other related records the CRM "
                              f"moved to {master_id} stay there; re-created records get new ids (see `runs show`)")
        elif op == "create":
            rid = rows[0]["record_id"]
            snap = json.loads(rows[0]["detail"])["snapshot"] if rows[0]["detail"] else {}
            target_id = new_ids.get(key) or (rid if not crm else None)
            if target_id is None:
                cannot.append(f"record re-created from {rid}: its new id is unknown (run interrupted); delete it by hand")
                continue
            av = after_version.get((key, rid))
            if "delete" not in caps:
                cannot.append(f"record {target_id}: the {connector.kind} target does not delete records")
                continue
            units.append(Unit(key=undo, op="delete", record_id=target_id, snapshot=snap,
                              accept={target_id: frozenset([av])} if av else {}))
        elif op == "delete":
            rid = rows[0]["record_id"]
            snap = json.loads(rows[0]["detail"])["snapshot"]
            if "create" not in caps:
                cannot.append(f"record {rid} cannot be re-created: the {connector.kind} target does not create records")
                continue
            units.append(Unit(key=undo, op="create", record_id=rid, snapshot=snap))
    return units, cannot


def _role(row: Mapping[str, Any]) -> str | None:
    try:
        return json.loads(row["detail"]).get("role") if row["detail"] else None
    except ValueError:
        return None


def rollback_run(run_id: str, journal: Journal, *, connector: Connector | None = None,
                 batch_size: int | None = None, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None) -> RunReport:
    """Undo ``run_id`` as a new run: restore before-values, re-create merged-away records, skip records changed since."""
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store", hint="list runs with `crmclean runs`")
    if info.command not in ("apply", "rollback"):
        raise UsageError(f"run {info.run_id} is a `{info.command}` run; it wrote nothing to roll back")
    details = dict(info.details or {})
    done = already_rolled_back(journal, info.run_id)
    if done:
        return RunReport(None, "rollback", "nothing to do", str(details.get("target") or info.source),
                         {"units": 0, "ok": 0, "failed": 0, "conflict": 0, "skipped": 0}, [], [done],
                         dry_run=dry_run)
    if not dry_run:
        unfinished = [r for r in earlier_rollbacks(journal, info.run_id) if r.state != "ok"]
        if unfinished:
            # an earlier rollback of this run was interrupted or left failures: finish that one, never start over
            # (re-creating merged-away records twice would duplicate them)
            last = unfinished[-1]
            if last.state == "running":
                raise UsageError(f"run {info.run_id} is being rolled back right now by run {last.run_id}")
            from crmclean.writeback.resume import resume_run

            return resume_run(last.run_id, journal, connector=connector, batch_size=batch_size, progress=progress)
    connector = connector or open_target(details, resume=False)
    units, cannot = rollback_units(journal, info.run_id, connector)
    target = str(details.get("target") or connector.spec)
    if dry_run:
        engine = Engine(connector, None, None, batch_size=batch_size, dry_run=True, progress=progress)
        engine.run(units)
        counts: dict[str, int] = {"units": len(units), "ok": 0, "failed": 0, "conflict": 0, "skipped": 0}
        for st_ in engine.final.values():
            counts[st_] += 1
        return RunReport(None, "rollback", "dry-run", target, counts, engine.problems, cannot, dry_run=True)
    new_details = {**details, "rolls_back": info.run_id, "batch_size": batch_size,
                   "target": target, "in_place": True}
    with journal.store() as st:
        new_id = st.start_run("rollback", str(details.get("source") or info.source), mode="write",
                              rules_hash=info.rules_hash, parent_run=info.run_id, details=new_details)
    engine = Engine(connector, journal, new_id, batch_size=batch_size, progress=progress)
    with interrupt_guard(journal, new_id):
        engine.run(units)
        connector.close()
    return finish_run(journal, new_id, "rollback", target, engine, units, cannot)


def run_target_connector(run_id: str, journal: Journal) -> Connector:
    """The connector a rollback of ``run_id`` writes through."""
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store")
    return open_target(info.details or {}, resume=False)
