"""`crmclean validate`: pre-import check of a spreadsheet (or CRM object); exit code gates the import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli._report_output import print_failing, print_summary, step_printer
from crmclean.cli.options import FailOn, Json, Out, Rules, Source, Store, source_options

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

Against = Annotated[
    str | None,
    typer.Option("--against", help="Also flag records that already exist here (a file or salesforce:Contact)."),
]


@app.command("validate")
@source_options()
def validate_command(
    source: Source,
    rules: Rules = None,
    against: Against = None,
    fail_on: FailOn = "error",
    out: Out = None,
    json_out: Json = False,
    store: Store = None,
    options: SourceOptions | None = None,
) -> None:
    """Check a file before import: required fields, formats, picklists, phones, emails, INN, duplicates.

    Runs the audit engine read-only; with --out writes the same report files as `audit`
    (findings.csv lists every problem with record id, column, value and a fix hint).
    Exits 1 when a finding reaches --fail-on (default error), so scripts and CI can stop the import.

    Example: crmclean validate leads.xlsx --fail-on error --against salesforce:Lead --out checks/
    """
    from crmclean import api
    from crmclean.reports.jsonreport import summary

    ui.MODE.json = json_out
    api.check_fail_on(fail_on)
    result = api.validate(source, rules, options, store=store, against=against, progress=step_printer())
    files: dict[str, str] = {}
    if out is not None:
        written = api.write_report(result, out)
        report, files = written.report, written.as_dict()
    else:
        report = api.report(result)
    if json_out:
        from crmclean.validate import failing_findings

        shown, total = failing_findings(result.findings, fail_on, limit=50)
        keep = ["record_id", "column", "rule", "severity", "value", "message", "hint"]
        ui.print_json(summary(report, files) | {"failing": {"total": total, "first": shown.select(keep).to_dicts()}})
    else:
        print_summary(report, files)
    code = result.exit_code(fail_on)
    if code and not json_out:
        ui.err.print(f"[red]validation failed:[/] findings at or above `{fail_on}`", highlight=False)
        print_failing(result.findings, fail_on, written=bool(files))
    if code:
        raise typer.Exit(code)
