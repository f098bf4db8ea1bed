"""`crmclean validate`: pre-import check of a spreadsheet (or CRM object); exit code gates the import."""

from __future__ import annotations

from typing import Annotated

import typer

from crmclean import ui
from crmclean.audit import AuditOptions, run_audit
from crmclean.cli import app
from crmclean.cli._report_output import print_summary, step_printer
from crmclean.cli.options import (
    Delimiter,
    Encoding,
    FailOn,
    Format,
    IdColumn,
    Json,
    Object,
    Out,
    Rules,
    Sheet,
    Source,
    Store,
    Where,
    source_options,
)
from crmclean.reports import write_reports
from crmclean.reports.content import build_report
from crmclean.reports.jsonreport import summary
from crmclean.validate import check_fail_on

Against = Annotated[
    str | None,
    typer.Option("--against", help="Also flag records that already exist here (a file or salesforce:Contact)."),
]


@app.command("validate")
def validate_command(
    source: Source,
    rules: Rules = None,
    against: Against = None,
    fail_on: FailOn = "error",
    out: Out = None,
    json_out: Json = False,
    store: Store = None,
    format: Format = None,
    sheet: Sheet = None,
    id_column: IdColumn = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    where: Where = None,
    object_type: Object = None,
) -> None:
    """Check a file before import: required fields, formats, picklists, phones, emails, INN, duplicates.

    Runs the audit engine read-only; with --out writes the same report files as `audit`
    (findings.csv lists every problem with record id, column, value and a fix hint).
    Exits 1 when a finding reaches --fail-on (default error), so scripts and CI can stop the import.

    Example: crmclean validate leads.xlsx --fail-on error --against salesforce:Lead --out checks/
    """
    ui.MODE.json = json_out
    check_fail_on(fail_on)
    opts = source_options(format, sheet, id_column, encoding, delimiter, where, object_type)
    result = run_audit(source, rules, opts,
                       AuditOptions(store=store, command="validate", against=against, progress=step_printer()))
    files: dict[str, str] = {}
    if out is not None:
        written = write_reports(result, out)
        report, files = written.report, written.as_dict()
    else:
        report = build_report(result)
    if json_out:
        ui.print_json(summary(report, files))
    else:
        print_summary(report, files)
    code = result.exit_code(fail_on)
    if code and not json_out:
        ui.err.print(f"[red]validation failed:[/] findings at or above `{fail_on}`", highlight=False)
    if code:
        raise typer.Exit(code)
