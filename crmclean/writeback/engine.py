"""The engine that sends units of work through any connector, journaling before and after each batch.

Every batch goes: fetch the targeted records → compare their versions with the plan's →
journal the intended writes with their before-values (commit) → send → flush file
targets → journal each record's outcome (commit). A process killed at any instant leaves
either no intent (nothing sent), or an intent without outcome, which ``resume`` and
``rollback`` reconcile record by record against the target's current state.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from crmclean.connectors import FieldUpdate, MergeRequest, Record, WriteOutcome
from crmclean.connectors.base import Connector, Value, landed_create
from crmclean.connectors.http import TransientConnectorError
from crmclean.table import ROW_ID
from crmclean.writeback.fidelity import fidelity_problem
from crmclean.writeback.store import INTENT_SCHEMA, OUTCOME_SCHEMA, SEVERITY, Journal
from crmclean.writeback.targets import FILE_KINDS

KILL_ENV = "CRMCLEAN_TEST_KILL_AT"  # "<phase>:<batch>": SIGKILL ourselves there (crash tests)
# in-process crash tests set this to raise at a phase instead of killing the test runner
CRASH_HOOK: Callable[[str, int], None] | None = None
Op = Literal["update", "merge", "create", "delete"]
Status = Literal["ok", "failed", "conflict", "skipped"]

# ---------------------------------------------------------------- units of work


@dataclass(slots=True)
class Unit:
    """One all-or-nothing write: a record's field update, a merge, a re-create or a delete."""

    key: str  # unique within its run, stable across resume
    op: Op
    record_id: str
    changes: dict[str, tuple[Value, Value]] = field(default_factory=dict)  # field -> (expected before, after)
    rules: dict[str, str] = field(default_factory=dict)
    loser_ids: tuple[str, ...] = ()
    accept: dict[str, frozenset[str]] = field(default_factory=dict)  # record -> versions accepted; else by values
    # record -> field -> the values it may hold: the version stamp of a target stamped by values (``version_stamp``)
    expect: dict[str, dict[str, frozenset[Value]]] = field(default_factory=dict)
    snapshot: dict[str, Value] | None = None  # create: the record to re-create
    cluster_id: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    # resume: the intent was journaled but no outcome; these are the versions journaled then
    in_doubt: bool = False
    intent_versions: dict[str, str] = field(default_factory=dict)
    intent_at: datetime | None = None  # when the intent was journaled (an in-doubt create looks for copies since)
    found_id: str | None = None  # an in-doubt create found landed: the copy's id

    @property
    def record_ids(self) -> tuple[str, ...]:
        return (self.record_id, *self.loser_ids)

def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _maybe_die(phase: str, batch: int) -> None:
    """Crash tests: ``CRMCLEAN_TEST_KILL_AT=sent:2`` SIGKILLs this process right after sending batch 2."""
    if CRASH_HOOK is not None:
        CRASH_HOOK(phase, batch)
    spec = os.environ.get(KILL_ENV)
    if spec and spec == f"{phase}:{batch}":
        os.kill(os.getpid(), signal.SIGKILL)


def _same(a: Value, b: Value) -> bool:
    # files cannot tell an empty cell from a missing one
    return (a or None) == (b or None)


def expect_values(snapshot: Mapping[str, Value], also: Mapping[str, Value] | None = None) -> dict[str, frozenset[Value]]:
    """A record's expected values (``Unit.expect``): the snapshot's, or for fields in ``also`` that value too."""
    also = also or {}
    return {f: frozenset({v or None, *((also[f] or None,) if f in also else ())}) for f, v in snapshot.items()}


def _describe_conflict(unit: Unit, rec: Record) -> str:
    diffs = [f"{f} is now {rec.get(f)!r} (planned from {before!r})"
             for f, (before, _) in unit.changes.items() if not _same(rec.get(f), before)]
    if diffs:
        return "changed since planned: " + "; ".join(diffs[:3])
    return "changed since planned (in fields this write does not touch)"


# ---------------------------------------------------------------- the engine


class Engine:
    """Runs units against a connector, journaling intents before and outcomes after each batch."""

    def __init__(self, connector: Connector, journal: Journal | None, run_id: str | None, *,
                 batch_size: int | None = None, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None) -> None:
        self.connector = connector
        self.journal = journal
        self.run_id = run_id
        self.batch_size = max(1, batch_size or int(getattr(connector, "max_batch", 200) or 200))
        self.dry_run = dry_run
        self.progress = progress
        self.keeps_ids = connector.kind in FILE_KINDS or bool(getattr(connector, "keeps_ids_on_create", False))
        self.synthetic_ids = connector.id_field == ROW_ID
        self.capabilities = frozenset(getattr(connector, "capabilities", frozenset()))
        # a target that cannot merge through its API (amoCRM) flags the duplicates instead: they stay in the target
        self.keeps_losers = bool(getattr(connector, "merge_keeps_records", False))
        # a target whose last-modified stamp also moves on its own internal updates (HubSpot: workflows, calculated
        # properties, associations) says version_stamp = "values": a record counts as unchanged while the fields a
        # unit writes and reads hold the values planned, whatever its stamp says
        self.by_values = getattr(connector, "version_stamp", "modstamp") == "values"
        self._user_fields: frozenset[str] | None = None
        self.final: dict[str, str] = {}  # unit -> status of this execution
        self.problems: list[dict[str, Any]] = []
        self.batch_no = 0
        self.seq = 0
        self._versions: dict[str, str] = {}
        # record -> its version right after this run wrote it: a CRM stamps a new last-modified date on every
        # write, so a later unit on the same record (a merge after its updates) accepts the run's own write
        self.written: dict[str, str] = {}
        self.merged_away: dict[str, str] = {}  # loser -> master, merged by this run
        self.recreated: dict[str, str] = {}  # record -> the id of its copy, re-created by this run (rollback)
        # merge master -> the new id its merge gave the survivor (HubSpot); a resumed unit on it is sent there
        self.survivors: dict[str, str] = {}

    def _at(self, rid: str) -> str:
        """Where record ``rid`` lives now: its survivor's id after a merge that made a new record, else itself."""
        seen = {rid}
        while rid in self.survivors and self.survivors[rid] not in seen:
            rid = self.survivors[rid]
            seen.add(rid)
        return rid

    # -- batching: a batch never holds two units touching one record (versions would go stale mid-batch)
    def _batches(self, units: Sequence[Unit]) -> Iterator[list[Unit]]:
        batch: list[Unit] = []
        ids: set[str] = set()
        for unit in units:
            rids = unit.record_ids
            if batch and (len(batch) >= self.batch_size or any(r in ids for r in rids)
                          or (unit.op == "merge") != (batch[0].op == "merge")):
                yield batch
                batch, ids = [], set()
            batch.append(unit)
            ids.update(rids)
        if batch:
            yield batch

    def run(self, units: Sequence[Unit], first_seq: int = 0, first_batch: int = 0) -> None:
        self.seq = first_seq
        self.batch_no = first_batch
        with self.journal.held() if self.journal is not None else nullcontext():  # one store between quick batches
            for batch in self._batches(units):
                self.batch_no += 1
                self._run_batch(batch)
                if self.progress:
                    self.progress(len(batch))

    def _fetch(self, ids: Sequence[str]) -> dict[str, Record]:
        if not ids:
            return {}
        found: dict[str, Record] = {}
        chunk = max(1, int(getattr(self.connector, "max_batch", 2000) or 2000))
        for i in range(0, len(ids), chunk):
            found.update(self.connector.fetch(list(ids[i:i + chunk])))
        return found

    def _holds(self, unit: Unit, rid: str, rec: Record) -> bool | None:
        """By-values targets: whether ``rec`` holds the values ``unit`` expects of it (user fields only); None when
        the target is stamped by versions or the unit expects nothing of this record."""
        expected = unit.expect.get(rid) if self.by_values else None
        if expected is None:
            return None
        if self._user_fields is None:
            self._user_fields = frozenset(f.name for f in self.connector.describe() if f.updateable) - {
                self.connector.id_field}
        return all((rec.get(f) or None) in values for f, values in expected.items()
                   if f in self._user_fields and f in rec)

    def _unchanged(self, unit: Unit, rid: str, rec: Record | None, versions: frozenset[str | None]) -> bool:
        """Whether record ``rid`` is as the unit expects: by one of ``versions`` (or this run's own write), or on
        a by-values target by its values."""
        version = self._versions.get(rid)
        if version in versions or (version is not None and version in (self.written.get(rid),
                                                                        self.written.get(self._at(rid)))):
            return True
        return bool(rec is not None and self._holds(unit, rid, rec))

    def _check(self, unit: Unit, current: Mapping[str, Record]) -> tuple[str, str | None]:
        """'send', 'done' (already holds the result), 'skip' or 'conflict', with the reason."""
        version_of = self.connector.version_of
        versions = self._versions
        if unit.op in ("merge", "create", "delete") and self.synthetic_ids:
            return "skip", "the file has no id column: deleting or inserting rows would renumber the others"
        if unit.op == "merge" and "merge" not in self.capabilities:
            return "skip", f"the {self.connector.kind} target cannot merge records"
        if unit.op == "create" and "create" not in self.capabilities:
            return "skip", f"the {self.connector.kind} target cannot create records"
        if unit.op == "update":
            rec = current.get(unit.record_id)
            if rec is None and unit.record_id in self.merged_away:
                return "skip", f"merged into {self.merged_away[unit.record_id]} by this run (the merge carried its values)"
            if rec is None and unit.record_id in self.recreated:
                return "skip", (f"re-created by this run as {self.recreated[unit.record_id]} with its values from "
                                f"before the run")
            if rec is None:
                return "conflict", "record no longer exists in the target"
            # issue 11: nothing lost on write-back; an undo puts back exactly what the record held, so it is exempt
            undo = bool(unit.rules) and all(r == "rollback" for r in unit.rules.values())
            lossy = None if undo else fidelity_problem(unit.changes, rec, unit.rules)
            if lossy is not None:
                return "skip", lossy
            done = all(_same(rec.get(f), after) for f, (_, after) in unit.changes.items())
            version = versions[unit.record_id]
            by_values = all(_same(rec.get(f), before) for f, (before, _) in unit.changes.items())
            held = self._holds(unit, unit.record_id, rec)
            if held is not None:
                by_values = held
            if self.by_values and not (done or by_values) and unit.record_id in self.merged_away.values():
                # a resumed update of a record this run has since merged into: the merge, planned after the
                # update, wrote the cluster's golden values (a value-stamped target cannot tell its own write
                # from a person's). Fields still holding their planned before-value are sent; the ones the merge
                # changed keep the golden value (sending them now would undo it)
                left = {f: (b, a) for f, (b, a) in unit.changes.items() if _same(rec.get(f), b)}
                if not left:
                    return "skip", (f"record {unit.record_id} was merged by this run since: its golden values "
                                    f"supersede this update")
                unit.changes = left
                return "send", None
            if unit.in_doubt:
                if done:
                    return "done", "found written when resuming"
                if by_values if self.by_values else version in (
                        unit.intent_versions.get(unit.record_id), self.written.get(unit.record_id)):
                    return "send", None
                return "conflict", _describe_conflict(unit, rec)
            accepted = None if self.by_values else unit.accept.get(unit.record_id)
            if accepted is not None:
                ok = version in accepted or self.written.get(unit.record_id) == version
            else:
                ok = by_values
            if ok:
                return "send", None
            if done:
                return "skip", "already holds these values"
            return "conflict", _describe_conflict(unit, rec)
        if unit.op == "merge":
            master = current.get(unit.record_id)
            if master is None:
                return "conflict", f"master {unit.record_id} no longer exists in the target"
            losers_present = [rid for rid in unit.loser_ids if rid in current]
            if unit.in_doubt and self.keeps_losers:
                # flagging is idempotent: send again (to the duplicates not flagged yet) unless someone changed
                # the master meanwhile
                unit.loser_ids = tuple(r for r in unit.loser_ids if self.merged_away.get(r) != unit.record_id)
                if versions[unit.record_id] in (unit.intent_versions.get(unit.record_id), self.written.get(
                        unit.record_id)) or all(_same(master.get(f), a) for f, (_, a) in unit.changes.items()):
                    return "send", None
                return "conflict", "the master changed while the merge was interrupted; check it by hand"
            if unit.in_doubt:
                done = not losers_present and all(_same(master.get(f), a) for f, (_, a) in unit.changes.items())
                if done:
                    return "done", "found merged when resuming"
                # losers this run already merged into the master stay merged; the rest are merged now
                merged_here = all(self.merged_away.get(rid) == unit.record_id
                                  for rid in unit.loser_ids if rid not in current)
                if merged_here and all(self._unchanged(unit, rid, current.get(rid), frozenset(
                        [unit.intent_versions.get(rid), self.written.get(rid)]))
                                       for rid in (unit.record_id, *losers_present)):
                    unit.loser_ids = tuple(losers_present)
                    return "send", None
                return "conflict", "records changed while the merge was interrupted; check them by hand"
            if len(losers_present) < len(unit.loser_ids):
                gone = [rid for rid in unit.loser_ids if rid not in current]
                return "conflict", f"record(s) {', '.join(gone)} no longer exist in the target"
            for rid in unit.record_ids:
                accepted = unit.accept.get(rid)
                if self.by_values and rid in unit.expect:
                    if not self._holds(unit, rid, current[rid]):
                        return "conflict", f"record {rid} changed since planned"
                elif accepted is not None and versions[rid] not in accepted and self.written.get(rid) != versions[rid]:
                    return "conflict", f"record {rid} changed since planned"
            return "send", None
        if unit.op == "create":
            if not self.keeps_ids:
                if unit.record_id in current:
                    # the merge that deleted it never took effect (killed before its outcome was journaled):
                    # re-creating would duplicate a record that is still there
                    return "skip", f"record {unit.record_id} still exists in the target: nothing to re-create"
                if unit.in_doubt:
                    # read the target: a copy made since the intent was journaled means the create landed
                    find = getattr(self.connector, "find_created", None)
                    if callable(find) and unit.intent_at is not None:
                        new_id, note = landed_create(list(find(self._creatable(unit.snapshot or {}), unit.intent_at)),
                                                     f"interrupted while re-creating {unit.record_id}")
                        if new_id is not None:
                            unit.found_id = new_id
                            return "done", note
                        return ("fail", note) if note else ("send", None)
                    return "fail", f"interrupted while re-creating {unit.record_id}: check the target for a copy"
                return "send", None
            rec = current.get(unit.record_id)
            if rec is None:
                return "send", None
            if unit.snapshot is not None and versions[unit.record_id] == version_of(unit.snapshot):
                return ("done", "found re-created when resuming") if unit.in_doubt else (
                    "skip", "a record with these values already exists")
            return "conflict", f"a different record with id {unit.record_id} exists in the target"
        # delete
        rec = current.get(unit.record_id)
        if rec is None:
            return ("done", "found deleted when resuming") if unit.in_doubt else ("skip", "already gone")
        accepted = unit.accept.get(unit.record_id)
        if unit.in_doubt:
            accepted = frozenset([unit.intent_versions.get(unit.record_id, "")])
        held = self._holds(unit, unit.record_id, rec)
        if held is False or (held is None and accepted is not None and versions[unit.record_id] not in accepted
                             and self.written.get(unit.record_id) != versions[unit.record_id]):
            return "conflict", "changed since it was re-created"
        return "send", None

    def _run_batch(self, batch: list[Unit]) -> None:
        ids = sorted({rid for u in batch for rid in u.record_ids})
        verdicts: dict[str, tuple[str, str | None]]
        try:
            fetched = self._fetch(sorted({self._at(rid) for rid in ids}))
            # a master merged into a new record (a resumed run) is checked as that record
            current = {rid: fetched[self._at(rid)] for rid in ids if self._at(rid) in fetched}
        except TransientConnectorError as err:
            # still refused after the connector's retries (rate limit, 5xx): this batch fails, the run goes on
            self._versions = {}
            verdicts = {u.key: ("fail", f"could not read the records before writing: {err}") for u in batch}
            current = {}
        else:
            # one version per fetched record per batch: checks and intents both read it
            self._versions = {rid: self.connector.version_of(rec) for rid, rec in current.items()}
            verdicts = {u.key: self._check(u, current) for u in batch}
        to_send = [u for u in batch if verdicts[u.key][0] == "send"]
        outcome_rows: dict[str, list[Any]] = {k: [] for k in OUTCOME_SCHEMA}

        def outcome(unit: Unit, rid: str, status: str, error: str | None = None, new_id: str | None = None,
                    after_version: str | None = None) -> None:
            now = _now()
            for k, v in (("run_id", self.run_id), ("batch", self.batch_no), ("unit", unit.key), ("record_id", rid),
                         ("status", status), ("error", error), ("new_id", new_id),
                         ("after_version", after_version), ("logged_at", now)):
                outcome_rows[k].append(v)
            prev = self.final.get(unit.key)
            if prev is None or SEVERITY[status] > SEVERITY[prev]:
                self.final[unit.key] = status
            if after_version is not None:  # only set when this run changed the record
                self.written[new_id or rid] = after_version
            if status == "ok" and unit.op == "merge" and rid != unit.record_id and not self.keeps_losers:
                self.merged_away[rid] = unit.record_id
            if unit.op == "merge" and rid == unit.record_id and new_id is not None and new_id != rid:
                self.survivors[rid] = new_id
            if status == "ok" and unit.op == "create" and new_id is not None:
                self.recreated[rid] = new_id
            if status in ("conflict", "failed"):
                self.problems.append({"unit": unit.key, "record_id": rid, "status": status, "error": error})

        for u in batch:
            verdict, why = verdicts[u.key]
            if verdict == "done" and u.found_id is not None:
                copy = self._fetch([u.found_id]).get(u.found_id)
                outcome(u, u.record_id, "ok", why, new_id=u.found_id,
                        after_version=self.connector.version_of(copy) if copy is not None else None)
            elif verdict == "done":
                rec = current.get(u.record_id)
                after_version = self._versions.get(u.record_id) if rec is not None and u.op != "delete" else None
                moved = self._at(u.record_id) if u.op in ("update", "merge") else u.record_id
                outcome(u, u.record_id, "ok", why, new_id=moved if moved != u.record_id else None,
                        after_version=after_version)
                if u.op == "merge" and not self.keeps_losers:
                    for rid in u.loser_ids:  # an earlier attempt may have recorded them failed (a lost reply)
                        outcome(u, rid, "ok", why)
            elif verdict in ("skip", "conflict", "fail"):
                status = {"skip": "skipped", "conflict": "conflict", "fail": "failed"}[verdict]
                outcome(u, u.record_id, status, why)
        if self.dry_run:
            for u in to_send:
                self.final[u.key] = "ok"
            return

        fresh = [u for u in to_send if not u.in_doubt]
        if fresh:
            self._journal_intents(fresh, current)
        _maybe_die("intents", self.batch_no)

        results = self._send(to_send, current)
        _maybe_die("sent", self.batch_no)
        self._reconcile(to_send, results)
        flush = getattr(self.connector, "flush", None)
        if callable(flush) and to_send:
            flush()  # a file target must hold exactly the writes we are about to record as ok
        _maybe_die("flushed", self.batch_no)

        # records we changed: written ok, or the master of a merge that merged some but not all of its losers
        changed = {(u.key, rid) for u in to_send for rid, o in results.get(u.key, [])
                   if u.op != "delete" and (
                       (o.status == "ok" and not (u.op == "merge" and rid != u.record_id and not self.keeps_losers))
                       or (u.op == "merge" and rid == u.record_id
                           and any(x.status == "ok" for _, x in results[u.key][1:])))}
        after_ids = [o.new_id or rid for u in to_send for rid, o in results.get(u.key, []) if (u.key, rid) in changed]
        after = self._fetch(sorted(set(after_ids)))
        for u in to_send:
            for rid, o in results.get(u.key, []):
                rec = after.get(o.new_id or rid)
                after_version = self.connector.version_of(rec) if (u.key, rid) in changed and rec is not None else None
                outcome(u, rid, o.status, o.error, o.new_id, after_version)
        if self.journal is not None:
            self.journal.write_outcomes(outcome_rows)
        _maybe_die("outcomes", self.batch_no)

    def _reconcile(self, units: list[Unit], results: dict[str, list[tuple[str, WriteOutcome]]]) -> None:
        """After an uncertain outcome (a failure: the reply may have been lost after the write landed) read the
        target to learn what happened, so that the journal records what is true, not what the reply said."""
        uncertain = [u for u in units if u.op in ("update", "merge", "delete")
                     and any(o.status == "failed" for _, o in results.get(u.key, []))]
        if not uncertain:
            return
        try:
            now = self._fetch(sorted({rid for u in uncertain for rid in u.record_ids}))
        except Exception:  # the target cannot be read now: the outcomes stay failed, resume reads them again
            return
        id_field = self.connector.id_field

        def gone(rid: str) -> bool:  # absent, or answered by the record it was merged into (a redirect)
            rec = now.get(rid)
            return rec is None or (rec.get(id_field) not in (None, "", rid) and id_field != ROW_ID)

        note = "the reply was lost or failed; read back from the target: written"
        for u in uncertain:
            outs = results[u.key]
            if u.op == "update":
                rec = now.get(u.record_id)
                if rec is not None and all(_same(rec.get(f), a) for f, (_, a) in u.changes.items()):
                    results[u.key] = [(rid, WriteOutcome(rid, "ok", note)) for rid, _ in outs]
            elif u.op == "delete":
                if gone(u.record_id):
                    results[u.key] = [(rid, WriteOutcome(rid, "ok", note)) for rid, _ in outs]
            else:
                learn = getattr(self.connector, "merge_outcome", None)
                told = learn(MergeRequest(u.record_id, u.loser_ids, {f: a for f, (_, a) in u.changes.items()})) \
                    if callable(learn) else None
                if told:  # the connector knows how to tell (merge records, flags)
                    by_id = {o.record_id: o for o in told}
                    results[u.key] = [(rid, by_id.get(rid, o)) for rid, o in outs]
                    continue
                if self.keeps_losers:
                    continue  # flagged duplicates stay: only the connector can tell whether flags landed
                master = now.get(u.record_id)
                fixed: list[tuple[str, WriteOutcome]] = []
                losers_gone = all(gone(r) for r in u.loser_ids)
                for rid, o in outs:
                    if o.status == "failed":
                        if rid == u.record_id:
                            if master is not None and losers_gone and not gone(rid) and all(
                                    _same(master.get(f), a) for f, (_, a) in u.changes.items()):
                                o = WriteOutcome(rid, "ok", note)
                        elif gone(rid):
                            o = WriteOutcome(rid, "ok", note)
                    fixed.append((rid, o))
                results[u.key] = fixed

    def _journal_intents(self, units: list[Unit], current: Mapping[str, Record]) -> None:
        rows: dict[str, list[Any]] = {k: [] for k in INTENT_SCHEMA}
        now = _now()
        versions = self._versions
        deleted_positions: list[int] = []  # rows deleted earlier in this batch (positions shift after each)

        def add(unit: Unit, rid: str, fld: str | None, before: Value, after: Value, rule: str | None,
                version: str | None, detail: dict[str, Any] | None) -> None:
            for k, v in (("run_id", self.run_id), ("batch", self.batch_no), ("seq", self.seq), ("unit", unit.key),
                         ("op", unit.op), ("record_id", rid), ("field", fld), ("before", before), ("after", after),
                         ("rule", rule), ("before_version", version),
                         ("detail", json.dumps(detail, ensure_ascii=False) if detail is not None else None),
                         ("logged_at", now)):
                rows[k].append(v)

        def snapshot_at_delete(rid: str) -> dict[str, Value]:
            rec = dict(current[rid])
            pos = rec.get("__position")
            if pos is not None and str(pos).isdigit():
                p = int(pos)
                # deletes in a batch happen one after another: the position is the one at the moment of deletion
                rec["__position"] = str(p - sum(1 for d in deleted_positions if d < p))
                deleted_positions.append(p)
            return rec

        for unit in units:
            self.seq += 1
            if unit.op == "update":
                rec = current[unit.record_id]
                version = versions[unit.record_id]
                for f, (_, after) in list(unit.changes.items()):
                    add(unit, unit.record_id, f, rec.get(f), after, unit.rules.get(f), version, None)
                    unit.changes[f] = (rec.get(f), after)
                unit.intent_versions = {unit.record_id: version}
            elif unit.op == "merge":
                master = current[unit.record_id]
                unit.intent_versions = {rid: versions[rid] for rid in unit.record_ids}
                for f, (_, after) in list(unit.changes.items()):
                    add(unit, unit.record_id, f, master.get(f), after, unit.reasons.get(f),
                        unit.intent_versions[unit.record_id], None)
                    unit.changes[f] = (master.get(f), after)
                add(unit, unit.record_id, None, None, None, None, unit.intent_versions[unit.record_id],
                    {"role": "master", "cluster_id": unit.cluster_id, "loser_ids": list(unit.loser_ids),
                     "snapshot": dict(master)})
                for rid in unit.loser_ids:
                    add(unit, rid, None, None, None, None, unit.intent_versions[rid],
                        {"role": "loser", "cluster_id": unit.cluster_id, "master_id": unit.record_id,
                         "snapshot": snapshot_at_delete(rid)})
            elif unit.op == "create":
                add(unit, unit.record_id, None, None, None, None, None, {"snapshot": unit.snapshot})
            else:  # delete
                version = versions[unit.record_id]
                unit.intent_versions = {unit.record_id: version}
                add(unit, unit.record_id, None, None, None, None, version,
                    {"snapshot": snapshot_at_delete(unit.record_id)})
        if self.journal is not None:
            self.journal.write_intents(rows)

    def _send(self, units: list[Unit], current: Mapping[str, Record]) -> dict[str, list[tuple[str, WriteOutcome]]]:
        """Send one batch; a request that still fails after the connector's retries fails its units, not the run.

        Such a failure is uncertain (a timeout may have landed): ``_reconcile`` reads the target afterwards.
        """
        results: dict[str, list[tuple[str, WriteOutcome]]] = {}
        con = self.connector

        def failed(us: list[Unit], err: TransientConnectorError) -> None:
            for u in us:
                results[u.key] = [(rid, WriteOutcome(rid, "failed", str(err)))
                                  for rid in (u.record_id, *(u.loser_ids if u.op == "merge" else ()))]

        updates = [u for u in units if u.op == "update"]
        if updates:
            try:
                outs = con.update([FieldUpdate(self._at(u.record_id), {f: a for f, (_, a) in u.changes.items()})
                                   for u in updates])
            except TransientConnectorError as err:
                failed(updates, err)
            else:
                by_id = {o.record_id: o for o in outs}
                for u in updates:
                    at = self._at(u.record_id)
                    o = by_id.get(at) or WriteOutcome(u.record_id, "failed", "the target returned no outcome")
                    if at != u.record_id:  # written on the survivor of its merge: journaled under the planned id
                        o = WriteOutcome(u.record_id, o.status, o.error, new_id=o.new_id or at)
                    results[u.key] = [(u.record_id, o)]
        for u in units:
            if u.op != "merge":
                continue
            at = self._at(u.record_id)
            try:
                outs = con.merge(MergeRequest(at, u.loser_ids, {f: a for f, (_, a) in u.changes.items()}))
            except TransientConnectorError as err:
                failed([u], err)
                continue
            by_id = {o.record_id: o for o in outs}
            if at != u.record_id and at in by_id:  # resumed on the survivor of its earlier, partial merge
                o = by_id.pop(at)
                by_id[u.record_id] = WriteOutcome(u.record_id, o.status, o.error, new_id=o.new_id or at)
            master = by_id.get(u.record_id) or WriteOutcome(u.record_id, "ok" if outs and all(
                o.status == "ok" for o in outs) else "failed", None if outs else "the target returned no outcome")
            results[u.key] = [(u.record_id, master)] + [
                (rid, by_id.get(rid) or WriteOutcome(rid, master.status, master.error)) for rid in u.loser_ids]
        creates = [u for u in units if u.op == "create"]
        if creates:
            try:
                outs = con.create([self._creatable(u.snapshot or {}) for u in creates])
            except TransientConnectorError as err:
                failed(creates, err)
            else:
                for u, o in zip(creates, outs, strict=False):
                    results[u.key] = [(u.record_id, o)]
                for u in creates[len(outs):]:
                    results[u.key] = [(u.record_id,
                                       WriteOutcome(u.record_id, "failed", "the target returned no outcome"))]
        deletes = [u for u in units if u.op == "delete"]
        if deletes:
            try:
                outs = con.delete([u.record_id for u in deletes])
            except TransientConnectorError as err:
                failed(deletes, err)
            else:
                by_id = {o.record_id: o for o in outs}
                for u in deletes:
                    results[u.key] = [(u.record_id, by_id.get(u.record_id) or WriteOutcome(
                        u.record_id, "failed", "the target returned no outcome"))]
        return results

    def _creatable(self, snapshot: Mapping[str, Value]) -> Record:
        """What to send to re-create a record: files keep id and position; a CRM assigns a new id."""
        if self.keeps_ids:
            return dict(snapshot)
        writable = {f.name for f in self.connector.describe() if f.updateable}
        return {k: v for k, v in snapshot.items()
                if not k.startswith("__") and k != self.connector.id_field and k in writable}
