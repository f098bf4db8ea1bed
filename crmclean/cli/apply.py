"""`crmclean apply`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("apply", help="Not built yet: this verb exits 2.")
def apply_command() -> None:
    raise NotBuiltError("`crmclean apply` is not built yet")
