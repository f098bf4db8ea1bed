"""`crmclean runs`: list runs, show one, export its before/after CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import DryRun, Json, Store, Yes
from crmclean.errors import UsageError

if TYPE_CHECKING:
    from crmclean.store import RunInfo

runs_app = typer.Typer(
    help="Runs recorded in the run store (Insycle-style activity tracker).\n\n"
    "Examples:\n\n"
    "  crmclean runs                                  # latest runs: id, when, source, mode, counts, status\n\n"
    "  crmclean runs show 20261123-024500-a1b2        # one run: counts, conflicts, what rollback cannot restore\n\n"
    "  crmclean runs show 20261123-0245 --csv changes.csv   # before/after CSV of every field written",
    invoke_without_command=True,
)
app.add_typer(runs_app, name="runs")


def _counts(counts: dict[str, Any]) -> str:
    if "ok" in counts:  # write runs: outcomes, zeros left out
        return " ".join(f"{counts[k]} {k}" for k in ("ok", "conflict", "failed", "skipped") if counts.get(k)) or "-"
    return ", ".join(f"{k} {v}" for k, v in list(counts.items())[:4] if not isinstance(v, (dict, list)))


def _row(r: RunInfo) -> dict[str, Any]:
    return {"run_id": r.run_id, "started_at": r.started_at, "finished_at": r.finished_at, "command": r.command,
            "source": r.source, "mode": r.mode, "status": r.state, "counts": r.counts, "kpis": r.kpis,
            "parent_run": r.parent_run, "details": r.details}


@runs_app.callback()
def runs_command(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", help="Only runs on this source.")] = None,
    command: Annotated[str | None, typer.Option("--command", help="Only runs of this command (apply, rollback, ...)")]
        = None,
    limit: Annotated[int, typer.Option("--limit", help="Most runs to list.")] = 20,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """List runs, newest first: id, when, source, command and mode, counts, status.

    Example: crmclean runs --source contacts.csv --command apply
    """
    if ctx.invoked_subcommand is not None:
        return
    from crmclean.store import default_store_path
    from crmclean.writeback.store import Journal

    journal = Journal(store or default_store_path())
    with journal.store() as st:
        runs = st.list_runs(source=source, command=command, limit=limit)
    if json_out:
        ui.print_json([_row(r) for r in runs])
        return
    table = Table(title="runs")
    for name in ("run id", "started (UTC)", "source", "command", "mode", "counts", "status"):
        table.add_column(name, no_wrap=name in ("run id", "started (UTC)", "command"))
    for r in runs:
        source = r.source if ":" in r.source and not r.source.startswith("/") else Path(r.source).name
        table.add_row(r.run_id, r.started_at.strftime("%Y-%m-%d %H:%M"), escape(source), r.command, r.mode,
                      _counts(r.counts), r.state)
    ui.out.print(table)
    for r in runs:  # a killed run stays recorded as running: say it was interrupted and how to go on
        hint = r.how_to_finish()
        if hint and r.state == "interrupted":
            ui.warn(f"run {r.run_id} ({r.command}) was interrupted: {hint}")


@runs_app.command("show")
def show_command(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix will do).", show_default=False)],
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write the run's before/after CSV here.")] = None,
    store: Store = None,
    json_out: Json = False,
    mask_pii: Annotated[bool, typer.Option("--mask-pii", help="Mask e-mails, phones and other values in the "
                                           "before/after shown and exported (i***@mail.ru, +* *** ***-45-67).")]
        = False,
    output_encoding: Annotated[str | None, typer.Option(
        "--output-encoding", help="Encoding of the --csv file: utf-8-sig (default, Excel shows Cyrillic) or cp1251 "
        "(written with ';' like a Russian Excel export; a value cp1251 cannot hold keeps the file UTF-8 with BOM).")]
        = None,
) -> None:
    """Show one run: what it did record by record (conflicts and failures with why), what a rollback
    cannot restore, and the runs that undid it; --csv exports every field's before/after.

    Example: crmclean runs show 20261123-024500-a1b2 --csv changes.csv
    """
    from crmclean.jobs import export_changes
    from crmclean.store import default_store_path
    from crmclean.writeback.store import Journal

    journal = Journal(store or default_store_path())
    with journal.store() as st:
        info = st.get_run(run_id)
        if info is None:
            raise UsageError(f"no run {run_id!r} in the run store", hint="list runs with `crmclean runs`")
        undone_by = [r[0] for r in st.con.execute(
            "SELECT run_id FROM runs WHERE parent_run = ? ORDER BY started_at", [info.run_id]).fetchall()]
    changes = journal.changes(info.run_id) if info.command in ("apply", "rollback") else None
    if changes is not None and mask_pii:
        from crmclean.privacy import mask_changes

        changes = mask_changes(changes)
    written = None
    if csv_path is not None and changes is not None:
        encoding = output_encoding or "utf-8-sig"
        written = export_changes(journal, info.run_id, csv_path, encoding=encoding,
                                 delimiter=";" if encoding.lower().replace("-", "") in ("cp1251", "windows1251") else ",",
                                 mask_pii=mask_pii)
    problems = []
    if changes is not None:
        problems = [r for r in changes.filter(changes.get_column("status").is_in(["conflict", "failed", "in doubt"]))
                    .select("record_id", "status", "error").unique(maintain_order=True).iter_rows(named=True)]
    if json_out:
        payload = _row(info) | {"undone_by": undone_by, "problems": problems}
        if csv_path is not None:
            payload["csv"] = str(csv_path)
        ui.print_json(payload)
        return
    d = info.details or {}
    lines = [
        f"run       {info.run_id}",
        f"command   {info.command} ({info.mode})" + (f", undoes {info.parent_run}" if info.parent_run else ""),
        f"source    {info.source}",
        f"target    {d.get('target', info.source)}",
        f"started   {info.started_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", finished {info.finished_at:%H:%M:%S}" if info.finished_at else ""),
        f"status    {info.state}",
        f"counts    {_counts(info.counts) or '-'}",
    ]
    if d.get("plan_path"):
        lines.append(f"plan      {d['plan_path']}")
    if info.how_to_finish():  # on stdout too: a cron log or a pipe keeps how to go on with the status
        lines.append(f"next      {info.how_to_finish()}")
    if undone_by:
        lines.append(f"undone by {', '.join(undone_by)}")
    ui.out.print("\n".join(lines), highlight=False, markup=False)
    if changes is not None and changes.height:
        table = Table("record", "field", "before", "after", "status", title=f"{changes.height} change row(s)")
        for r in changes.head(30).iter_rows(named=True):
            table.add_row(escape(str(r["record_id"])), escape(str(r["field"] or r["operation"] or "")),
                          escape(str(r["before"] if r["before"] is not None else "")),
                          escape(str(r["after"] if r["after"] is not None else "")), r["status"])
        ui.out.print(table)
        if changes.height > 30:
            ui.info(f"… {changes.height - 30} more; export all with --csv FILE")
    for p in problems[:50]:
        ui.out.print(f"  {p['status']:8} {escape(str(p['record_id']))}: {escape(str(p['error']))}", highlight=False)
    for line in d.get("cannot_restore") or []:
        ui.warn(f"cannot restore: {line}")
    if written is not None:
        ui.info(f"wrote {csv_path} ({written} row(s))")
    hint = info.how_to_finish()
    if info.state == "running":
        ui.info(f"still running (or killed on another machine)? if it was interrupted, finish it with: "
                f"crmclean apply --resume {info.run_id}")
    elif hint:
        ui.info(f"{info.state}: {hint}")


@runs_app.command("prune")
def prune_command(
    older_than: Annotated[str, typer.Option("--older-than", help="Delete runs started longer ago than this "
                                            "(90d, 12w, 6m, 1y), with their journal and saved plan.",
                                            show_default=False)],
    store: Store = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    json_out: Json = False,
) -> None:
    """Delete old runs from the run store with everything they recorded (before-values, snapshots, plans):
    keep personal data no longer than needed. A pruned run can no longer be resumed or rolled back.

    Example: crmclean runs prune --older-than 90d --yes
    """
    from crmclean.cli._writes import confirm_or_refuse
    from crmclean.privacy import parse_age, prune_runs
    from crmclean.store import RunStore, default_store_path

    age = parse_age(older_than)
    with RunStore(store or default_store_path()) as st:
        ids = prune_runs(st.con, age, dry_run=True)
        if ids and not dry_run:
            confirm_or_refuse(f"delete {len(ids)} run(s) older than {older_than} from the run store?", yes)
            ids = prune_runs(st.con, age)
    if json_out:
        ui.print_json({"pruned": ids, "dry_run": dry_run})
        return
    verb = "would delete" if dry_run else "deleted"
    ui.info(f"{verb} {len(ids)} run(s) older than {older_than}" + (f": {', '.join(ids[:10])}" if ids else "")
            + (" …" if len(ids) > 10 else ""))
