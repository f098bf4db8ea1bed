"""The journal store: intent and outcome rows of write runs, and each apply run's plan, in the DuckDB run store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.errors import UsageError
from crmclean.store import RunStore, register_ddl
from crmclean.writeback.plan import Plan, content_hash, parse_plan, plan_json

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

HOLD_SECONDS = 1.0  # longest the journal keeps the store open between the writes of a run (class Journal)

SEVERITY = {"failed": 3, "conflict": 2, "skipped": 1, "ok": 0}

INTENT_SCHEMA: dict[str, Any] = {
    "run_id": pl.String, "batch": pl.Int32, "seq": pl.Int32, "unit": pl.String, "op": pl.String,
    "record_id": pl.String, "field": pl.String, "before": pl.String, "after": pl.String, "rule": pl.String,
    "before_version": pl.String, "detail": pl.String, "logged_at": pl.Datetime("us"),
}
OUTCOME_SCHEMA: dict[str, Any] = {
    "run_id": pl.String, "batch": pl.Int32, "unit": pl.String, "record_id": pl.String, "status": pl.String,
    "error": pl.String, "new_id": pl.String, "after_version": pl.String, "logged_at": pl.Datetime("us"),
}

# ---------------------------------------------------------------- the journal


class Journal:
    """Intent and outcome rows of runs in the run store, committed batch by batch.

    Durability: every write is its own transaction, committed (DuckDB syncs its write-ahead log on commit) before
    ``write_intents`` returns, so each before-value is on disk before its write is sent; a process killed at any
    instant loses no committed row (the next open replays the log).

    Given a path, the store is opened for a commit and closed again, so that runs on other sources (other
    processes, which retry a locked store for ``CRMCLEAN_STORE_WAIT`` seconds) can use the same store between
    our batches. Opening costs about 40-60 ms of CPU (DuckDB builds its database instance; closing checkpoints), a
    write on an open store about 6 ms: 13 % of a 10,000-record Salesforce apply/rollback on the emulator, where
    batches follow each other in milliseconds. So inside ``held()`` (one engine run) the journal keeps the store
    open between writes while they come quickly: it closes it after a write once it has held it for
    ``HOLD_SECONDS``, or at once when the gap since the previous write was longer than that (a slow target: the
    store is free while each batch is sent, as before). The lock is thus held for at most ``HOLD_SECONDS`` plus one
    send; ``held()`` closes the store at the end of the run and on every error path.
    """

    def __init__(self, store: RunStore | str | Path | None = None) -> None:
        self._store = store if isinstance(store, RunStore) else None
        self.path: Path | None = self._store.path if self._store is not None else (
            Path(store) if store is not None and not isinstance(store, RunStore) else None)
        self._holding = False  # inside held(): keep the store open between quick writes
        self._held: RunStore | None = None
        self._held_since = 0.0
        self._last_write = -HOLD_SECONDS

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the store open between the quick writes of one run (see the class docstring)."""
        if self._store is not None or self._holding:
            yield
            return
        self._holding, self._last_write = True, time.monotonic()  # the run's start counts as its first write
        try:
            yield
        finally:
            self._holding = False
            self._release()

    def _release(self) -> None:
        st, self._held = self._held, None
        if st is not None:
            st.close()

    @contextmanager
    def store(self) -> Iterator[RunStore]:
        shared = self._store or self._held
        if shared is not None:
            yield shared
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
        started = time.monotonic()
        if self._holding and self._held is None:
            self._held, self._held_since = RunStore(self.path), started
        with self.store() as st, st.transaction() as con:
            con.register("_journal_rows", frame.to_arrow())
            try:
                con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _journal_rows")
            finally:
                con.unregister("_journal_rows")
        done = time.monotonic()
        if self._held is not None and (started - self._last_write > HOLD_SECONDS
                                       or done - self._held_since > HOLD_SECONDS):
            self._release()  # a slow target, or held long enough: let other processes in
        self._last_write = done

    def write_intents(self, rows: dict[str, list[Any]]) -> None:
        self._insert("journal_intents", pl.DataFrame(rows, schema=INTENT_SCHEMA))

    def write_outcomes(self, rows: dict[str, list[Any]]) -> None:
        self._insert("journal_outcomes", pl.DataFrame(rows, schema=OUTCOME_SCHEMA))

    def intents(self, run_id: str) -> pl.DataFrame:
        with self.store() as st:
            frame = _frame(st.con.sql(
                "SELECT * FROM journal_intents WHERE run_id = ? ORDER BY seq, batch", params=[run_id]).to_arrow_table())
        return frame if frame.height else pl.DataFrame(schema=INTENT_SCHEMA)

    def outcomes(self, run_id: str) -> pl.DataFrame:
        with self.store() as st:
            frame = _frame(st.con.sql(
                "SELECT * FROM journal_outcomes WHERE run_id = ? ORDER BY batch", params=[run_id]).to_arrow_table())
        return frame if frame.height else pl.DataFrame(schema=OUTCOME_SCHEMA)

    def save_plan(self, run_id: str, plan: Plan) -> str:
        text = plan_json(plan, indent=None)
        digest = content_hash(text)
        with self.store() as st, st.transaction() as con:
            con.execute("INSERT INTO run_plans VALUES (?, ?, ?)", [run_id, digest, text])
        return digest

    def start_apply_run(self, plan: Plan, **start: Any) -> str:
        """Record an apply run and its plan in one transaction: a kill in between leaves neither."""
        text = plan_json(plan, indent=None)
        with self.store() as st, st.transaction() as con:
            run_id = st.start_run("apply", plan.source.spec, **start)
            con.execute("INSERT INTO run_plans VALUES (?, ?, ?)", [run_id, content_hash(text), text])
        return run_id

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
            if unit not in status or SEVERITY.get(st, 0) > SEVERITY.get(status[unit], 0):
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
