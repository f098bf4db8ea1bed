"""`crmclean runs`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("runs", help="Not built yet: this verb exits 2.")
def runs_command() -> None:
    raise NotBuiltError("`crmclean runs` is not built yet")
