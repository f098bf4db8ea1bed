"""`crmclean validate`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("validate", help="Not built yet: this verb exits 2.")
def validate_command() -> None:
    raise NotBuiltError("`crmclean validate` is not built yet")
