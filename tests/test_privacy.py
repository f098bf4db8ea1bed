"""Personal data at rest (issue 17, item 11): a private run store, masked views, prune and forget."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from crmclean.connectors.files import is_live_formula
from crmclean.privacy import parse_age

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "igor.morozov@granit-group.ru"


def cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMCLEAN_STORE": str(tmp / "store" / "runs.duckdb")}
    return subprocess.run([sys.executable, "-m", "crmclean", *args], capture_output=True, text=True, cwd=tmp,
                          timeout=180, env=env)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("privacy")
    (tmp / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    assert cli(tmp, "plan", "contacts.csv", "--steps", "standardize", "-o", "plan.json").returncode == 0
    done = cli(tmp, "apply", "plan.json", "--out", "out.csv", "--yes")
    assert done.returncode == 0, done.stderr
    runs = json.loads(cli(tmp, "runs", "--json").stdout)
    return tmp, next(r["run_id"] for r in runs if r["command"] == "apply")


def _count(tmp: Path, sql: str) -> int:
    with duckdb.connect(str(tmp / "store" / "runs.duckdb"), read_only=True) as con:
        return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def test_run_store_is_private(applied: tuple[Path, str]) -> None:
    tmp, _ = applied
    assert stat.S_IMODE((tmp / "store").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp / "store" / "runs.duckdb").stat().st_mode) == 0o600


def test_runs_show_mask_pii(applied: tuple[Path, str]) -> None:
    tmp, run_id = applied
    shown = cli(tmp, "runs", "show", run_id, "--mask-pii", "--csv", "masked.csv")
    assert shown.returncode == 0, shown.stderr
    text = (tmp / "masked.csv").read_text(encoding="utf-8-sig")
    assert "@granit-group.ru" in text and EMAIL not in text and "i***@granit-group.ru" in text
    assert EMAIL not in shown.stdout
    assert stat.S_IMODE((tmp / "masked.csv").stat().st_mode) == 0o600
    assert "formulas" not in shown.stderr  # masked phones (+* ***) are not taken for formulas
    assert not is_live_formula("+* (***) ***-45-67")
    plain = cli(tmp, "runs", "show", run_id, "--csv", "plain.csv")
    assert EMAIL in (tmp / "plain.csv").read_text(encoding="utf-8-sig") and plain.returncode == 0


def test_forget_erases_a_person_and_prune_deletes_old_runs(applied: tuple[Path, str]) -> None:
    tmp, run_id = applied
    assert _count(tmp, f"SELECT count(*) FROM journal_intents WHERE contains(lower(after), '{EMAIL}')") > 0
    dry = cli(tmp, "forget", "--email", EMAIL.upper(), "--dry-run")
    assert dry.returncode == 0 and "would erase 1 record(s)" in dry.stderr
    refused = cli(tmp, "forget", "--email", EMAIL)  # no terminal, no --yes
    assert refused.returncode == 2
    done = cli(tmp, "forget", "--email", EMAIL, "--yes")
    assert done.returncode == 0 and "erased 1 record(s)" in done.stderr, done.stderr
    assert _count(tmp, f"SELECT count(*) FROM journal_intents WHERE contains(lower(coalesce(before, '') || "
                       f"coalesce(after, '') || coalesce(detail, '')), '{EMAIL}')") == 0
    assert _count(tmp, f"SELECT count(*) FROM run_plans WHERE contains(lower(plan), '{EMAIL}')") == 0
    again = cli(tmp, "forget", "--email", EMAIL, "--yes")
    assert "nothing to erase" in again.stderr
    assert cli(tmp, "forget").returncode == 2
    assert cli(tmp, "forget", "--phone", "12").returncode == 2

    kept = cli(tmp, "runs", "prune", "--older-than", "30d", "--yes")
    assert kept.returncode == 0 and "deleted 0 run(s)" in kept.stderr
    pruned = cli(tmp, "runs", "prune", "--older-than", "0d", "--yes")
    assert pruned.returncode == 0 and run_id in pruned.stderr
    assert _count(tmp, f"SELECT count(*) FROM journal_intents WHERE run_id = '{run_id}'") == 0
    assert _count(tmp, f"SELECT count(*) FROM runs WHERE run_id = '{run_id}'") == 0
    assert cli(tmp, "runs", "prune", "--older-than", "soon").returncode == 2


@pytest.mark.parametrize("text, days", [("90d", 90), ("2w", 14), ("6m", 180), ("1y", 365), ("7", 7)])
def test_parse_age(text: str, days: int) -> None:
    assert parse_age(text).days == days


def test_plan_show_mask_pii(tmp_path: Path) -> None:
    (tmp_path / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    assert cli(tmp_path, "plan", "contacts.csv", "--steps", "standardize", "-o", "plan.json").returncode == 0
    plain = cli(tmp_path, "plan", "--show", "plan.json")
    assert EMAIL in plain.stdout
    for extra in ([], ["--json"]):
        masked = cli(tmp_path, "plan", "--show", "plan.json", "--mask-pii", *extra)
        assert masked.returncode == 0, masked.stderr
        assert EMAIL not in masked.stdout and "i***@granit-group.ru" in masked.stdout


def test_job_changes_csv_masked_by_the_rules_report_mask_pii(tmp_path: Path) -> None:
    from crmclean.jobs import run_job

    (tmp_path / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    (tmp_path / "rules.yaml").write_text("version: 1\nreport:\n  mask_pii: true\n", encoding="utf-8")
    job = tmp_path / "job.yaml"
    job.write_text("version: 1\nname: masked\nsource: contacts.csv\nrules: rules.yaml\nsteps: [standardize]\n"
                   "output: out.csv\nreport_dir: reports\nstore: state/runs.duckdb\n", encoding="utf-8")
    result = run_job(job)
    assert result.exit_code == 0, result.message
    assert result.report_dir is not None
    changes = (result.report_dir / "changes.csv").read_text(encoding="utf-8-sig")
    assert EMAIL not in changes and "i***@granit-group.ru" in changes
