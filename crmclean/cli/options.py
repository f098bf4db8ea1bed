"""Option spellings shared by every command (one spelling per concept across the CLI).

The options that say how to open a source are declared once, in :data:`SOURCE_OPTIONS`, and added to a
command by :func:`source_options` (the model is sqlite-utils' ``import_options``). Nothing here imports the
engines: `crmclean --help` stays fast.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    pass

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
HeaderRow = Annotated[int | None, typer.Option("--header-row", help="Row number of the header (default: found below title rows).")]
SkipFooter = Annotated[int | None, typer.Option("--skip-footer", help="Footer lines to drop at the end (default: a report footer is detected).")]
Map = Annotated[list[str] | None, typer.Option("--map", help='Column role, repeatable: --map "Частный e-mail=email" (role "ignore" drops a column).')]
OutputEncoding = Annotated[str | None, typer.Option("--output-encoding", help="Encoding of the CSVs written (default: the input's for a cp1251 spreadsheet export, else utf-8-sig so Excel shows Cyrillic).")]
Object = Annotated[str | None, typer.Option("--object", help="Object type: contacts, leads, companies, deals, activities (default: from columns and names).")]
Store = Annotated[Path | None, typer.Option("--store", help="Run store DuckDB file (default: $CRMCLEAN_STORE or ~/.local/share/crmclean/runs.duckdb).", envvar="CRMCLEAN_STORE")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required when there is no terminal).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")]
FailOn = Annotated[str, typer.Option("--fail-on", help="Exit 1 when findings reach this severity: error, warning, never.")]


# parameter name -> its option, in the order they appear in every command's --help
SOURCE_OPTIONS: dict[str, Any] = {
    "format": Format,
    "sheet": Sheet,
    "id_column": IdColumn,
    "encoding": Encoding,
    "delimiter": Delimiter,
    "where": Where,
    "object_type": Object,
    "header_row": HeaderRow,
    "skip_footer": SkipFooter,
    "column_map": Map,
    "output_encoding": OutputEncoding,
}
FILE_OPTIONS = ("format", "sheet", "id_column", "encoding", "delimiter", "header_row", "skip_footer", "column_map")  # how to read a file, nothing CRM-specific

F = TypeVar("F", bound=Callable[..., Any])


def source_options(*names: str) -> Callable[[F], F]:
    """Add the source options to a command, in place of its ``SourceOptions`` parameter.

    The command declares one parameter annotated ``SourceOptions`` (placed where the options should
    appear in --help) and receives it filled in; ``names`` picks a subset (default: all of
    :data:`SOURCE_OPTIONS`)::

        @app.command("score")
        @source_options()
        def score_command(source: Source, out: Out = None, options: SourceOptions | None = None) -> None: ...
    """
    chosen = names or tuple(SOURCE_OPTIONS)
    unknown = [n for n in chosen if n not in SOURCE_OPTIONS]
    if unknown:
        raise ValueError(f"not source options: {unknown}")

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        hints = _hints(fn)
        params: list[inspect.Parameter] = []
        target = None
        for param in signature.parameters.values():
            if param.annotation in ("SourceOptions", "SourceOptions | None"):
                target = param.name
                params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                             annotation=SOURCE_OPTIONS[name]) for name in chosen]
            else:
                params.append(param.replace(annotation=hints.get(param.name, param.annotation),
                                            kind=inspect.Parameter.KEYWORD_ONLY))
        if target is None:
            raise TypeError(f"{fn.__name__} has no SourceOptions parameter for @source_options")

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            from crmclean.sources import SourceOptions

            values = {name: kwargs.pop(name, None) for name in chosen}
            kwargs[target] = SourceOptions(**values)
            return fn(*args, **kwargs)

        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
        del command.__wrapped__  # typer must read the new signature, not the function's own
        return command  # type: ignore[return-value]

    return decorate


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The function's annotations as objects, except the SourceOptions one (not importable here, on purpose)."""
    resolved: dict[str, Any] = {}
    namespace = {**fn.__globals__}
    for name, annotation in fn.__annotations__.items():
        if isinstance(annotation, str) and "SourceOptions" not in annotation:
            annotation = eval(annotation, namespace)
        resolved[name] = annotation
    return resolved
