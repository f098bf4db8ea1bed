"""`crmclean init`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("init", help="Not built yet: this verb exits 2.")
def init_command() -> None:
    raise NotBuiltError("`crmclean init` is not built yet")
