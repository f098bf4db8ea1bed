"""`crmclean audit`: read-only data-quality audit of a source, with an HTML/JSON/MD/CSV report and a run-store record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli._report_output import print_failing, print_summary, step_printer
from crmclean.cli.options import FailOn, Json, Out, Rules, Source, Store, source_options

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

MaskPii = Annotated[bool, typer.Option("--mask-pii", help="Show emails and phones partly masked in the report.")]


@app.command("audit")
@source_options()
def audit_command(
    source: Source,
    rules: Rules = None,
    out: Out = None,
    fail_on: FailOn = "never",
    mask_pii: MaskPii = False,
    json_out: Json = False,
    store: Store = None,
    options: SourceOptions | None = None,
) -> None:
    """Audit a source without changing it: standardization proposals, validation, duplicates, completeness.

    Writes report.html (open in a browser), report.json, report.md, findings.csv, changes.csv and
    duplicates.csv to --out (default ./crmclean-report/TIMESTAMP/), records the run in the run store
    for trends, and prints a summary. Exit code follows --fail-on (default never).

    Example: crmclean audit examples/contacts.csv --out report/ --fail-on error
    """
    from crmclean import api
    from crmclean.reports.jsonreport import summary

    ui.MODE.json = json_out
    api.check_fail_on(fail_on)  # before the long run, not after it
    result = api.audit(source, rules, options, store=store, progress=step_printer())
    written = api.write_report(result, out, mask_pii=mask_pii or None)
    if json_out:
        ui.print_json(summary(written.report, written.as_dict()))
    else:
        print_summary(written.report, written.as_dict())
    code = result.exit_code(fail_on)
    if code and not json_out:
        ui.err.print(f"[red]audit:[/] findings at or above `{fail_on}`", highlight=False)
        print_failing(result.findings, fail_on, written=True, values=not mask_pii)
    if code:
        raise typer.Exit(code)
