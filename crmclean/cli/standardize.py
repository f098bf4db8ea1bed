"""`crmclean standardize`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("standardize", help="Not built yet: this verb exits 2.")
def standardize_command() -> None:
    raise NotBuiltError("`crmclean standardize` is not built yet")
