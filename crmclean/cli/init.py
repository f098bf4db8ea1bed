"""`crmclean init`: write a starter rules file (from a source's headers when given)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import FILE_OPTIONS, source_options
from crmclean.errors import UsageError

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions


@app.command("init")
@source_options(*FILE_OPTIONS)
def init_command(
    source: Annotated[str | None, typer.Argument(help="Optional source whose headers seed the column roles.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Rules file to write.")] = Path("rules.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing rules file.")] = False,
    options: SourceOptions | None = None,
) -> None:
    """Write a starter rules.yaml to edit; with SOURCE, columns are mapped to roles from its headers.

    Examples:

      crmclean init                          # generic starter file

      crmclean init export.csv -o rules.yaml # roles detected from export.csv
    """
    from crmclean.rulebook import infer_rules_yaml, starter_rules_yaml

    if out.exists() and not force:
        raise UsageError(f"{out} exists; pass --force to overwrite")
    text = infer_rules_yaml(source, options) if source else starter_rules_yaml()
    out.write_text(text, encoding="utf-8")
    ui.info(f"wrote {out}; check it with `crmclean rules check {out}`")
