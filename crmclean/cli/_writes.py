"""What the writing verbs (`apply`, `rollback`) share on the terminal: the confirmation and the run report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from crmclean import ui
from crmclean.errors import UsageError

if TYPE_CHECKING:
    from crmclean.api import NothingToDo, RunReport


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, writing needs --yes (cron must say so explicitly)."""
    if yes:
        return
    if not ui.is_tty():
        raise UsageError("refusing to write without --yes: there is no terminal to confirm on")
    if not typer.confirm(question, default=False):
        ui.info("cancelled; nothing written")
        raise typer.Exit(1)


def print_nothing(nothing: NothingToDo) -> None:
    ui.info(nothing.message)
    for line in nothing.cannot_restore:
        ui.warn(f"cannot restore: {line}")


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
