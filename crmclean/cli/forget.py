"""`crmclean forget`: erase one person's data from the run store (152-FZ / GDPR erasure requests)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import DryRun, Json, Store, Yes


@app.command("forget")
def forget_command(
    email: Annotated[list[str] | None, typer.Option("--email", help="The person's e-mail (repeatable).")] = None,
    phone: Annotated[list[str] | None, typer.Option("--phone", help="The person's phone, any format "
                                                    "(repeatable; matched on its last 10 digits).")] = None,
    store: Store = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    json_out: Json = False,
) -> None:
    """Erase a person from the run store: every journal row (before/after values, merge snapshots) of every
    record that held the e-mail or phone, and those values in saved plans. The runs stay listed; the erased
    records can no longer be rolled back or resumed. Source files and CRMs are not touched.

    Example: crmclean forget --email ivan.petrov@mail.ru --phone "+7 916 123-45-67" --yes
    """
    from crmclean.cli._writes import confirm_or_refuse
    from crmclean.privacy import forget_person
    from crmclean.store import RunStore, default_store_path

    emails, phones = list(email or []), list(phone or [])
    with RunStore(store or default_store_path()) as st:
        found = forget_person(st.con, emails=emails, phones=phones, dry_run=True)
        if found.records and not dry_run:
            confirm_or_refuse(f"erase {found.records} record(s) in {len(found.runs)} run(s) from the run store?",
                              yes)
            found = forget_person(st.con, emails=emails, phones=phones)
    if json_out:
        ui.print_json({"runs": sorted(found.runs), "records": found.records, "journal_rows": found.rows,
                       "plans": found.plans, "dry_run": dry_run})
        return
    if not found.records:
        ui.info("nothing to erase: no run recorded this person")
        return
    verb = "would erase" if dry_run else "erased"
    ui.info(f"{verb} {found.records} record(s) in {len(found.runs)} run(s)"
            + ("" if dry_run else f": {found.rows} journal row(s), values in {found.plans} plan(s)"))
