"""`crmclean plan`: write a reviewable plan of the fixes and merges the rules imply, or show one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import Json, Rules, source_options
from crmclean.errors import UsageError

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions


@app.command("plan")
@source_options()
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
    mask_pii: Annotated[bool, typer.Option("--mask-pii", help="With --show: mask e-mails and phone numbers in "
                                           "what is printed (i***@mail.ru, +* *** ***-45-67).")] = False,
    options: SourceOptions | None = None,
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
    from crmclean import api
    from crmclean.writeback.plan import plan_json, render_plan_diff, save_plan

    if show is not None:
        plan = api.load_plan(show)
        if mask_pii:
            from crmclean.reports.content import mask_free_text

            def shown(text: str) -> str:
                return mask_free_text(text) or ""
        else:
            def shown(text: str) -> str:
                return text
        if json_out:
            typer.echo(shown(plan_json(plan)), nl=False)
        else:
            ui.out.print(shown(render_plan_diff(plan, limit=limit)), highlight=False, markup=False)
        return
    if source is None:
        raise UsageError("name a SOURCE to plan, or --show PLAN to review a saved plan")
    chosen = [s.strip() for s in steps.split(",") if s.strip()]
    plan = api.plan(source, rules, options, steps=chosen, include_suggestions=include_suggestions)
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
