"""The audit end to end: library API, report files, KPIs computed from findings, trend, CLI exit codes."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from _audit_fixture import XSS, contacts_frame, write_contacts_csv
from typer.testing import CliRunner

from crmclean.audit import AuditOptions, correcting_changes, run_audit
from crmclean.cli import app
from crmclean.connectors import open_connector
from crmclean.errors import CrmcleanError
from crmclean.reports import write_reports
from crmclean.rules.base import find_rule
from crmclean.store import RunStore
from crmclean.table import read_table

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "contacts.csv"
TODAY = date(2026, 11, 23)
runner = CliRunner()


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    return write_contacts_csv(tmp_path / "contacts.csv")


def audit(source: Path, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    return run_audit(str(source), None, options=AuditOptions(store=tmp_path / "runs.duckdb", today=TODAY, **kw))


def test_kpis_are_computed_from_the_findings(source: Path, tmp_path: Path) -> None:
    result = audit(source, tmp_path)
    f = result.findings
    k = result.kpis

    def records(*codes: str) -> int:  # a retired code (PHONEV001) names the rule that replaced it (PHONE002)
        current = [rule.code for rule in map(find_rule, codes) if rule is not None]
        return f.filter(pl.col("rule").is_in(current)).get_column("record_id").n_unique()

    assert k["records"] == 12
    assert k["invalid_phones"] == records("PHONEV001") >= 1
    assert k["invalid_emails"] == records("EMAILV001", "EMAILV002", "EMAILV004") >= 2
    assert (k["stale"], k["stale_never"], k["stale_unreadable"]) == (1, 1, 1)
    assert k["orphans"] == 1 and k["unassigned"] == 1
    dirty = set(f.filter(pl.col("severity").is_in(["error", "warning"])).get_column("record_id"))
    dirty |= set(result.clusters.get_column("record_id"))
    dirty |= set(correcting_changes(result.changes, result.table, ["TITLE001"]).get_column("record_id"))
    assert k["clean_records"] == 12 - len(dirty) > 0
    assert k["clean_records"] == int(result.clean.sum())
    assert k["pct_clean"] == round(100 * k["clean_records"] / 12, 1)
    assert k["avg_completeness"] == round(result.completeness.scores.get_column("score").mean(), 1)
    assert k["findings_error"] + k["findings_warning"] + k["findings_info"] == f.height


def test_formatting_only_changes_do_not_make_a_record_unclean(source: Path, tmp_path: Path) -> None:
    result = audit(source, tmp_path)
    changes = pl.DataFrame({
        "record_id": ["C02", "C02", "C05", "C05", "C11"],
        "column": ["Телефон", "Страна", "Город", "ФИО", "Компания"],
        "before": ["+7 (495) 123-45-67", "Россия", "москва", None, "Siemens GmbH"],
        "after": ["+74951234567", "RU", "Москва", "Smith", "Siemens Energy GmbH"],
        "rule": ["PHONE001", "COUNTRY001", "TEXT002", "NAME003", "COMPANY001"],
        "confidence": ["fix"] * 5, "reason": [""] * 5,
    })
    assert correcting_changes(changes, result.table).get_column("record_id").to_list() == ["C11"]


def test_kpis_follow_the_data(tmp_path: Path) -> None:
    clean = contacts_frame().filter(pl.col("Id").is_in(["C02", "C05", "C11"]))
    path = tmp_path / "clean.csv"
    clean.write_csv(path)
    k = audit(path, tmp_path).kpis
    assert k["records"] == 3 and k["invalid_phones"] == 0 and k["invalid_emails"] == 0
    assert k["findings_error"] == 0


def test_report_files_and_escaping(source: Path, tmp_path: Path) -> None:
    result = audit(source, tmp_path)
    files = write_reports(result, tmp_path / "out")
    assert set(files.files) == {"html", "json", "md", "findings", "changes", "duplicates"}
    for path in files.files.values():
        assert path.exists()
    html = files.files["html"].read_text(encoding="utf-8")
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|@import|url\(", html)  # self-contained, no network
    report = json.loads(files.files["json"].read_text(encoding="utf-8"))
    assert report["schema_version"] == 1
    assert report["kpis"] == json.loads(json.dumps(result.kpis))
    for key, value in report["kpis"].items():
        if key in ("records", "pct_clean", "invalid_phones", "orphans"):
            assert f'data-kpi="{key}"' in html and f'data-value="{value}"' in html
    assert "A record is clean when" in html and "A record is clean when" in report["definitions"]["clean_record"]
    md = files.files["md"].read_text(encoding="utf-8")
    assert f"{report['kpis']['pct_clean']}%" in md
    with files.files["findings"].open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == result.findings.height
    assert {"record_id", "rule", "severity", "column", "value", "message", "hint"} <= set(rows[0])


def test_mask_pii(source: Path, tmp_path: Path) -> None:
    files = write_reports(audit(source, tmp_path), tmp_path / "masked", mask_pii=True)
    html = files.files["html"].read_text(encoding="utf-8")
    text = files.files["json"].read_text(encoding="utf-8")
    assert "petrov@romashka" not in html and "p***@romashka" in html
    assert "8 (495) 123-45" not in text and "* (***) ***-45" in text
    with files.files["findings"].open(encoding="utf-8-sig") as fh:
        assert "anna@gmial.com" not in fh.read()


def test_trend_from_the_run_store(source: Path, tmp_path: Path) -> None:
    first = audit(source, tmp_path)
    second = audit(source, tmp_path)
    assert [t["current"] for t in second.trend] == [False, True]
    assert second.trend[0]["run_id"] == first.run_id
    with RunStore(tmp_path / "runs.duckdb") as store:
        runs = store.list_runs(source=str(source), command="audit")
    assert {r.run_id for r in runs} == {first.run_id, second.run_id}
    assert runs[0].kpis["pct_clean"] == second.kpis["pct_clean"]
    html = write_reports(second, tmp_path / "r2").files["html"].read_text(encoding="utf-8")
    assert first.run_id in html and 'aria-label="% clean over time"' in html


def test_cli_audit_writes_reports_and_follows_fail_on(source: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.duckdb")
    out = tmp_path / "rep"
    r = runner.invoke(app, ["audit", str(source), "--out", str(out), "--store", store])
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} >= {"report.html", "report.json", "report.md", "findings.csv",
                                               "changes.csv", "duplicates.csv"}
    assert "% clean records" in r.output
    r = runner.invoke(app, ["audit", str(source), "--out", str(out), "--store", store, "--fail-on", "error", "--json"])
    assert r.exit_code == 1
    summary = json.loads(r.stdout)
    assert summary["kpis"]["records"] == 12 and summary["files"]["html"].endswith("report.html")
    r = runner.invoke(app, ["audit", str(source), "--store", store, "--fail-on", "sometimes"])
    assert isinstance(r.exception, CrmcleanError) and r.exception.exit_code == 2  # main() maps it to exit 2


def test_cli_validate_gates_an_import(source: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.duckdb")
    r = runner.invoke(app, ["validate", str(source), "--store", store])
    assert r.exit_code == 1
    clean = tmp_path / "clean.csv"
    contacts_frame().filter(pl.col("Id").is_in(["C02", "C05", "C11"])).write_csv(clean)
    r = runner.invoke(app, ["validate", str(clean), "--store", store, "--out", str(tmp_path / "v")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "v" / "findings.csv").exists()
    rules = tmp_path / "rules.yaml"
    rules.write_text("validate:\n  required:\n    contacts: [company, inn]\n", encoding="utf-8")
    r = runner.invoke(app, ["validate", str(clean), "--store", store, "--rules", str(rules), "--json"])
    assert r.exit_code == 1  # the English contacts have no INN
    assert json.loads(r.stdout)["findings_by_severity"]["error"] == 2


def test_cli_config_error_is_one_line_exit_2(source: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("validate:\n  stale_dayz: 30\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "crmclean", "validate", str(source), "--rules", str(rules),
                           "--store", str(tmp_path / "s.duckdb")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {rules}:2:3: unknown key `validate.stale_dayz`; did you mean `stale_days`?"]


def test_cli_score_adds_columns(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.xlsx"
    r = runner.invoke(app, ["score", str(source), "--out", str(out)])
    assert r.exit_code == 0, r.output
    scored = read_table(open_connector(str(out))).frame  # our own XLSX reader (openpyxl), as a user's re-import
    assert scored.height == 12
    assert {"completeness_score", "completeness_grade", "completeness_missing"} <= set(scored.columns)
    assert set(scored.get_column("completeness_grade")) <= {"green", "yellow", "red"}
    r = runner.invoke(app, ["score", str(source), "--json"])
    assert json.loads(r.stdout)["records"] == 12


def test_audit_of_the_bundled_example(tmp_path: Path) -> None:
    r = runner.invoke(app, ["audit", str(EXAMPLE), "--out", str(tmp_path / "ex"), "--store",
                            str(tmp_path / "runs.duckdb"), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads((tmp_path / "ex" / "report.json").read_text(encoding="utf-8"))
    k = report["kpis"]
    assert k["records"] == 200
    assert 0 < k["pct_clean"] < 100 and k["invalid_phones"] > 0 and k["invalid_emails"] > 0 and k["orphans"] > 0
    assert (tmp_path / "ex" / "report.html").stat().st_size < 5_000_000


def test_validate_against_flags_records_already_in_the_target(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "crm_export.csv"
    existing = contacts_frame().filter(pl.col("Id").is_in(["C02", "C05"])).with_columns(
        pl.Series("Id", ["SF-001", "SF-002"]))
    existing.write_csv(target)
    result = run_audit(str(source), None, options=AuditOptions(record_run=False, today=TODAY, against=str(target),
                                                               dedupe=False, command="validate"))
    found = result.findings.filter(pl.col("rule") == "EXISTS001")
    assert dict(zip(found.get_column("record_id"), found.get_column("hint"), strict=True)).keys() == {"C02", "C05"}
    assert "SF-00" in found.get_column("hint")[0]
