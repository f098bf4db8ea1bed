"""`crmclean audit`: read-only data-quality audit of a source, with an HTML/JSON/MD/CSV report and a run-store record."""

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
from crmclean.reports.jsonreport import summary
from crmclean.validate import check_fail_on

MaskPii = Annotated[bool, typer.Option("--mask-pii", help="Show emails and phones partly masked in the report.")]


@app.command("audit")
def audit_command(
    source: Source,
    rules: Rules = None,
    out: Out = None,
    fail_on: FailOn = "never",
    mask_pii: MaskPii = False,
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
    """Audit a source without changing it: standardization proposals, validation, duplicates, completeness.

    Writes report.html (open in a browser), report.json, report.md, findings.csv, changes.csv and
    duplicates.csv to --out (default ./crmclean-report/TIMESTAMP/), records the run in the run store
    for trends, and prints a summary. Exit code follows --fail-on (default never).

    Example: crmclean audit examples/contacts.csv --out report/ --fail-on error
    """
    ui.MODE.json = json_out
    check_fail_on(fail_on)  # before the long run, not after it
    opts = source_options(format, sheet, id_column, encoding, delimiter, where, object_type)
    result = run_audit(source, rules, opts, AuditOptions(store=store, progress=step_printer()))
    written = write_reports(result, out, mask_pii=mask_pii or None)
    if json_out:
        ui.print_json(summary(written.report, written.as_dict()))
    else:
        print_summary(written.report, written.as_dict())
    code = result.exit_code(fail_on)
    if code:
        raise typer.Exit(code)
