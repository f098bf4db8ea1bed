"""`crmclean run`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("run", help="Not built yet: this verb exits 2.")
def run_command() -> None:
    raise NotBuiltError("`crmclean run` is not built yet")
