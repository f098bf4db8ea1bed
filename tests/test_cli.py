"""The command line as a user meets it: versions, help that teaches, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean import __version__
from crmclean.cli import app
from crmclean.cli.options import Source

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


# the commands that read a source, and the source options each takes (declared once, in cli/options.py)
SOURCE_COMMANDS = {
    "audit": 7, "validate": 7, "standardize": 7, "score": 7, "dedupe": 7, "plan": 7, "init": 5, "rules infer": 5,
}


def _click_command(path: str):  # type: ignore[no-untyped-def]
    import typer.main

    command = typer.main.get_command(app)
    for name in path.split():
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def test_source_options_are_declared_once_and_read_the_same_everywhere() -> None:
    from crmclean.cli.options import FILE_OPTIONS, SOURCE_OPTIONS

    spelled: dict[str, tuple[tuple[str, ...], str | None]] = {}
    for path, count in SOURCE_COMMANDS.items():
        params = {p.name: p for p in _click_command(path).params}
        expected = list(SOURCE_OPTIONS) if count == 7 else list(FILE_OPTIONS)
        assert [n for n in params if n in SOURCE_OPTIONS] == expected, path
        for name in expected:
            option = (tuple(params[name].opts), getattr(params[name], "help", None))
            assert spelled.setdefault(name, option) == option, f"{path} spells {name} differently"
    assert {n: o[0] for n, o in spelled.items()} == {
        "format": ("--format",), "sheet": ("--sheet",), "id_column": ("--id-column",),
        "encoding": ("--encoding",), "delimiter": ("--delimiter",), "where": ("--where",), "object_type": ("--object",),
        "header_row": ("--header-row",), "skip_footer": ("--skip-footer",), "column_map": ("--map",),
        "output_encoding": ("--output-encoding",)}


def test_source_options_decorator_hands_the_command_one_options_object() -> None:
    import typer

    from crmclean.cli.options import source_options
    from crmclean.sources import SourceOptions

    seen: list[object] = []
    demo = typer.Typer()

    @demo.command()
    @source_options("sheet", "delimiter")
    def show(source: Source, options: SourceOptions | None = None, verbose: bool = False) -> None:
        seen.append((source, options, verbose))

    result = runner.invoke(demo, ["a.xlsx", "--sheet", "2", "--delimiter", ";", "--verbose"])
    assert result.exit_code == 0, result.output
    assert seen == [("a.xlsx", SourceOptions(sheet="2", delimiter=";"), True)]
    assert "--format" not in runner.invoke(demo, ["--help"]).output


def test_cli_source_options_reach_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean import api
    from crmclean.sources import SourceOptions

    got: list[SourceOptions | None] = []

    def fake_score(source: str, rules: object, options: SourceOptions | None, **kw: object) -> None:
        got.append(options)
        raise SystemExit(0)

    monkeypatch.setattr(api, "score", fake_score)
    runner.invoke(app, ["score", "x.csv", "--encoding", "cp1251", "--delimiter", ";", "--id-column", "Id",
                        "--object", "leads"])
    assert got == [SourceOptions(encoding="cp1251", delimiter=";", id_column="Id", object_type="leads")]


def test_library_api_audit_plan_apply_rollback(tmp_path: Path) -> None:
    from crmclean import api

    source = tmp_path / "contacts.csv"
    source.write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    store = tmp_path / "runs.duckdb"
    result = api.audit(str(source), store=store)
    assert isinstance(result, api.AuditResult) and result.kpis["records"] == 200 and result.run_id
    files = api.write_report(result, tmp_path / "report")
    assert set(files.as_dict()) >= {"html", "json"} and (tmp_path / "report" / "report.json").exists()
    assert api.report(result)["kpis"]["records"] == 200

    plan = api.plan(str(source), steps=["standardize"])
    assert plan.operations
    plan_file = tmp_path / "plan.json"
    from crmclean.writeback.plan import save_plan

    save_plan(plan, plan_file)
    asked: list[str] = []
    report = api.apply(plan_file, store=store, out=tmp_path / "clean.csv", confirm=asked.append)
    assert isinstance(report, api.RunReport) and report.status == "ok" and report.run_id
    assert asked and asked[0].startswith("Apply ") and (tmp_path / "clean.csv").exists()
    assert api.export_changes(api.Journal(store), report.run_id, tmp_path / "changes.csv") > 0
    undone = api.rollback(report.run_id, store=store)
    assert isinstance(undone, api.RunReport) and undone.status == "ok"
    from crmclean.errors import UsageError

    with pytest.raises(UsageError, match="no run"):
        api.rollback("nope", store=store)
    with pytest.raises(UsageError, match="--steps"):
        api.plan(str(source), steps=["polish"])
