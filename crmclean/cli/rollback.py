"""`crmclean rollback`: undo a run (itself a new run that can be rolled back)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.apply import confirm_or_refuse, print_report
from crmclean.cli.options import DryRun, Json, Store, Yes
from crmclean.errors import UsageError
from crmclean.jobs import source_lock
from crmclean.journal import Journal, rollback_run, rollback_units, run_target_connector
from crmclean.store import default_store_path


@app.command("rollback")
def rollback_command(
    run_id: Annotated[str, typer.Argument(help="The run to undo (see `crmclean runs`); a unique prefix will do.",
                                          show_default=False)],
    yes: Yes = False,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Records per write batch.")] = None,
    store: Store = None,
    json_out: Json = False,
    dry_run: DryRun = False,
) -> None:
    """Undo a run: restore the before-values of every field it wrote and re-create records its merges
    removed (where the target allows), skipping and reporting any record changed since. States what
    cannot be restored (e.g. activity history a CRM moved to the master). Exit 1 on any conflict.

    Examples:

      crmclean rollback 20261123-024500-a1b2

      crmclean rollback 20261123-0245 --yes --json
    """
    journal = Journal(store or default_store_path())
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store", hint="list runs with `crmclean runs`")
    with source_lock(info.source, journal.path):
        connector = run_target_connector(info.run_id, journal)
        units, cannot = rollback_units(journal, info.run_id, connector)
        if not units:
            ui.info(f"run {info.run_id} wrote nothing that can be undone")
            for line in cannot:
                ui.warn(f"cannot restore: {line}")
            return
        if not dry_run:
            confirm_or_refuse(f"Undo {len(units)} write(s) of run {info.run_id} on "
                              f"{(info.details or {}).get('target', info.source)}?", yes)
        with ui.progress("Rolling back", total=len(units)) as task:
            report = rollback_run(info.run_id, journal, connector=connector, batch_size=batch_size,
                                  dry_run=dry_run, progress=task.advance)
    print_report(report, json_out)
