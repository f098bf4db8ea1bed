"""`crmclean plan`: write a reviewable plan of the fixes and merges the rules imply, or show one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import (
    Delimiter,
    Encoding,
    Format,
    IdColumn,
    Json,
    Object,
    Rules,
    Sheet,
    Where,
    source_options,
)
from crmclean.errors import UsageError
from crmclean.plan import build_plan, load_plan, plan_json, render_plan_diff, save_plan
from crmclean.sources import open_source

_STEPS = ("standardize", "dedupe")


@app.command("plan")
def plan_command(
    source: Annotated[str | None, typer.Argument(
        help="A file (.csv .xlsx .parquet .jsonl) or a CRM object: salesforce:Contact, hubspot:contacts.",
        show_default=False)] = None,
    rules: Rules = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Plan file to write (JSON).")] = None,
    show: Annotated[Path | None, typer.Option("--show", help="Print the readable diff of a saved plan.")] = None,
    steps: Annotated[str, typer.Option("--steps", help="What to plan: standardize, dedupe or both.")] =
        "standardize,dedupe",
    include_suggestions: Annotated[bool, typer.Option(
        "--include-suggestions", help="Also plan `suggest` changes (default: only confident `fix` changes).")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most N records and N merges.")] = None,
    format: Format = None,
    sheet: Sheet = None,
    id_column: IdColumn = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    where: Where = None,
    object_type: Object = None,
    json_out: Json = False,
) -> None:
    """Plan the writes the rules imply: field updates (before → after, rule code) and merges (master,
    merged-away records, golden values and why), each pinned to the record's current version.

    Nothing is written to the source; `crmclean apply PLAN` does that after you review it.

    Examples:

      crmclean plan contacts.csv --rules rules.yaml -o plan.json

      crmclean plan --show plan.json | less

      crmclean plan salesforce:Contact --steps standardize -o sf-plan.json
    """
    if show is not None:
        plan = load_plan(show)
        if json_out:
            typer.echo(plan_json(plan), nl=False)
        else:
            ui.out.print(render_plan_diff(plan, limit=limit), highlight=False, markup=False)
        return
    if source is None:
        raise UsageError("name a SOURCE to plan, or --show PLAN to review a saved plan")
    chosen = [s.strip() for s in steps.split(",") if s.strip()]
    bad = [s for s in chosen if s not in _STEPS]
    if bad or not chosen:
        raise UsageError(f"--steps takes standardize and/or dedupe, not {', '.join(bad) or 'nothing'}")
    opts = source_options(format, sheet, id_column, encoding, delimiter, where, object_type)
    table, rules_file, connector = open_source(source, str(rules) if rules else None, opts)
    plan = build_plan(
        table, rules_file, version_of=connector.version_of, steps=chosen, include_suggestions=include_suggestions,
        source_options={"format": format, "sheet": sheet, "id_column": id_column, "encoding": encoding,
                        "delimiter": delimiter, "where": where},
    )
    summary = plan.summary()
    if out is not None:
        save_plan(plan, out)
    if json_out:
        ui.print_json({"plan_file": str(out) if out else None, "summary": summary, "notes": plan.notes})
        return
    if out is None:
        ui.out.print(render_plan_diff(plan, limit=limit if limit is not None else 50), highlight=False, markup=False)
        ui.info("nothing saved; write the plan with -o plan.json, then `crmclean apply plan.json`")
        return
    for note in plan.notes:
        ui.warn(note)
    ui.info(f"wrote {out}: {summary['updates']} field update(s) in {summary['records_updated']} record(s), "
            f"{summary['merges']} merge(s) ({summary['records_merged_away']} record(s) merged away)")
    ui.info(f"review: crmclean plan --show {out}    apply: crmclean apply {out}")
