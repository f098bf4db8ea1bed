"""`crmclean rules list|explain|check|infer`: the rule catalogue and rules-file tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crmclean import ui
from crmclean.cli import app
from crmclean.cli.options import FILE_OPTIONS, Json, Source, source_options

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions

# the catalogue and the checker load the rule modules (and polars): imported by the commands that use them

rules_app = typer.Typer(
    help="The rule catalogue and rules files.\n\n"
    "  crmclean rules list                      # every rule: code, name, fixes or flags\n\n"
    "  crmclean rules explain PHONE001          # what it does, examples, YAML keys\n\n"
    "  crmclean rules check rules.yaml          # validate a rules file (exit 2 on mistakes)\n\n"
    "  crmclean rules infer contacts.csv > rules.yaml   # a starter rules file for a source\n\n"
    "  crmclean rules example                   # every option, documented",
    no_args_is_help=True,
)
app.add_typer(rules_app, name="rules")


@rules_app.command("list")
def list_command(
    kind: Annotated[str | None, typer.Option("--kind", help="Only standardize or validate rules.")] = None,
    json_out: Json = False,
) -> None:
    """List every rule once with its code, dotted name, kind, whether it fixes or only flags, and retired codes.

    Example: crmclean rules list --kind standardize
    """
    from crmclean.rulebook import rule_catalogue

    rows = [r for r in rule_catalogue() if kind is None or r["kind"] == kind]
    if json_out:
        ui.print_json(rows)
        return
    table = Table("code", "name", "kind", "fixes", "summary", "retired codes", title=f"{len(rows)} rules")
    for r in rows:
        does = "fix+flag" if r["fixes"] and r["flags"] else "fix" if r["fixes"] else "flag"
        table.add_row(r["code"], r["name"], r["kind"], does, r["summary"],
                      ", ".join(a for a in r["aliases"] if "." not in a))
    ui.out.print(table)


@rules_app.command("explain")
def explain_command(
    code: Annotated[str, typer.Argument(help="Rule code or dotted name, e.g. PHONE001 or phone.e164.")],
    json_out: Json = False,
) -> None:
    """Explain one rule: what it does, why, bad → good examples, and the YAML keys it reads.

    Example: crmclean rules explain PHONE001
    """
    from crmclean.rulebook import explain_rule

    doc = explain_rule(code)
    if json_out:
        ui.print_json(doc)
        return
    ui.out.print(doc["text"], highlight=False, markup=False)


@rules_app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="Rules YAML to validate.")],
    source: Annotated[str | None, typer.Option("--source", help="Also check that named columns exist in this source.")] = None,
    json_out: Json = False,
) -> None:
    """Validate a rules file: unknown keys, wrong types, unknown rules or columns are reported with
    file:line:column and a suggestion; exit code 2 on any mistake.

    Example: crmclean rules check rules.yaml --source contacts.csv
    """
    from crmclean.config.check import check_rules_file

    summary = check_rules_file(file, source)
    if json_out:
        ui.print_json(summary)
    else:
        ui.info(f"[green]ok[/] {file}: {summary['rules']} rule option block(s), {summary['columns']} column role(s)")


@rules_app.command("infer")
@source_options(*FILE_OPTIONS)
def infer_command(
    source: Source,
    options: SourceOptions | None = None,
) -> None:
    """Print a starter rules YAML for a source: detected id column, column roles and useful defaults.

    Example: crmclean rules infer contacts.csv > rules.yaml
    """
    from crmclean.rulebook import infer_rules_yaml

    typer.echo(infer_rules_yaml(source, options), nl=False)


@rules_app.command("example")
def example_command() -> None:
    """Print a rules file documenting every option with its default (this is rules.example.yaml).

    Example: crmclean rules example > rules.example.yaml
    """
    from crmclean.config.example import render_example

    typer.echo(render_example(), nl=False)
