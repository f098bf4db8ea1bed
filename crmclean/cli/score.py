"""`crmclean score`: completeness score (0–100) and traffic light per record, written next to each record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmclean import ui
from crmclean.cli import app
from crmclean.cli._report_output import step_printer
from crmclean.cli.options import Json, Rules, Source, source_options

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

ScoreOut = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the records with completeness_score/grade/missing columns here "
                 "(.csv .xlsx .parquet .jsonl)."),
]


@app.command("score")
@source_options()
def score_command(
    source: Source,
    out: ScoreOut = None,
    rules: Rules = None,
    json_out: Json = False,
    options: SourceOptions | None = None,
) -> None:
    """Score each record's completeness (weighted fields that are filled AND valid) with a red/yellow/green grade.

    Weights and thresholds come from the rules file's `completeness:` section (defaults: email 25,
    phone 20, company 15, job title 10 …; green ≥ 80, yellow ≥ 50). Prints per-field fill and
    validity rates; --out writes every record with completeness_score, completeness_grade and
    completeness_missing appended.

    Example: crmclean score contacts.csv --out contacts_scored.xlsx
    """
    from crmclean import api

    ui.MODE.json = json_out
    run = api.score(source, rules, options, out=out, progress=step_printer())
    data = run.summary()
    if json_out:
        ui.print_json(data)
        return
    if ui.MODE.quiet:
        return
    completeness = run.completeness
    g = data["grades"]
    ui.out.print(f"{escape(run.source)}: {completeness.records:,} {escape(data['object_type'])}, average "
                 f"completeness {data['average']} (median {data['median']}); [green]green {g['green']:,}[/] · "
                 f"[yellow]yellow {g['yellow']:,}[/] · [red]red {g['red']:,}[/]", highlight=False)
    table = Table("field", "columns", "weight", "filled %", "valid % of filled", title="fields", title_justify="left")
    for f in data["fields"]:
        table.add_row(escape(f["field"]), escape(", ".join(f["columns"]) or "— not in source"), f"{f['weight']:g}",
                      f"{f['fill_rate']}", "—" if f["valid_rate"] is None else f"{f['valid_rate']}")
    ui.out.print(table)
    if out is not None:
        ui.out.print(f"wrote {escape(str(out))}", highlight=False)
