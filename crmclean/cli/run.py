"""`crmclean run`: one unattended cleanup job from a job file (for cron)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import DryRun, Json, Store


@app.command("run")
def run_command(
    job_file: Annotated[Path, typer.Argument(help="Job YAML (see docs/jobs.md).", show_default=False)],
    store: Store = None,
    json_out: Json = False,
    dry_run: DryRun = False,
) -> None:
    """Run one unattended job: plan (standardize, dedupe), check safety limits, apply, write the
    before/after CSV and reports, notify. Never prompts; logs to a file; a lock keeps two runs on one
    source from overlapping.

    Exit codes: 0 ok, 1 some records conflicted or failed, 2 job/rules file invalid,
    3 source error, 4 internal error, 5 safety limit exceeded (nothing written), 6 source locked.

    Example (crontab, 03:00 on the first day of each quarter):

      0 3 1 1,4,7,10 *  cd /srv/crm && crmclean run jobs/contacts-quarterly.yaml
    """
    from crmclean.jobs import run_job

    result = run_job(job_file, dry_run=dry_run, store=store)
    if json_out:
        ui.print_json({"exit_code": result.exit_code, "status": result.status, "message": result.message,
                       "run_id": result.run_id, "report_dir": str(result.report_dir) if result.report_dir else None})
    elif result.exit_code:
        ui.err.print(f"crmclean run {job_file}: {result.status}: {result.message}", highlight=False, markup=False)
    else:
        ui.info(f"{job_file}: {result.status}: {result.message}")
    raise typer.Exit(result.exit_code)
