"""`crmclean dedupe`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("dedupe", help="Not built yet: this verb exits 2.")
def dedupe_command() -> None:
    raise NotBuiltError("`crmclean dedupe` is not built yet")
