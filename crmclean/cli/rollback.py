"""`crmclean rollback`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("rollback", help="Not built yet: this verb exits 2.")
def rollback_command() -> None:
    raise NotBuiltError("`crmclean rollback` is not built yet")
