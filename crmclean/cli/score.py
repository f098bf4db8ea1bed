"""`crmclean score`: not built yet."""

from __future__ import annotations

from crmclean.cli import app
from crmclean.errors import NotBuiltError


@app.command("score", help="Not built yet: this verb exits 2.")
def score_command() -> None:
    raise NotBuiltError("`crmclean score` is not built yet")
