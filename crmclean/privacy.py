"""Personal data at rest (issue 17, item 11): the run store holds before-values and whole snapshots of merged
records, so it is private to its owner (folder 0700, files 0600), old runs can be pruned, and one person's data
can be erased on request (152-FZ, GDPR): ``crmclean runs prune --older-than 90d``, ``crmclean forget --email``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmclean.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

ERASED = "[erased]"


def secure_store_path(path: Path, *, folder_created: bool) -> None:
    """Make the store file (and DuckDB's .wal beside it) 0600; its folder 0700 when crmclean created it or it
    holds only the store's files (a shared folder someone chose with --store is left as it is)."""
    folder = path.parent
    try:
        ours = folder_created or folder.name == "crmclean" or all(
            entry.name.startswith(path.name) or entry.name in ("locks", "plans") for entry in folder.iterdir())
        if ours and stat.S_IMODE(folder.stat().st_mode) & 0o077:
            os.chmod(folder, 0o700)
        for p in (path, path.with_name(path.name + ".wal")):
            if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077:
                os.chmod(p, 0o600)
    except OSError:
        pass  # not our file (another user's store we may read): leave its mode alone


_DURATION = re.compile(r"^\s*(\d+)\s*(d|w|m|y|h)?\s*$", re.IGNORECASE)


def parse_age(text: str) -> timedelta:
    """'90d', '12w', '6m', '1y', '48h' (a bare number is days)."""
    found = _DURATION.match(text)
    if not found:
        raise UsageError(f"--older-than {text!r}: give an age like 90d, 12w, 6m or 1y")
    n, unit = int(found.group(1)), (found.group(2) or "d").lower()
    days = {"h": 1 / 24, "d": 1, "w": 7, "m": 30, "y": 365}[unit]
    return timedelta(days=n * days)


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def prune_runs(con: Any, older_than: timedelta, *, dry_run: bool = False) -> list[str]:
    """Delete runs started before now - ``older_than`` with their journal rows and plans; returns their ids.
    Runs still running are kept."""
    cutoff = datetime.now(UTC).replace(tzinfo=None) - older_than
    ids = [r[0] for r in con.execute(
        "SELECT run_id FROM runs WHERE started_at < ? AND status <> 'running' ORDER BY started_at",
        [cutoff]).fetchall()]
    if ids and not dry_run:
        tables = _tables(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for table in ("journal_intents", "journal_outcomes", "run_plans"):
                if table in tables:
                    con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
            con.execute("DELETE FROM runs WHERE run_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return ids


@dataclass
class Erasure:
    runs: set[str] = field(default_factory=set)
    records: int = 0
    rows: int = 0
    plans: int = 0


def _phone_key(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        raise UsageError(f"--phone {phone!r}: too few digits to find a person by")
    return digits[-10:]  # 8 495 ... and +7 495 ... are the same number


def forget_person(con: Any, *, emails: list[str], phones: list[str], dry_run: bool = False) -> Erasure:
    """Erase every journal row of every record that held one of ``emails``/``phones`` (before, after or the
    record's snapshot), and the values themselves from saved plans. Plans with erased values can no longer be
    resumed (their hash changes): that is the point."""
    if not emails and not phones:
        raise UsageError("give --email and/or --phone of the person to forget")
    tables = _tables(con)
    result = Erasure()
    if "journal_intents" not in tables:
        return result
    conds, params = [], []
    for email in emails:
        e = email.strip().lower()
        if "@" not in e:
            raise UsageError(f"--email {email!r} is not an e-mail address")
        for col in ("before", "after", "detail"):
            conds.append(f"contains(lower(coalesce({col}, '')), ?)")
            params.append(e)
    for phone in phones:
        key = _phone_key(phone)
        for col in ("before", "after", "detail"):
            conds.append(f"contains(regexp_replace(coalesce({col}, ''), '[^0-9]', '', 'g'), ?)")
            params.append(key)
    hits = con.execute(f"SELECT DISTINCT run_id, record_id FROM journal_intents WHERE {' OR '.join(conds)}",
                       params).fetchall()
    result.records = len(hits)
    result.runs = {r[0] for r in hits}
    # the literal values as written in plans (JSON): every before/after of those records
    values: set[str] = {e.strip() for e in emails} | {p.strip() for p in phones}
    for run_id, record_id in hits:
        for before, after in con.execute(
                "SELECT before, after FROM journal_intents WHERE run_id = ? AND record_id = ?",
                [run_id, record_id]).fetchall():
            values.update(v for v in (before, after) if v and len(v) >= 3)
    if dry_run or not hits:
        return result
    con.execute("BEGIN TRANSACTION")
    try:
        for run_id, record_id in hits:
            result.rows += con.execute(
                "SELECT count(*) FROM journal_intents WHERE run_id = ? AND record_id = ?",
                [run_id, record_id]).fetchone()[0]
            con.execute("DELETE FROM journal_intents WHERE run_id = ? AND record_id = ?", [run_id, record_id])
            if "journal_outcomes" in tables:
                con.execute("DELETE FROM journal_outcomes WHERE run_id = ? AND record_id = ?", [run_id, record_id])
        if "run_plans" in tables:
            import json

            for run_id, plan in con.execute("SELECT run_id, plan FROM run_plans WHERE run_id IN "
                                            "(SELECT unnest(?::VARCHAR[]))", [sorted(result.runs)]).fetchall():
                erased = plan
                for value in sorted(values, key=len, reverse=True):
                    erased = erased.replace(json.dumps(value, ensure_ascii=False)[1:-1], ERASED)
                    erased = erased.replace(json.dumps(value)[1:-1], ERASED)
                if erased != plan:
                    con.execute("UPDATE run_plans SET plan = ? WHERE run_id = ?", [erased, run_id])
                    result.plans += 1
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    return result


# ---------------------------------------------------------------- masked views (--mask-pii)


def mask_value(value: str | None) -> str | None:
    """A before/after value masked by its look: e-mail, phone, else its first character."""
    from crmclean.reports.content import mask_email, mask_phone, mask_text

    if value is None or value == "":
        return value
    if "@" in value:
        return mask_email(value)
    if sum(ch.isdigit() for ch in value) >= 7:
        return mask_phone(value)
    return mask_text(value)


def mask_changes(changes: pl.DataFrame) -> pl.DataFrame:
    """before/after (and free-text error) columns of a change table masked for sharing."""
    import polars as pl

    from crmclean.reports.content import mask_free_text

    exprs = [pl.col(c).map_elements(mask_value, return_dtype=pl.String) for c in ("before", "after")
             if c in changes.columns]
    exprs += [pl.col(c).map_elements(mask_free_text, return_dtype=pl.String) for c in ("error", "detail")
              if c in changes.columns and changes.schema[c] == pl.String]
    return changes.with_columns(exprs) if exprs else changes
