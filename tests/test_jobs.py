"""Unattended jobs: job file errors with line:column, a full cron run, safety limits, the lock, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.errors import ConfigError
from crmclean.jobs import JobExit, lock_path_for, parse_job, run_job, source_lock
from crmclean.store import RunStore

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
runner = CliRunner()


def excel_export(path: Path) -> bytes:
    rows = list(csv.reader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"), newline="")))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode("cp1251")
    path.write_bytes(data)
    return data


def write_job(d: Path, body: str) -> Path:
    job = d / "contacts-quarterly.yaml"
    job.write_text(body, encoding="utf-8")
    return job


JOB = """\
version: 1
name: contacts-quarterly
source: data/contacts.csv
steps: [standardize, dedupe, report]
output: out/contacts.clean.csv
limits:
  max_changes: {max_changes}
  batch_size: 50
report_dir: reports/{{name}}/{{date}}
log_file: logs/crmclean.log
store: state/runs.duckdb
notify:
  command: 'printf "%s %s %s\\n" "$CRMCLEAN_STATUS" "$CRMCLEAN_EXIT_CODE" "$CRMCLEAN_RUN_ID" >> notified.txt'
  when: always
"""


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    excel_export(tmp_path / "data" / "contacts.csv")
    return tmp_path


def test_job_file_mistakes_name_line_and_column() -> None:
    with pytest.raises(ConfigError) as err:
        parse_job("version: 1\nsource: a.csv\nlimit:\n  max_changes: 10\n", "job.yaml")
    assert str(err.value) == "job.yaml:3:1: unknown key `limit`; did you mean `limits`?"
    with pytest.raises(ConfigError) as err:
        parse_job("source: a.csv\nlimits:\n  max_changes: many\n", "job.yaml")
    assert err.value.line == 3 and "max_changes" in str(err.value)
    with pytest.raises(ConfigError, match="steps"):
        parse_job("source: a.csv\nsteps: [standardize, polish]\n", "job.yaml")
    job = parse_job("source: hubspot:contacts\nnotify: ./notify.sh\n")
    assert job.notify is not None and job.notify.command == "./notify.sh" and job.limits.max_changes == 1000


def test_quarterly_job_applies_reports_logs_and_notifies(workdir: Path) -> None:
    job = write_job(workdir, JOB.format(max_changes=5000))
    original = (workdir / "data" / "contacts.csv").read_bytes()
    result = run_job(job)
    assert result.exit_code == JobExit.OK, result.message
    assert result.run_id
    out = workdir / "out" / "contacts.clean.csv"
    assert out.exists() and out.read_bytes() != original
    assert (workdir / "data" / "contacts.csv").read_bytes() == original

    report_dir = result.report_dir
    assert report_dir is not None and report_dir.parent == workdir / "reports" / "contacts-quarterly"
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["exit_code"] == 0 and summary["run"]["counts"]["ok"] > 100
    assert (report_dir / "plan.json").exists()
    changes = (report_dir / "changes.csv").read_text(encoding="cp1251")  # the cp1251 ';' source's own style
    assert changes.startswith("run_id;unit;operation;record_id;field;before;after")
    assert summary["steps"]["report"] != "not available"
    assert any((report_dir / "audit").iterdir())

    log = (workdir / "logs" / "crmclean.log").read_text(encoding="utf-8")
    assert "job contacts-quarterly started" in log and f"applied run {result.run_id}" in log
    assert (workdir / "notified.txt").read_text().split() == ["ok", "0", result.run_id]

    with RunStore(workdir / "state" / "runs.duckdb") as st:
        commands = {r.command for r in st.list_runs()}
    assert {"apply", "audit"} <= commands

    # the next quarter: the cleaned output is the new source; nothing left to standardize twice
    again = run_job(job)
    assert again.exit_code == JobExit.OK


def test_safety_limit_writes_nothing_and_exits_5(workdir: Path) -> None:
    job = write_job(workdir, JOB.format(max_changes=10))
    result = run_job(job)
    assert result.exit_code == JobExit.LIMIT
    assert "more than --max-changes 10" in result.message
    assert not (workdir / "out" / "contacts.clean.csv").exists()
    assert (workdir / "notified.txt").read_text().split()[:2] == ["limit", "5"]
    assert "WARNING" in (workdir / "logs" / "crmclean.log").read_text(encoding="utf-8")


def test_a_second_run_on_the_same_source_is_locked_out(workdir: Path) -> None:
    job = write_job(workdir, JOB.format(max_changes=5000))
    source = str(workdir / "data" / "contacts.csv")
    store = workdir / "state" / "runs.duckdb"
    with source_lock(source, store) as held:
        assert held == lock_path_for(source, store)
        result = run_job(job)
    assert result.exit_code == JobExit.LOCKED
    assert "another run on" in result.message and "pid" in result.message
    assert not (workdir / "out" / "contacts.clean.csv").exists()


def test_plan_only_job_and_error_exit_codes(workdir: Path) -> None:
    job = write_job(workdir, "source: data/contacts.csv\napply: false\nsteps: [standardize]\n"
                             "report_dir: reports\nstore: runs.duckdb\n")
    result = run_job(job)
    assert (result.exit_code, result.status) == (JobExit.OK, "planned")
    assert (workdir / "reports" / "plan.json").exists()
    assert not (workdir / "data" / "contacts.clean.csv").exists()

    missing = write_job(workdir, "source: data/nope.csv\nstore: runs.duckdb\nreport_dir: reports\n")
    assert run_job(missing).exit_code == JobExit.SOURCE
    bad = write_job(workdir, "source: data/contacts.csv\nrules: rules.yaml\nstore: runs.duckdb\n")
    (workdir / "rules.yaml").write_text("version: 1\nstandardise: {}\n", encoding="utf-8")
    assert run_job(bad).exit_code == JobExit.CONFIG


def test_cli_run_exit_code_for_monitoring(workdir: Path) -> None:
    job = write_job(workdir, "source: data/contacts.csv\nlimits: {max_changes: 1}\nsteps: [standardize]\n"
                             "report_dir: reports\nstore: runs.duckdb\n")
    result = runner.invoke(app, ["run", str(job), "--json"])
    assert result.exit_code == 5
    assert json.loads(result.output)["status"] == "limit"


def test_job_report_steps_call_the_library_not_the_cli(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean import api, ui

    calls: list[str] = []
    real_report, real_score = api.write_report, api.score
    monkeypatch.setattr(api, "write_report", lambda *a, **k: calls.append("report") or real_report(*a, **k))
    monkeypatch.setattr(api, "score", lambda *a, **k: calls.append("score") or real_score(*a, **k))
    job = write_job(workdir, "source: data/contacts.csv\napply: false\nsteps: [standardize, score, report]\n"
                             "report_dir: reports\nstore: runs.duckdb\n")
    before = (ui.MODE.quiet, ui.MODE.json)
    result = run_job(job)
    assert result.exit_code == JobExit.OK, result.message
    assert calls == ["score", "report"]
    assert (ui.MODE.quiet, ui.MODE.json) == before  # no global output flag flipped behind the caller's back
    assert capsys.readouterr().out == ""  # cron mails anything on stdout
    assert (workdir / "reports" / "scores.csv").exists() and (workdir / "reports" / "audit" / "report.json").exists()
    assert result.summary["steps"] == {"score": str(workdir / "reports" / "scores.csv"),
                                       "report": str(workdir / "reports" / "audit")}
