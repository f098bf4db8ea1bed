"""The run store: one local DuckDB file holding every run's summary (audit trends) and the write journal.

Location: ``--store PATH``, else ``$CRMCLEAN_STORE``, else ``$XDG_DATA_HOME/crmclean/runs.duckdb``
(``~/.local/share/crmclean/runs.duckdb``). Rows are only ever appended or have their
status/finish time filled in; nothing is deleted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from crmclean.errors import SourceError

SCHEMA_VERSION = 1

_RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      VARCHAR PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    command     VARCHAR NOT NULL,      -- audit, validate, standardize, apply, rollback, run, ...
    source      VARCHAR NOT NULL,      -- what the user typed (path or salesforce:Contact)
    source_key  VARCHAR NOT NULL,      -- normalized source identity, for trends
    mode        VARCHAR NOT NULL,      -- read-only, dry-run, write
    rules_hash  VARCHAR,
    status      VARCHAR NOT NULL,      -- running, ok, failed, interrupted, partial
    counts      JSON,                  -- records, changes, findings, ok/failed/conflict...
    kpis        JSON,                  -- pct_clean, avg_completeness, duplicates...
    parent_run  VARCHAR,               -- e.g. the run a rollback undoes
    details     JSON                   -- command-specific (plan path, report dir, ...)
);
CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def default_store_path() -> Path:
    env = os.environ.get("CRMCLEAN_STORE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crmclean" / "runs.duckdb"


def source_key(source: str) -> str:
    """Identity of a source across runs: absolute path for files, the spec for CRM objects."""
    if ":" in source and source.split(":", 1)[0].lower() in ("salesforce", "hubspot"):
        prefix, obj = source.split(":", 1)
        return f"{prefix.lower()}:{obj}"
    try:
        return str(Path(source).resolve())
    except OSError:
        return source


def new_run_id() -> str:
    """Sortable, readable run id: 20261123-024500-a1b2."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@dataclass
class RunInfo:
    run_id: str
    started_at: datetime
    finished_at: datetime | None
    command: str
    source: str
    mode: str
    status: str
    counts: dict[str, Any]
    kpis: dict[str, Any]
    rules_hash: str | None = None
    parent_run: str | None = None
    details: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        """The status to show: a run still marked ``running`` whose process is gone was interrupted (killed)."""
        if self.status == "running" and not process_alive(self.details or {}):
            return "interrupted"
        return self.status

    def how_to_finish(self) -> str | None:
        """For an unfinished write run: the commands that finish or undo it."""
        if self.state not in ("interrupted", "partial", "failed") or self.command not in ("apply", "rollback"):
            return None
        undo = (f"undo what it wrote with `crmclean rollback {self.run_id}`" if self.command == "apply"
                else f"finish the undo with `crmclean rollback {self.parent_run}`")
        return f"finish it with `crmclean apply --resume {self.run_id}`, or {undo}"


def process_alive(details: Mapping[str, Any]) -> bool:
    """Whether the process that recorded a run (``pid``/``host`` in its details) still runs.

    Runs recorded on another machine, or before pids were recorded, count as alive: we cannot tell.
    """
    pid, host = details.get("pid"), details.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is gone too
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


LOCK_WAIT_ENV = "CRMCLEAN_STORE_WAIT"  # seconds to wait for a run store another process holds (default 30)


def lock_holder(message: str) -> str | None:
    """'/usr/bin/duckdb (PID 1234)' from DuckDB's "Conflicting lock is held in ... (PID n)" error."""
    found = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    return f"{found.group(1)} (PID {found.group(2)})" if found else None


class RunStore:
    """Open (creating if needed) the run store; usable as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_store_path()
        folder_created = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = self._connect()
        from crmclean.privacy import secure_store_path  # personal data at rest: 0600 files, 0700 folder

        secure_store_path(self.path, folder_created=folder_created)
        self.con.execute(_RUNS_DDL)
        self.con.execute(
            "INSERT INTO store_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [str(SCHEMA_VERSION)]
        )
        for ddl in _EXTRA_DDL:
            self.con.execute(ddl)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # another process may hold the file (a crmclean run between batches, a DuckDB shell): retry with
        # backoff for a bounded time, then name the holder
        try:
            budget = float(os.environ.get(LOCK_WAIT_ENV) or 30)
        except ValueError:
            budget = 30.0
        deadline = time.monotonic() + budget
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise SourceError(f"cannot open the run store: {exc}", path=str(self.path)) from None
                left = deadline - time.monotonic()
                if left <= 0:
                    holder = lock_holder(str(exc))
                    who = f"by {holder}" if holder else "by another process"
                    raise SourceError(
                        f"run store is locked {who}; waited {budget:g} s", path=str(self.path),
                        hint="close that program (e.g. a DuckDB shell) and run again, or set "
                             f"{LOCK_WAIT_ENV}=SECONDS to wait longer") from None
                time.sleep(min(delay, left))
                delay = min(delay * 2, 1.0)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs
    def start_run(
        self,
        command: str,
        source: str,
        *,
        mode: str = "read-only",
        rules_hash: str | None = None,
        parent_run: str | None = None,
        details: Mapping[str, Any] | None = None,
        run_id: str | None = None,
    ) -> str:
        if run_id is None:
            run_id = new_run_id()
            # an id has 16 random bits per second: two runs started in one second can draw the same one (a
            # property test's crash-then-rollback did), so a taken id is drawn again
            while self.con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone() is not None:
                run_id = new_run_id()
        # who runs it: `crmclean runs` shows a run whose process is gone as interrupted
        details = {"pid": os.getpid(), "host": socket.gethostname(), **dict(details or {})}
        self.con.execute(
            "INSERT INTO runs (run_id, started_at, command, source, source_key, mode, rules_hash, status,"
            " counts, kpis, parent_run, details) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', '{}', '{}', ?, ?)",
            [run_id, _now(), command, source, source_key(source), mode, rules_hash, parent_run,
             json.dumps(details, default=str)],
        )
        return run_id

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        counts: Mapping[str, Any] | None = None,
        kpis: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        sets = ["status = ?", "finished_at = ?"]
        params: list[Any] = [status, _now()]
        for name, value in (("counts", counts), ("kpis", kpis), ("details", details)):
            if value is not None:
                sets.append(f"{name} = ?")
                params.append(json.dumps(dict(value), default=str))
        params.append(run_id)
        self.con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE run_id = ?", params)

    def update_status(self, run_id: str, status: str) -> None:
        self.con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, run_id])

    def claim_run(self, run_id: str) -> None:
        """Mark a run running again under this process (resume)."""
        info = self.get_run(run_id)
        details = {**dict((info.details if info else None) or {}), "pid": os.getpid(), "host": socket.gethostname()}
        self.con.execute("UPDATE runs SET status = 'running', details = ? WHERE run_id = ?",
                         [json.dumps(details, default=str), run_id])

    def get_run(self, run_id: str) -> RunInfo | None:
        rows = self._select("WHERE run_id = ?", [run_id])
        if not rows:
            # allow a unique prefix, as git does
            rows = self._select("WHERE run_id LIKE ?", [run_id + "%"])
            if len(rows) != 1:
                return None
        return rows[0]

    def list_runs(
        self, *, source: str | None = None, command: str | None = None, limit: int = 50
    ) -> list[RunInfo]:
        where, params = [], []
        if source:
            where.append("source_key = ?")
            params.append(source_key(source))
        if command:
            where.append("command = ?")
            params.append(command)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._select(f"{clause} ORDER BY started_at DESC LIMIT {int(limit)}", params)

    def trend(self, source: str, command: str = "audit", limit: int = 12) -> list[RunInfo]:
        """Earlier finished runs of ``command`` on ``source``, oldest first (for the report's trend)."""
        runs = [r for r in self.list_runs(source=source, command=command, limit=limit * 2) if r.status == "ok"]
        return list(reversed(runs[:limit]))

    def _select(self, tail: str, params: list[Any]) -> list[RunInfo]:
        cur = self.con.execute(
            "SELECT run_id, started_at, finished_at, command, source, mode, status, counts, kpis, rules_hash,"
            f" parent_run, details FROM runs {tail}",
            params,
        )
        out = []
        for r in cur.fetchall():
            out.append(
                RunInfo(
                    run_id=r[0], started_at=r[1], finished_at=r[2], command=r[3], source=r[4], mode=r[5],
                    status=r[6], counts=_json(r[7]), kpis=_json(r[8]), rules_hash=r[9], parent_run=r[10],
                    details=_json(r[11]),
                )
            )
        return out

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


# Tables added by other parts of the product (the write journal) register their DDL here.
_EXTRA_DDL: list[str] = []


def register_ddl(ddl: str) -> None:
    if ddl not in _EXTRA_DDL:
        _EXTRA_DDL.append(ddl)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _json(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
