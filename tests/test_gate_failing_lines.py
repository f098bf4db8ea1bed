"""The import gate names the records that failed it (stderr lines, --json `failing`), not only counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli import app

LEADS = """Lead ID,First Name,Last Name,Company,Email,Phone,Country,Lead Owner,Created Date
L01,Megan,Clark,Summit Logistics,megan.clark@summitlogistics.com,(303) 555-0147,United States,Kate Miller,2026-11-03
L02,Jason,,,,,United States,Kate Miller,2026-10-12
L03,Ashley,Lopez,Pinnacle Health,ashley.lopez@pinnaclehealth,(717) 555-0190,United States,Tom Reed,2026-09-08
L06,Kevin,Scott,Redwood Analytics,kscott@redwoodanalytics.com,(415) 555-0184,United States,,2026-06-04
"""


@pytest.fixture
def leads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
    path = tmp_path / "leads.csv"
    path.write_text(LEADS, encoding="utf-8")
    return path


def test_failed_gate_names_the_records(leads: Path) -> None:
    # before: 'validation failed' and a table of counts; which records, only with --out
    result = CliRunner().invoke(app, ["validate", str(leads)], terminal_width=200)
    assert result.exit_code == 1
    lines = [ln.strip() for ln in result.output.splitlines()]
    assert "L02  Email | Phone: REQ001 error: required field `email|email2|phone|mobile` is empty" in lines
    assert any(ln.startswith("L03  Email 'ashley.lopez@pinnaclehealth': EMAIL002 error") for ln in lines)
    assert not any(ln.startswith("L06") for ln in lines)  # a warning does not fail --fail-on error


def test_failing_findings_worst_first_then_file_order() -> None:
    # what --json prints under `failing` (the CLI test above covers the wiring; this one is fast)
    import io

    import polars as pl

    from crmclean.config import parse_rules
    from crmclean.table import finalize_table
    from crmclean.validate import failing_findings, validate_table

    frame = pl.read_csv(io.StringIO(LEADS), infer_schema_length=0)
    table = finalize_table(frame, source="leads.csv", kind="csv", id_column="Lead ID", object_type="leads")
    findings = validate_table(table, parse_rules("version: 1\n")).findings
    shown, total = failing_findings(findings, "warning")
    assert total == 3
    assert list(zip(shown.get_column("record_id"), shown.get_column("rule"), strict=True)) == [
        ("L02", "REQ001"), ("L03", "EMAIL002"), ("L06", "OWNER001")]
    assert failing_findings(findings, "never")[1] == 0


def test_audit_fail_on_names_the_records_and_masks_pii(leads: Path) -> None:
    # `audit --fail-on error` exited 1 with no word of why; under --mask-pii the values stay out
    out = leads.parent / "report"
    result = CliRunner().invoke(app, ["audit", str(leads), "--out", str(out), "--fail-on", "error", "--mask-pii"],
                                terminal_width=200)
    assert result.exit_code == 1
    assert "audit: findings at or above `error`" in result.output
    assert "L03  Email: EMAIL002 error" in result.output
    assert "ashley.lopez" not in result.output
