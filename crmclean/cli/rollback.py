"""`crmclean rollback`: undo a run (itself a new run that can be rolled back)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli._writes import confirm_or_refuse, print_nothing, print_report
from crmclean.cli.options import DryRun, Json, Store, Yes


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
    from crmclean import api

    done = api.rollback(run_id, store=store, batch_size=batch_size, dry_run=dry_run,
                        confirm=lambda question: confirm_or_refuse(question, yes), progress=ui.progress)
    if isinstance(done, api.NothingToDo):
        print_nothing(done)
        return
    print_report(done, json_out)
