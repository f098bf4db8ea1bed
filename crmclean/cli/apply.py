"""`crmclean apply`: write a reviewed plan to its source (or resume an interrupted run), journaled and undoable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli._writes import confirm_or_refuse, print_nothing, print_report
from crmclean.cli.options import DryRun, Json, Store, Yes
from crmclean.errors import UsageError


@app.command("apply")
def apply_command(
    plan_file: Annotated[Path | None, typer.Argument(help="Plan file made by `crmclean plan -o`.",
                                                     show_default=False)] = None,
    yes: Yes = False,
    max_changes: Annotated[int | None, typer.Option(
        "--max-changes", help="Refuse when the plan has more changes (field updates + merges): a safety valve.")] = None,
    only: Annotated[str | None, typer.Option("--only", help="Apply only `updates` or only `merges`.")] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", min=1, help="Records per write batch (default: the target's maximum).")] = None,
    resume: Annotated[str | None, typer.Option(
        "--resume", help="Finish the interrupted run RUN_ID without repeating completed writes.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="File targets: write the result here (default: NAME.clean.EXT next to the input).")] = None,
    in_place: Annotated[bool, typer.Option(
        "--in-place", help="File targets: overwrite the input (a .bak backup is kept).")] = False,
    store: Store = None,
    json_out: Json = False,
    dry_run: DryRun = False,
) -> None:
    """Apply a plan: re-read every targeted record, skip (and report as a conflict) any record changed
    since the plan, journal each write with its before-values before sending it, and record every
    record's outcome. Exit 1 when any record conflicted or failed.

    Examples:

      crmclean apply plan.json                         # asks before writing contacts.clean.csv

      crmclean apply plan.json --in-place --yes --max-changes 500

      crmclean apply plan.json --only updates --batch-size 200

      crmclean apply --resume 20261123-024500-a1b2 --yes
    """
    from crmclean import api

    def confirm(question: str) -> None:
        confirm_or_refuse(question, yes)

    if resume is not None:
        if plan_file is not None:
            raise UsageError("--resume takes the plan from the run store; do not name a plan file")
        print_report(api.resume(resume, store=store, batch_size=batch_size, confirm=confirm, progress=ui.progress),
                     json_out)
        return
    if plan_file is None:
        raise UsageError("name the PLAN file to apply (or --resume RUN_ID)")
    done = api.apply(plan_file, store=store, only=only, batch_size=batch_size, max_changes=max_changes, out=out,
                     in_place=in_place, dry_run=dry_run, confirm=confirm, progress=ui.progress)
    if isinstance(done, api.NothingToDo):
        print_nothing(done)
        return
    print_report(done, json_out)
