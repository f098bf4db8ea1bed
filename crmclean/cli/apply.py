"""`crmclean apply`: write a reviewed plan to its source (or resume an interrupted run), journaled and undoable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import DryRun, Json, Store, Yes
from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.errors import UsageError
from crmclean.jobs import source_lock
from crmclean.journal import (
    Journal,
    LimitExceeded,
    RunReport,
    apply_plan,
    count_changes,
    open_target,
    prepare_file_target,
    resume_run,
    units_from_plan,
)
from crmclean.plan import load_plan
from crmclean.store import default_store_path


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, writing needs --yes (cron must say so explicitly)."""
    if yes:
        return
    if not ui.is_tty():
        raise UsageError("refusing to write without --yes: there is no terminal to confirm on")
    if not typer.confirm(question, default=False):
        ui.info("cancelled; nothing written")
        raise typer.Exit(1)


def print_report(report: RunReport, json_out: bool) -> None:
    if json_out:
        ui.print_json(report.to_dict())
    else:
        c = report.counts
        title = f"{report.command} {report.run_id or '(dry run)'} → {report.target}: {report.status}"
        table = Table("ok", "conflict", "failed", "skipped", title=title)
        table.add_row(*(str(c.get(k, 0)) for k in ("ok", "conflict", "failed", "skipped")))
        ui.out.print(table)
        for p in report.problems[:20]:
            ui.out.print(f"  {p['status']:8} {escape(str(p['record_id']))}: {escape(str(p['error']))}", highlight=False)
        if len(report.problems) > 20:
            ui.out.print(f"  … {len(report.problems) - 20} more; see `crmclean runs show {report.run_id}`")
        for line in report.cannot_restore:
            ui.warn(f"cannot restore: {line}")
        if report.run_id and not report.dry_run:
            ui.info(f"details: crmclean runs show {report.run_id}    undo: crmclean rollback {report.run_id}")
    if report.status not in ("ok", "dry-run") or (report.dry_run and report.counts.get("conflict")):
        raise typer.Exit(1)


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
    journal = Journal(store or default_store_path())
    if resume is not None:
        if plan_file is not None:
            raise UsageError("--resume takes the plan from the run store; do not name a plan file")
        with journal.store() as st:
            info = st.get_run(resume)
        if info is None:
            raise UsageError(f"no run {resume!r} in the run store", hint="list runs with `crmclean runs`")
        with source_lock(info.source, journal.path):
            connector = open_target(info.details or {}, resume=True)
            confirm_or_refuse(f"Resume run {info.run_id} ({info.command}) on {info.source}?", yes)
            with ui.progress("Resuming") as task:
                report = resume_run(info.run_id, journal, connector=connector, batch_size=batch_size,
                                    progress=task.advance)
        print_report(report, json_out)
        return
    if plan_file is None:
        raise UsageError("name the PLAN file to apply (or --resume RUN_ID)")
    plan = load_plan(plan_file)
    units = units_from_plan(plan, only)
    changes = count_changes(units)
    if max_changes is not None and changes > max_changes:
        raise LimitExceeded(f"the plan has {changes} changes, more than --max-changes {max_changes}; nothing written",
                            hint=f"review it with `crmclean plan --show {plan_file}`")
    opts = plan.source.options
    connector = open_connector(plan.source.spec, ConnectorOptions(
        format=opts.get("format"), sheet=opts.get("sheet"),
        id_column=opts.get("id_column") or (None if plan.source.id_column.startswith("__") else plan.source.id_column),
        encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), where=opts.get("where")))
    connector.describe()
    prepare_file_target(connector, out, in_place)
    target = str(getattr(connector, "output", None) or plan.source.spec)
    if not units:
        ui.info("the plan has nothing to apply")
        return
    with source_lock(plan.source.spec, journal.path):
        if not dry_run:
            s = plan.summary()
            parts = []
            if only != "merges":
                parts.append(f"{s['updates']} field update(s) in {s['records_updated']} record(s)")
            if only != "updates":
                parts.append(f"{s['merges']} merge(s) removing {s['records_merged_away']} record(s)")
            confirm_or_refuse(f"Apply {' and '.join(parts)} to {target}?", yes)
        with ui.progress("Applying", total=len(units)) as task:
            report = apply_plan(plan, connector, journal, only=only, batch_size=batch_size, max_changes=max_changes,
                                dry_run=dry_run, plan_path=str(plan_file), progress=task.advance)
    print_report(report, json_out)
