"""Open a source as a record table together with its rules: the first step of every command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crmclean.config import RulesFile, check_columns, load_rules
from crmclean.connectors import Connector, ConnectorOptions, open_connector
from crmclean.table import RecordTable, read_table


@dataclass
class SourceOptions:
    """How to open a source (CLI options win over the rules file's ``source:`` section)."""

    format: str | None = None
    sheet: str | None = None
    id_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    where: str | None = None
    object_type: str | None = None
    header_row: int | None = None  # files: 1-based header row (default: found below title rows)
    skip_footer: int | None = None  # files: footer lines to drop (default: a report footer is detected)
    column_map: list[str] | None = None  # "Header=role" pairs (--map), over the rules file's columns:
    output_encoding: str | None = None  # CSVs written from this source (default: the input's for a spreadsheet export)


def parse_column_map(pairs: list[str] | None) -> dict[str, str]:
    """``["Частный e-mail=email"]`` -> ``{"Частный e-mail": "email"}``; a bad pair or role is a UsageError."""
    from crmclean.errors import UsageError
    from crmclean.roles import ROLES

    out: dict[str, str] = {}
    for pair in pairs or []:
        header, sep, role = pair.rpartition("=")
        header, role = header.strip(), role.strip()
        if not sep or not header or not role:
            raise UsageError(f'--map {pair!r}: expected "Header=role"')
        if role != "ignore" and role not in ROLES:
            raise UsageError(f"--map {pair!r}: unknown role {role!r}", hint=f"roles: {', '.join(ROLES)}, ignore")
        out[header] = role
    return out


def connector_options(rules: RulesFile, opts: SourceOptions | None = None) -> ConnectorOptions:
    opts = opts or SourceOptions()
    src = rules.source
    return ConnectorOptions(
        format=opts.format or src.format,
        sheet=opts.sheet or src.sheet,
        id_column=opts.id_column or src.id_column,
        encoding=opts.encoding or src.encoding,
        delimiter=opts.delimiter or src.delimiter,
        where=opts.where or src.where,
        credentials_file=src.credentials_file,
        bulk=src.bulk,
        api_share=src.api_share,
        concurrency=src.concurrency,
        duplicate_rule_allow_save=src.duplicate_rule_allow_save,
        extra={k: str(v) for k, v in (("header_row", opts.header_row), ("skip_footer", opts.skip_footer))
               if v is not None},
    )


def open_source(
    spec: str,
    rules: RulesFile | str | None = None,
    opts: SourceOptions | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[RecordTable, RulesFile, Connector]:
    """Read ``spec`` into a RecordTable, with roles from headers overridden by the rules file."""
    if not isinstance(rules, RulesFile):
        rules = load_rules(rules)
    opts = opts or SourceOptions()
    _check_object_type(opts.object_type)
    connector = open_connector(spec, connector_options(rules, opts))
    if progress is not None and hasattr(connector, "progress"):
        connector.progress = progress  # type: ignore[attr-defined]
    table = read_table(
        connector,
        role_overrides={**(rules.columns or {}), **parse_column_map(opts.column_map)},
        object_type=opts.object_type or rules.object,
        id_column=opts.id_column or rules.source.id_column,
        progress=progress,
    )
    if opts.output_encoding:
        table.output_encoding = check_output_encoding(opts.output_encoding)
    check_columns(rules, table.data_columns, roles=table.by_role, object_type=table.object_type)
    _check_mapped_columns(parse_column_map(opts.column_map), table.data_columns)
    return table, rules, connector


def _check_object_type(object_type: str | None) -> None:
    """--object names one of the object types, before the source is read (a slip surfaced late, from dedupe)."""
    from crmclean.config.positions import suggest
    from crmclean.errors import UsageError
    from crmclean.roles import OBJECT_TYPES

    if object_type is not None and object_type not in OBJECT_TYPES:
        guess = suggest(object_type, list(OBJECT_TYPES))
        raise UsageError(f"--object {object_type}: not an object type ({', '.join(OBJECT_TYPES)})",
                         hint=f"did you mean `{guess}`?" if guess else None)


def _check_mapped_columns(mapped: dict[str, str], headers: list[str]) -> None:
    """A --map header the source lacks is a usage error: the mapping would silently do nothing."""
    from crmclean.config.positions import suggest
    from crmclean.errors import UsageError

    for header, role in mapped.items():
        if header not in headers:
            guess = suggest(header, headers)
            raise UsageError(f"--map {header}={role}: no column {header!r} in the source",
                             hint=f"did you mean `{guess}`?" if guess else f"columns: {', '.join(headers)[:200]}")


def check_output_encoding(name: str) -> str:
    """``--output-encoding`` value as a codec name Python knows (``utf-8-sig``, ``cp1251``); else a UsageError."""
    import codecs

    from crmclean.errors import UsageError

    try:
        codecs.lookup(name)
    except LookupError:
        raise UsageError(f"--output-encoding {name!r}: unknown encoding",
                         hint="e.g. utf-8-sig (Excel, default), cp1251 (Russian Excel), utf-8") from None
    return name
