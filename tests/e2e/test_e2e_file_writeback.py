"""End to end on a Russian Excel export: audit → plan → apply → a person edits one record → rollback.

Rollback must restore every other record byte for byte and report the edited one as a conflict.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.errors import CrmcleanError
from crmclean.writeback.plan import load_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contacts.csv"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, CrmcleanError):
        return int(result.exception.exit_code), str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def excel_export(path: Path) -> bytes:
    """The bundled sample saved the way Russian Excel saves CSV: cp1251, `;`, CRLF, minimal quoting."""
    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"), newline="")))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode("cp1251")
    path.write_bytes(data)
    return data


def line_of(data: bytes, record_id: str) -> str:
    return next(ln for ln in data.decode("cp1251").split("\r\n") if ln.startswith(record_id + ";"))


@pytest.mark.slow
def test_audit_plan_apply_edit_rollback(tmp_path: Path) -> None:
    src = tmp_path / "contacts.csv"
    original = excel_export(src)
    store = str(tmp_path / "runs.duckdb")

    code, output = invoke("audit", str(src), "--out", str(tmp_path / "report"), "--store", store)
    assert code == 0, output
    assert (tmp_path / "report").exists()
    assert src.read_bytes() == original  # the audit is read-only

    plan_file = tmp_path / "plan.json"
    code, output = invoke("plan", str(src), "-o", str(plan_file))
    assert code == 0, output
    plan = load_plan(plan_file)
    assert len(plan.updates) > 100 and plan.merges, plan.summary()
    code, shown = invoke("plan", "--show", str(plan_file))
    assert code == 0 and "→" in shown and "merge" in shown

    out = tmp_path / "contacts.clean.csv"
    code, output = invoke("apply", str(plan_file), "--yes", "--json", "--store", store)
    assert code == 0, output
    applied = json.loads(output)
    assert applied["status"] == "ok" and applied["counts"]["conflict"] == 0
    run_id = applied["run_id"]
    assert src.read_bytes() == original
    cleaned = out.read_bytes()
    assert cleaned != original
    cleaned.decode("cp1251")  # still the export's encoding

    # a person fixes one updated record by hand (a record no merge touches)
    merged = {m.master_id for m in plan.merges} | {x for m in plan.merges for x in m.loser_ids}
    victim = next(u.record_id for u in plan.updates if u.record_id not in merged)
    before_edit = line_of(cleaned, victim)
    edited = before_edit.replace(victim + ";", victim + ";Исправлено вручную ", 1)
    out.write_bytes(cleaned.replace(before_edit.encode("cp1251"), edited.encode("cp1251")))

    code, output = invoke("rollback", run_id, "--yes", "--json", "--store", store)
    assert code == 1, output  # a conflict is worth a non-zero exit for monitoring
    undone = json.loads(output)
    assert undone["status"] == "partial"
    assert [(p["record_id"], p["status"]) for p in undone["problems"]] == [(victim, "conflict")]
    assert undone["counts"]["ok"] == undone["counts"]["units"] - 1

    restored = out.read_bytes()
    assert line_of(restored, victim) == edited  # the person's edit is kept
    original_line = line_of(original, victim)
    assert restored == original.replace(original_line.encode("cp1251"), edited.encode("cp1251"))

    code, listing = invoke("runs", "--json", "--store", store)
    commands = [r["command"] for r in json.loads(listing)]
    assert commands[:2] == ["rollback", "apply"] and "audit" in commands
