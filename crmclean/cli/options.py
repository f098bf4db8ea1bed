"""Option spellings shared by every command (one spelling per concept across the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmclean.sources import SourceOptions

Source = Annotated[
    str,
    typer.Argument(
        help="A file (.csv .xlsx .parquet .jsonl) or a CRM object: salesforce:Contact, hubspot:contacts.",
        show_default=False,
    ),
]
Rules = Annotated[
    Path | None,
    typer.Option("--rules", "-r", help="Rules YAML (default: built-in rule pack, columns recognized by header)."),
]
Out = Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the result.")]
Format = Annotated[str | None, typer.Option("--format", help="Source format, overriding the extension: csv, xlsx, parquet, jsonl.")]
Sheet = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name or number (default: first non-empty).")]
IdColumn = Annotated[str | None, typer.Option("--id-column", help="Record id column (default: detected; row numbers if none).")]
Encoding = Annotated[str | None, typer.Option("--encoding", help="CSV encoding (default: detected: utf-8, utf-8-sig, cp1251, latin-1).")]
Delimiter = Annotated[str | None, typer.Option("--delimiter", help="CSV delimiter (default: detected among , ; tab |).")]
Where = Annotated[str | None, typer.Option("--where", help="CRM sources: SOQL WHERE clause or HubSpot filter.")]
Object = Annotated[str | None, typer.Option("--object", help="Object type: contacts, leads, companies, deals (default: from columns).")]
Store = Annotated[Path | None, typer.Option("--store", help="Run store DuckDB file (default: $CRMCLEAN_STORE or ~/.local/share/crmclean/runs.duckdb).", envvar="CRMCLEAN_STORE")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required when there is no terminal).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")]
FailOn = Annotated[str, typer.Option("--fail-on", help="Exit 1 when findings reach this severity: error, warning, never.")]


def source_options(
    format: str | None = None,
    sheet: str | None = None,
    id_column: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    where: str | None = None,
    object_type: str | None = None,
) -> SourceOptions:
    return SourceOptions(format=format, sheet=sheet, id_column=id_column, encoding=encoding,
                         delimiter=delimiter, where=where, object_type=object_type)
