"""`crmclean standardize`: write a standardized copy of a source and a change log."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import DryRun, Json, Out, Rules, Source, source_options

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

Changes = Annotated[Path | None, typer.Option("--changes", help="Write the change log here (CSV: record_id, column, "
                                              "before, after, rule, confidence, reason).")]
ApplySuggestions = Annotated[bool, typer.Option("--apply-suggestions", help="Apply `suggest` changes too (typo "
                                                 "fixes, fuzzy titles, swapped names); default: only logged.")]
InPlace = Annotated[bool, typer.Option("--in-place", help="Overwrite the source file (a .bak copy is kept).")]


@app.command("standardize")
@source_options()
def standardize_command(
    source: Source,
    rules: Rules = None,
    out: Out = None,
    changes: Changes = None,
    apply_suggestions: ApplySuggestions = False,
    in_place: InPlace = False,
    dry_run: DryRun = False,
    json_out: Json = False,
    options: SourceOptions | None = None,
) -> None:
    """Standardize names, phones, emails, titles, companies, tax ids and countries; write a clean copy and a change log.

    Every changed cell is logged with its rule code and confidence: `fix` changes are
    applied, `suggest` ones (typo fixes, fuzzy matches, swapped names) only logged unless
    --apply-suggestions. Input columns and their order are kept; derived columns such as
    Phone__ext are appended (see `standardize.derived` in the rules file).

    Example: crmclean standardize contacts.csv --out contacts.clean.csv --changes changes.csv
    """
    from crmclean import api

    ui.MODE.json = json_out
    run = api.standardize(source, rules, options, out=out, changes_file=changes,
                          apply_suggestions=apply_suggestions, in_place=in_place, dry_run=dry_run)
    data = run.summary()
    if json_out:
        ui.print_json(data)
        return
    table = Table("rule", "name", "fixed", "suggested", "flagged", title=f"{data['records']} records")
    for row in data["rules"]:
        if row["fixed"] or row["suggested"] or row["flagged"]:
            table.add_row(row["rule"], row["name"], str(row["fixed"]), str(row["suggested"]), str(row["flagged"]))
    ui.out.print(table)
    verb = "would change" if dry_run else "changed"
    ui.info(f"{verb} {data['fixed']} cells in {data['records_changed']} records; {data['suggested']} suggestions, "
            f"{data['findings']} findings, {data['unknown_titles']} unknown job titles")
    if run.out and not dry_run:
        ui.info(f"wrote {run.out}" + (f" (backup {run.backup})" if run.backup else ""))
    if run.changes_file and not dry_run:
        ui.info(f"wrote change log {run.changes_file}")
