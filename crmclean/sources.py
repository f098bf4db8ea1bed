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
    connector = open_connector(spec, connector_options(rules, opts))
    if progress is not None and hasattr(connector, "progress"):
        connector.progress = progress  # type: ignore[attr-defined]
    table = read_table(
        connector,
        role_overrides=rules.columns,
        object_type=opts.object_type or rules.object,
        id_column=opts.id_column or rules.source.id_column,
        progress=progress,
    )
    check_columns(rules, table.data_columns, roles=table.by_role, object_type=table.object_type)
    return table, rules, connector
