"""`crmclean audit`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("audit", help="Not built yet: this verb exits 2.")
def audit_command() -> None:
    raise NotBuiltError("`crmclean audit` is not built yet")
