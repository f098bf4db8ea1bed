"""`crmclean plan`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("plan", help="Not built yet: this verb exits 2.")
def plan_command() -> None:
    raise NotBuiltError("`crmclean plan` is not built yet")
