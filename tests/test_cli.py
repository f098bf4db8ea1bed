"""The command line as a user meets it: versions, help that teaches, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean import __version__
from crmclean.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

COMMANDS = ["audit", "standardize", "dedupe", "score", "validate", "plan", "apply", "rollback", "runs", "run",
            "init", "rules list", "rules explain", "rules check", "rules infer", "rules example"]


def crmclean(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess (no TTY, as under cron)."""
    return subprocess.run([sys.executable, "-m", "crmclean", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"crmclean {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_teaches_by_example(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "crmclean " + command.split()[0] in result.output, "help should show a real command line"
    assert "Example" in result.output, f"`crmclean {command} --help` has no example"


def test_missing_file_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = crmclean("rules", "infer", str(tmp_path / "missing.csv"))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {tmp_path / 'missing.csv'}: file not found"]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = crmclean("--debug", "rules", "infer", str(tmp_path / "missing.csv"))
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bad_rules_file_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nstandardise: {}\n", encoding="utf-8")
    result = crmclean("rules", "check", str(rules))
    assert result.returncode == 2
    assert "rules.yaml:2:1: unknown key `standardise`; did you mean `standardize`?" in result.stderr


def test_usage_error_exit_2() -> None:
    result = crmclean("rules", "explain")
    assert result.returncode == 2


def test_unknown_rule_explain_exit_2() -> None:
    result = crmclean("rules", "explain", "PHONE999")
    assert result.returncode == 2 and "unknown rule" in result.stderr


def test_init_writes_a_rules_file_that_checks(tmp_path: Path) -> None:
    out = tmp_path / "rules.yaml"
    result = runner.invoke(app, ["init", str(ROOT / "examples/contacts.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "ФИО: full_name" in text and "id_column: Id" in text
    assert runner.invoke(app, ["rules", "check", str(out), "--source", str(ROOT / "examples/contacts.csv")]).exit_code == 0
    again = runner.invoke(app, ["init", "--out", str(out)])
    assert again.exit_code != 0  # never overwrites without --force


def test_rules_infer_prints_roles_for_salesforce_style_headers(tmp_path: Path) -> None:
    src = tmp_path / "sf.csv"
    src.write_text("Id,FirstName,LastName,MobilePhone,Email,Title,AccountName,OwnerId,LastModifiedDate\n"
                   "003A,Ivan,Petrov,+79161234567,i@x.ru,CEO,Acme,005X,2024-01-01\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "infer", str(src)])
    assert result.exit_code == 0
    for line in ("FirstName: first_name", "LastName: last_name", "MobilePhone: mobile", "Title: job_title",
                 "AccountName: company", "OwnerId: owner", "LastModifiedDate: updated_at"):
        assert line in result.output


def test_readme_command_reference_is_current() -> None:
    from crmclean.cli import reference

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for begin, end, render in ((reference.BEGIN, reference.END, reference.render_reference),
                               (reference.RULES_BEGIN, reference.RULES_END, reference.render_rules_table)):
        block = text[text.index(begin): text.index(end) + len(end)]
        assert block == render(), "README is stale: run `python -m crmclean.cli.reference README.md`"


def test_readme_quickstart_has_exactly_the_two_commands_ci_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("\n", 1)[1].strip() for b in quick.split("```sh")[1:]]
    commands = [b.split("```")[0].strip() for b in blocks]
    assert len(commands) == 2
    assert commands[0].startswith("pip install . && crmclean audit examples/contacts.csv")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci
