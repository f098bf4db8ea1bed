"""The write journal and the engine that applies, resumes and rolls back changes through any connector.

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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from crmclean.connectors import ConnectorOptions, FieldUpdate, MergeRequest, Record, WriteOutcome, open_connector
from crmclean.connectors.base import Connector, Value
from crmclean.errors import CrmcleanError, SourceError, UsageError
from crmclean.plan import MergeOp, Plan, UpdateOp, content_hash, parse_plan, plan_json
from crmclean.store import RunStore, register_ddl
from crmclean.table import ROW_ID

JOURNAL_DDL = """
CREATE TABLE IF NOT EXISTS journal_intents (
    run_id         VARCHAR NOT NULL,
    batch          INTEGER NOT NULL,
    seq            INTEGER NOT NULL,   -- position of the unit in the run (rollback replays in reverse)
    unit           VARCHAR NOT NULL,   -- one record's update, one merge, one create or one delete
    op             VARCHAR NOT NULL,   -- update, merge, create, delete
    record_id      VARCHAR NOT NULL,
    field          VARCHAR,            -- one row per written field; NULL on a record's snapshot row
    before         VARCHAR,
    after          VARCHAR,
    rule           VARCHAR,
    before_version VARCHAR,
    detail         VARCHAR,            -- JSON: record snapshot, merge role, cluster
    logged_at      TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_outcomes (
    run_id         VARCHAR NOT NULL,
    batch          INTEGER NOT NULL,
    unit           VARCHAR NOT NULL,
    record_id      VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,   -- ok, failed, conflict, skipped
    error          VARCHAR,            -- the target's error, or why a record was not written
    new_id         VARCHAR,            -- id the target gave a re-created record
    after_version  VARCHAR,            -- the record's version right after our write (rollback checks it)
    logged_at      TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS run_plans (
    run_id    VARCHAR PRIMARY KEY,
    plan_hash VARCHAR NOT NULL,
    plan      VARCHAR NOT NULL
);
"""
register_ddl(JOURNAL_DDL)

FILE_KINDS = frozenset({"csv", "xlsx", "parquet", "jsonl"})
KILL_ENV = "CRMCLEAN_TEST_KILL_AT"  # "<phase>:<batch>": SIGKILL ourselves there (crash tests)
# in-process crash tests set this to raise at a phase instead of killing the test runner
CRASH_HOOK: Callable[[str, int], None] | None = None
Op = Literal["update", "merge", "create", "delete"]
Status = Literal["ok", "failed", "conflict", "skipped"]
_SEVERITY = {"failed": 3, "conflict": 2, "skipped": 1, "ok": 0}

_INTENT_SCHEMA: dict[str, Any] = {
    "run_id": pl.String, "batch": pl.Int32, "seq": pl.Int32, "unit": pl.String, "op": pl.String,
    "record_id": pl.String, "field": pl.String, "before": pl.String, "after": pl.String, "rule": pl.String,
    "before_version": pl.String, "detail": pl.String, "logged_at": pl.Datetime("us"),
}
_OUTCOME_SCHEMA: dict[str, Any] = {
    "run_id": pl.String, "batch": pl.Int32, "unit": pl.String, "record_id": pl.String, "status": pl.String,
    "error": pl.String, "new_id": pl.String, "after_version": pl.String, "logged_at": pl.Datetime("us"),
}


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
    snapshot: dict[str, Value] | None = None  # create: the record to re-create
    cluster_id: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    # resume: the intent was journaled but no outcome; these are the versions journaled then
    in_doubt: bool = False
    intent_versions: dict[str, str] = field(default_factory=dict)

    @property
    def record_ids(self) -> tuple[str, ...]:
        return (self.record_id, *self.loser_ids)


def units_from_plan(plan: Plan, only: str | None = None) -> list[Unit]:
    """Updates grouped per record (one version check per record), then merges; ``only`` picks one kind."""
    if only not in (None, "updates", "merges"):
        raise UsageError(f"--only must be `updates` or `merges`, not {only!r}")
    units: list[Unit] = []
    if only in (None, "updates"):
        by_record: dict[str, Unit] = {}
        for op in plan.operations:
            if not isinstance(op, UpdateOp):
                continue
            unit = by_record.get(op.record_id)
            if unit is None:
                version = plan.versions.get(op.record_id)
                unit = Unit(key=f"update:{op.record_id}", op="update", record_id=op.record_id,
                            accept={op.record_id: frozenset([version])} if version else {})
                by_record[op.record_id] = unit
                units.append(unit)
            if op.field in unit.changes:  # two operations on one cell: the first before, the last after
                op_before = unit.changes[op.field][0]
            else:
                op_before = op.before
            unit.changes[op.field] = (op_before, op.after)
            unit.rules[op.field] = op.rule
    if only in (None, "merges"):
        seen: set[str] = set()
        for op in plan.operations:
            if not isinstance(op, MergeOp):
                continue
            key = f"merge:{op.cluster_id}"
            while key in seen:
                key += "'"
            seen.add(key)
            master = op.snapshots.get(op.master_id, {})
            units.append(Unit(
                key=key, op="merge", record_id=op.master_id, loser_ids=tuple(op.loser_ids),
                changes={f: (master.get(f), v) for f, v in op.values.items()},
                accept={rid: frozenset(vs) for rid, vs in op.versions.items()},
                cluster_id=op.cluster_id, reasons=dict(op.reasons),
            ))
    return units


def count_changes(units: Sequence[Unit]) -> int:
    """What --max-changes limits: field updates plus merges."""
    return sum(len(u.changes) for u in units if u.op == "update") + sum(1 for u in units if u.op != "update")


# ---------------------------------------------------------------- the journal


class Journal:
    """Intent and outcome rows of runs in the run store, committed batch by batch.

    Given a path, the store is opened for each commit and closed again, so that runs on
    other sources (other processes) can use the same store between our batches.
    """

    def __init__(self, store: RunStore | str | Path | None = None) -> None:
        self._store = store if isinstance(store, RunStore) else None
        self.path: Path | None = self._store.path if self._store is not None else (
            Path(store) if store is not None and not isinstance(store, RunStore) else None)

    @contextmanager
    def store(self) -> Iterator[RunStore]:
        if self._store is not None:
            yield self._store
            return
        st = RunStore(self.path)
        try:
            yield st
        finally:
            st.close()

    def _insert(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        cols = ", ".join(frame.columns)
        with self.store() as st, st.transaction() as con:
            con.register("_journal_rows", frame.to_arrow())
            try:
                con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _journal_rows")
            finally:
                con.unregister("_journal_rows")

    def write_intents(self, rows: dict[str, list[Any]]) -> None:
        self._insert("journal_intents", pl.DataFrame(rows, schema=_INTENT_SCHEMA))

    def write_outcomes(self, rows: dict[str, list[Any]]) -> None:
        self._insert("journal_outcomes", pl.DataFrame(rows, schema=_OUTCOME_SCHEMA))

    def intents(self, run_id: str) -> pl.DataFrame:
        with self.store() as st:
            frame = _frame(st.con.sql(
                "SELECT * FROM journal_intents WHERE run_id = ? ORDER BY seq, batch", params=[run_id]).to_arrow_table())
        return frame if frame.height else pl.DataFrame(schema=_INTENT_SCHEMA)

    def outcomes(self, run_id: str) -> pl.DataFrame:
        with self.store() as st:
            frame = _frame(st.con.sql(
                "SELECT * FROM journal_outcomes WHERE run_id = ? ORDER BY batch", params=[run_id]).to_arrow_table())
        return frame if frame.height else pl.DataFrame(schema=_OUTCOME_SCHEMA)

    def save_plan(self, run_id: str, plan: Plan) -> str:
        text = plan_json(plan, indent=None)
        digest = content_hash(text)
        with self.store() as st, st.transaction() as con:
            con.execute("INSERT INTO run_plans VALUES (?, ?, ?)", [run_id, digest, text])
        return digest

    def load_plan(self, run_id: str) -> Plan:
        with self.store() as st:
            rows = st.con.execute("SELECT plan FROM run_plans WHERE run_id = ?", [run_id]).fetchall()
        row = rows[0] if rows else None
        if row is None:
            raise UsageError(f"run {run_id} has no stored plan (not an apply run?)")
        return parse_plan(row[0], f"<plan of run {run_id}>")

    def unit_status(self, run_id: str) -> dict[str, str]:
        """Final status of every unit that has an outcome (the worst of its records' latest outcomes).

        A resumed run retries failed units: a record's later outcome replaces its earlier one.
        """
        out = self.outcomes(run_id)
        latest: dict[tuple[str, str], str] = {}
        for unit, rid, st in out.select("unit", "record_id", "status").iter_rows():
            latest[(unit, rid)] = st
        status: dict[str, str] = {}
        for (unit, _), st in latest.items():
            if unit not in status or _SEVERITY.get(st, 0) > _SEVERITY.get(status[unit], 0):
                status[unit] = st
        return status

    def changes(self, run_id: str) -> pl.DataFrame:
        """Before/after of every field the run wrote or meant to write, with each record's outcome."""
        with self.store() as st:
            return _frame(st.con.sql(
                """
                WITH o AS (
                    SELECT unit, record_id, arg_max(status, logged_at) AS status, arg_max(error, logged_at) AS error,
                           arg_max(new_id, logged_at) AS new_id, max(logged_at) AS done_at
                    FROM journal_outcomes WHERE run_id = ? GROUP BY unit, record_id
                ), i AS (
                    SELECT * FROM journal_intents WHERE run_id = ?
                    QUALIFY row_number() OVER (PARTITION BY unit, record_id, field ORDER BY batch DESC) = 1
                )
                SELECT ? AS run_id, coalesce(i.unit, o.unit) AS unit, i.op AS operation,
                       coalesce(i.record_id, o.record_id) AS record_id, i.field, i.before,
                       CASE WHEN json_extract_string(i.detail, '$.role') = 'loser'
                            THEN 'merged into ' || json_extract_string(i.detail, '$.master_id')
                            WHEN i.op = 'create' THEN 're-created' WHEN i.op = 'delete' THEN 'deleted'
                            ELSE i.after END AS after, i.rule,
                       coalesce(o.status, 'in doubt') AS status, o.error, o.new_id,
                       coalesce(o.done_at, i.logged_at) AS logged_at
                FROM i FULL OUTER JOIN o ON i.unit = o.unit AND i.record_id = o.record_id
                WHERE i.unit IS NULL OR i.field IS NOT NULL OR i.op IN ('create', 'delete')
                      OR json_extract_string(i.detail, '$.role') = 'loser'
                ORDER BY coalesce(i.seq, 2147483647), record_id, field
                """,
                params=[run_id, run_id, run_id],
            ).to_arrow_table())


def _frame(table: Any) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


# ---------------------------------------------------------------- reports


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
        self.final: dict[str, str] = {}  # unit -> status of this execution
        self.problems: list[dict[str, Any]] = []
        self.batch_no = 0
        self.seq = 0
        self._versions: dict[str, str] = {}
        # record -> its version right after this run wrote it: a CRM stamps a new last-modified date on every
        # write, so a later unit on the same record (a merge after its updates) accepts the run's own write
        self.written: dict[str, str] = {}
        self.merged_away: dict[str, str] = {}  # loser -> master, merged by this run

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
            if rec is None:
                return "conflict", "record no longer exists in the target"
            done = all(_same(rec.get(f), after) for f, (_, after) in unit.changes.items())
            version = versions[unit.record_id]
            if unit.in_doubt:
                if done:
                    return "done", "found written when resuming"
                if version in (unit.intent_versions.get(unit.record_id), self.written.get(unit.record_id)):
                    return "send", None
                return "conflict", _describe_conflict(unit, rec)
            accepted = unit.accept.get(unit.record_id)
            if accepted is not None:
                ok = version in accepted or self.written.get(unit.record_id) == version
            else:
                ok = all(_same(rec.get(f), before) for f, (before, _) in unit.changes.items())
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
            if unit.in_doubt:
                done = not losers_present and all(_same(master.get(f), a) for f, (_, a) in unit.changes.items())
                if done:
                    return "done", "found merged when resuming"
                # losers this run already merged into the master stay merged; the rest are merged now
                merged_here = all(self.merged_away.get(rid) == unit.record_id
                                  for rid in unit.loser_ids if rid not in current)
                if merged_here and all(versions[rid] in (unit.intent_versions.get(rid), self.written.get(rid))
                                       for rid in (unit.record_id, *losers_present)):
                    unit.loser_ids = tuple(losers_present)
                    return "send", None
                return "conflict", "records changed while the merge was interrupted; check them by hand"
            if len(losers_present) < len(unit.loser_ids):
                gone = [rid for rid in unit.loser_ids if rid not in current]
                return "conflict", f"record(s) {', '.join(gone)} no longer exist in the target"
            for rid in unit.record_ids:
                accepted = unit.accept.get(rid)
                if accepted is not None and versions[rid] not in accepted and self.written.get(rid) != versions[rid]:
                    return "conflict", f"record {rid} changed since planned"
            return "send", None
        if unit.op == "create":
            if not self.keeps_ids:
                if unit.record_id in current:
                    # the merge that deleted it never took effect (killed before its outcome was journaled):
                    # re-creating would duplicate a record that is still there
                    return "skip", f"record {unit.record_id} still exists in the target: nothing to re-create"
                if unit.in_doubt:
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
        if accepted is not None and versions[unit.record_id] not in accepted \
                and self.written.get(unit.record_id) != versions[unit.record_id]:
            return "conflict", "changed since it was re-created"
        return "send", None

    def _run_batch(self, batch: list[Unit]) -> None:
        ids = sorted({rid for u in batch for rid in u.record_ids})
        current = self._fetch(ids)
        # one version per fetched record per batch: checks and intents both read it
        self._versions = {rid: self.connector.version_of(rec) for rid, rec in current.items()}
        verdicts = {u.key: self._check(u, current) for u in batch}
        to_send = [u for u in batch if verdicts[u.key][0] == "send"]
        outcome_rows: dict[str, list[Any]] = {k: [] for k in _OUTCOME_SCHEMA}

        def outcome(unit: Unit, rid: str, status: str, error: str | None = None, new_id: str | None = None,
                    after_version: str | None = None) -> None:
            now = _now()
            for k, v in (("run_id", self.run_id), ("batch", self.batch_no), ("unit", unit.key), ("record_id", rid),
                         ("status", status), ("error", error), ("new_id", new_id),
                         ("after_version", after_version), ("logged_at", now)):
                outcome_rows[k].append(v)
            prev = self.final.get(unit.key)
            if prev is None or _SEVERITY[status] > _SEVERITY[prev]:
                self.final[unit.key] = status
            if after_version is not None:  # only set when this run changed the record
                self.written[new_id or rid] = after_version
            if status == "ok" and unit.op == "merge" and rid != unit.record_id:
                self.merged_away[rid] = unit.record_id
            if status in ("conflict", "failed"):
                self.problems.append({"unit": unit.key, "record_id": rid, "status": status, "error": error})

        for u in batch:
            verdict, why = verdicts[u.key]
            if verdict == "done":
                rec = current.get(u.record_id)
                after_version = self._versions.get(u.record_id) if rec is not None and u.op != "delete" else None
                outcome(u, u.record_id, "ok", why, after_version=after_version)
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
        flush = getattr(self.connector, "flush", None)
        if callable(flush) and to_send:
            flush()  # a file target must hold exactly the writes we are about to record as ok
        _maybe_die("flushed", self.batch_no)

        # records we changed: written ok, or the master of a merge that merged some but not all of its losers
        changed = {(u.key, rid) for u in to_send for rid, o in results.get(u.key, [])
                   if u.op != "delete" and (
                       (o.status == "ok" and not (u.op == "merge" and rid != u.record_id))
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

    def _journal_intents(self, units: list[Unit], current: Mapping[str, Record]) -> None:
        rows: dict[str, list[Any]] = {k: [] for k in _INTENT_SCHEMA}
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
        results: dict[str, list[tuple[str, WriteOutcome]]] = {}
        con = self.connector
        updates = [u for u in units if u.op == "update"]
        if updates:
            outs = con.update([FieldUpdate(u.record_id, {f: a for f, (_, a) in u.changes.items()}) for u in updates])
            by_id = {o.record_id: o for o in outs}
            for u in updates:
                o = by_id.get(u.record_id) or WriteOutcome(u.record_id, "failed", "the target returned no outcome")
                results[u.key] = [(u.record_id, o)]
        for u in units:
            if u.op != "merge":
                continue
            outs = con.merge(MergeRequest(u.record_id, u.loser_ids, {f: a for f, (_, a) in u.changes.items()}))
            by_id = {o.record_id: o for o in outs}
            master = by_id.get(u.record_id) or WriteOutcome(u.record_id, "ok" if outs and all(
                o.status == "ok" for o in outs) else "failed", None if outs else "the target returned no outcome")
            results[u.key] = [(u.record_id, master)] + [
                (rid, by_id.get(rid) or WriteOutcome(rid, master.status, master.error)) for rid in u.loser_ids]
        creates = [u for u in units if u.op == "create"]
        if creates:
            outs = con.create([self._creatable(u.snapshot or {}) for u in creates])
            for u, o in zip(creates, outs, strict=False):
                results[u.key] = [(u.record_id, o)]
            for u in creates[len(outs):]:
                results[u.key] = [(u.record_id, WriteOutcome(u.record_id, "failed", "the target returned no outcome"))]
        deletes = [u for u in units if u.op == "delete"]
        if deletes:
            outs = con.delete([u.record_id for u in deletes])
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


# ---------------------------------------------------------------- targets


def target_details(connector: Connector, plan: Plan | None = None) -> dict[str, Any]:
    """How to reopen the target of a run later (resume, rollback)."""
    output = getattr(connector, "output", None)
    options = dict(plan.source.options) if plan else {}
    id_field = connector.id_field
    if id_field != ROW_ID:
        options["id_column"] = id_field
    for attr in ("encoding", "delimiter"):
        value = getattr(connector, attr, None)
        if value and connector.kind == "csv":
            options[attr] = value
    if connector.kind in FILE_KINDS:  # absolute, so that resume and rollback work from any directory
        source = str(Path(connector.spec).resolve())
        target = str(Path(output).resolve()) if output is not None else source
    else:
        source = target = connector.spec
    return {
        "source": source,
        "kind": connector.kind,
        "target": target,
        "in_place": target == source,
        "source_options": options,
    }


def open_target(details: Mapping[str, Any], *, resume: bool) -> Connector:
    """Reopen the connector a run wrote to: the same output file (resume) or the target in place (rollback)."""
    opts = details.get("source_options") or {}
    copts = ConnectorOptions(
        format=opts.get("format"), sheet=opts.get("sheet"), id_column=opts.get("id_column"),
        encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), where=opts.get("where"),
        credentials_file=opts.get("credentials_file"),
    )
    if details.get("kind") not in FILE_KINDS:
        return open_connector(str(details["source"]), copts)
    target = Path(str(details["target"]))
    if resume and not details.get("in_place"):
        # the output holds the writes made before the interruption; without it, start again from the input
        connector = open_connector(str(details["source"]), copts)
    else:
        if not target.exists():
            raise SourceError("the run's target file no longer exists", path=str(target))
        connector = open_connector(str(target), copts)
    connector.output = target  # type: ignore[attr-defined]
    connector.describe()  # reads the file: id column, encoding and delimiter are known from here on
    return connector


def prepare_file_target(connector: Connector, out: Path | None, in_place: bool) -> None:
    """Point a file connector at its output; a fresh apply starts from the input even if ``out`` exists."""
    if connector.kind not in FILE_KINDS:
        if out is not None or in_place:
            raise UsageError("--out and --in-place are for file targets; a CRM is written in place")
        return
    if in_place and out is not None:
        raise UsageError("give either --out FILE or --in-place, not both")
    spec_path = Path(connector.spec)
    if in_place:
        target = spec_path
    else:
        target = out if out is not None else default_output(spec_path)
        if target.resolve() == spec_path.resolve():
            raise UsageError(f"--out {target} is the input file; use --in-place to overwrite it (a backup is kept)")
    connector.output = target  # type: ignore[attr-defined]
    connector.resume_output = False  # type: ignore[attr-defined]


def default_output(path: Path) -> Path:
    """contacts.csv -> contacts.clean.csv next to it."""
    return path.with_name(f"{path.stem}.clean{path.suffix}")


# ---------------------------------------------------------------- apply / resume / rollback


def _finish(journal: Journal, run_id: str, command: str, target: str, engine: Engine,
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
    problems = _problems(journal, run_id)
    details_extra = {"cannot_restore": cannot_restore or []}
    with journal.store() as st:
        info = st.get_run(run_id)
        details = dict(info.details or {}) if info else {}
        details.update(details_extra)
        st.finish_run(run_id, status, counts=counts, details=details)
    return RunReport(run_id, command, status, target, counts, problems, cannot_restore or [])


def _problems(journal: Journal, run_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with journal.store() as st:
        rows = st.con.execute(
            """SELECT unit, record_id, arg_max(status, logged_at), arg_max(error, logged_at) FROM journal_outcomes
               WHERE run_id = ? GROUP BY unit, record_id
               HAVING arg_max(status, logged_at) IN ('conflict', 'failed') ORDER BY unit, record_id LIMIT ?""",
            [run_id, limit]).fetchall()
    return [{"unit": r[0], "record_id": r[1], "status": r[2], "error": r[3]} for r in rows]


@contextmanager
def _interrupt_guard(journal: Journal, run_id: str) -> Iterator[None]:
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


def apply_plan(
    plan: Plan,
    connector: Connector,
    journal: Journal,
    *,
    only: str | None = None,
    batch_size: int | None = None,
    max_changes: int | None = None,
    dry_run: bool = False,
    plan_path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Apply ``plan`` through ``connector`` as a new journaled run (or, with ``dry_run``, only check it)."""
    units = units_from_plan(plan, only)
    connector.describe()  # file targets read the file here: id column, encoding and delimiter
    changes = count_changes(units)
    if max_changes is not None and changes > max_changes:
        raise LimitExceeded(f"the plan has {changes} changes, more than --max-changes {max_changes}; nothing written",
                            hint="review the plan (`crmclean plan --show`) and raise the limit if it is right")
    _check_plan_source(plan, connector)
    details = target_details(connector, plan)
    if dry_run:
        engine = Engine(connector, None, None, batch_size=batch_size, dry_run=True, progress=progress)
        engine.run(units)
        counts: dict[str, int] = {"units": len(units), "ok": 0, "failed": 0, "conflict": 0, "skipped": 0}
        for final in engine.final.values():
            counts[final] += 1
        return RunReport(None, "apply", "dry-run", details["target"], counts, engine.problems, dry_run=True)
    details.update({"plan_path": plan_path, "only": only, "batch_size": batch_size, "changes": changes})
    with journal.store() as st:
        run_id = st.start_run("apply", plan.source.spec, mode="write", rules_hash=plan.rules_hash, details=details)
    journal.save_plan(run_id, plan)
    engine = Engine(connector, journal, run_id, batch_size=batch_size, progress=progress)
    with _interrupt_guard(journal, run_id):
        engine.run(units)
        connector.close()
    return _finish(journal, run_id, "apply", details["target"], engine, units)


class LimitExceeded(UsageError):
    """The plan holds more changes than the safety limit allows."""


def _check_plan_source(plan: Plan, connector: Connector) -> None:
    if plan.source.id_column != connector.id_field and not (
            plan.source.id_column == ROW_ID and connector.id_field == ROW_ID):
        raise UsageError(f"the plan identifies records by {plan.source.id_column!r} but the target by "
                         f"{connector.id_field!r}", hint="pass the same --id-column as when planning")


def _pending(units: Sequence[Unit], journal: Journal, run_id: str) -> tuple[list[Unit], int, int]:
    """Units of ``run_id`` without an outcome, marked in doubt when their intent was journaled."""
    done = journal.unit_status(run_id)
    intents = journal.intents(run_id)
    versions: dict[str, dict[str, str]] = {}
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
        units, cannot = rollback_units(journal, str(info.parent_run), connector)
    pending, max_seq, max_batch = _pending(units, journal, run_id)
    with journal.store() as st:
        st.update_status(run_id, "running")
    engine = Engine(connector, journal, run_id, batch_size=batch_size or details.get("batch_size"),
                    progress=progress)
    masters = {u.key: u.record_id for u in units if u.op == "merge"}
    for key, rid, nid, st, av in journal.outcomes(run_id).select(
            "unit", "record_id", "new_id", "status", "after_version").iter_rows():
        if av is not None:
            engine.written[nid or rid] = av  # the earlier attempt's writes are this run's own
        if st == "ok" and key in masters and rid != masters[key]:
            engine.merged_away[rid] = masters[key]
    with _interrupt_guard(journal, run_id):
        engine.run(pending, first_seq=max_seq, first_batch=max_batch)
        connector.close()
    return _finish(journal, run_id, info.command, str(details.get("target")), engine, units, cannot)


def rollback_units(journal: Journal, run_id: str, connector: Connector) -> tuple[list[Unit], list[str]]:
    """The inverse of every write ``run_id`` made (or may have made), newest first, and what cannot be undone."""
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
    by_unit: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for row in intents.iter_rows(named=True):
        if row["unit"] not in by_unit:
            order.append(row["unit"])
        by_unit.setdefault(row["unit"], []).append(row)
    caps = frozenset(getattr(connector, "capabilities", frozenset()))
    crm = connector.kind not in FILE_KINDS
    units: list[Unit] = []
    cannot: list[str] = []
    for key in reversed(order):
        st = status.get(key)
        # a merge that failed part-way merged some losers: those come back
        partial = st == "failed" and by_unit[key][0]["op"] == "merge" and any(
            record_status.get((key, r["record_id"])) == "ok" for r in by_unit[key] if _role(r) == "loser")
        if st not in (None, "ok") and not partial:
            continue  # conflict / failed / skipped: nothing was written
        in_doubt = st is None
        rows = by_unit[key]
        op = rows[0]["op"]
        undo = f"undo:{key}"
        if op == "update":
            rid = rows[0]["record_id"]
            if rid in recreated:
                continue  # merged away later in the run: its re-created copy already holds these before-values
            changes = {r["field"]: (r["after"], r["before"]) for r in rows if r["field"] is not None}
            av = last_version.get(rid) if not in_doubt else None
            units.append(Unit(key=undo, op="update", record_id=rid, changes=changes,
                              rules={f: "rollback" for f in changes},
                              accept={rid: frozenset([av])} if av and not in_doubt else {}))
        elif op == "merge":
            master_rows = [r for r in rows if r["field"] is not None]
            head = next((r for r in rows if r["field"] is None and _role(r) == "master"), None)
            master_id = head["record_id"] if head else master_rows[0]["record_id"]
            changes = {r["field"]: (r["after"], r["before"]) for r in master_rows}
            if crm and head is not None and head["detail"]:
                # HubSpot fills the master's empty fields from the merged-away records: empty them again
                writable = {f.name for f in connector.describe() if f.updateable}
                for fld, value in json.loads(head["detail"]).get("snapshot", {}).items():
                    if value in (None, "") and fld in writable and fld not in changes:
                        changes[fld] = (None, None)
            av = last_version.get(master_id, after_version.get((key, master_id)))
            if changes:
                units.append(Unit(key=f"{undo}:master", op="update", record_id=master_id, changes=changes,
                                  rules={f: "rollback" for f in changes},
                                  accept={master_id: frozenset([av])} if av and not in_doubt else {}))
            losers = [r for r in rows if r["field"] is None and _role(r) == "loser"]
            for r in reversed(losers):
                if partial and record_status.get((key, r["record_id"])) != "ok":
                    continue
                snap = json.loads(r["detail"])["snapshot"]
                if not in_doubt:  # merged for sure: no record left to undo the updates on
                    snap = {**snap, **first_before.get(r["record_id"], {})}
                    recreated.add(r["record_id"])
                if "create" not in caps:
                    cannot.append(f"record {r['record_id']} (merged into {master_id}) cannot be re-created: "
                                  f"the {connector.kind} target does not create records")
                    continue
                units.append(Unit(key=f"{undo}:{r['record_id']}", op="create", record_id=r["record_id"],
                                  snapshot=snap))
            if crm and losers:
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
    with _interrupt_guard(journal, new_id):
        engine.run(units)
        connector.close()
    return _finish(journal, new_id, "rollback", target, engine, units, cannot)


def run_target_connector(run_id: str, journal: Journal) -> Connector:
    """The connector a rollback of ``run_id`` writes through."""
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store")
    return open_target(info.details or {}, resume=False)


__all__ = [
    "FILE_KINDS", "JOURNAL_DDL", "KILL_ENV", "CrmcleanError", "Engine", "Journal", "LimitExceeded", "RunReport",
    "Unit", "apply_plan", "count_changes", "default_output", "open_target", "prepare_file_target", "resume_run",
    "rollback_run", "rollback_units", "target_details", "units_from_plan",
]
