"""Open a connector from what the user typed: a file path or ``<prefix>:Object`` (``salesforce:Contact``).

Connectors are found through the ``crmclean.connectors`` entry-point group: the entry-point name is the
prefix, its object a class called as ``Cls(object_name, options)``. The entry named ``file`` opens paths
(``factory(path, options)``). Built-ins (salesforce, hubspot, file) register the same way a plugin does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crmclean.connectors.base import (
    Connector,
    FieldInfo,
    FieldUpdate,
    MergeRequest,
    Record,
    WriteOutcome,
    values_hash,
)
from crmclean.errors import ConnectorError, UsageError

__all__ = [
    "Connector",
    "ConnectorOptions",
    "FieldInfo",
    "FieldUpdate",
    "MergeRequest",
    "Record",
    "WriteOutcome",
    "connector_prefixes",
    "is_crm_spec",
    "open_connector",
    "values_hash",
]

FILE_CONNECTOR = "file"  # the entry point that opens paths


@dataclass
class ConnectorOptions:
    """Options common to all connectors; each connector reads the ones it understands."""

    format: str | None = None  # csv|xlsx|parquet|jsonl, overrides the extension
    sheet: str | None = None  # XLSX sheet name or 1-based index
    id_column: str | None = None
    encoding: str | None = None  # CSV: override detection
    delimiter: str | None = None  # CSV: override detection
    where: str | None = None  # CRM: SOQL WHERE clause / HubSpot search filter
    fields: list[str] | None = None  # CRM: fields to pull (default: all readable)
    bulk: str = "auto"  # CRM: auto|always|never (Salesforce Bulk API 2.0)
    credentials_file: str | None = None  # CRM: file with credentials (never the rules file)
    api_share: float = 0.5  # CRM: most share of the daily API limit a run may use
    concurrency: int = 1  # CRM: parallel write requests (HubSpot)
    duplicate_rule_allow_save: bool = False  # Salesforce: save records its duplicate rules alert on
    extra: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _registry() -> dict[str, Any]:
    from crmclean.plugins import CONNECTORS_GROUP, plugin_entry_points

    return {name.lower(): entry for name, entry in plugin_entry_points(CONNECTORS_GROUP).items()}


def connector_prefixes() -> list[str]:
    """The prefixes users may type before ``:`` (one per installed CRM connector)."""
    return sorted(name for name in _registry() if name != FILE_CONNECTOR)


def is_crm_spec(spec: str) -> bool:
    prefix, sep, _ = spec.partition(":")
    return bool(sep) and prefix.lower() in connector_prefixes()


def load_connector_factory(name: str) -> Any:
    """The class (or factory) registered as connector ``name``; a plugin that fails to load is one ConnectorError line."""
    from crmclean.plugins import PluginLoadError, load_entry_point

    entry = _registry().get(name.lower())
    if entry is None:
        raise UsageError(f"no connector named {name!r}; installed: {', '.join(connector_prefixes())}")
    try:
        return load_entry_point(entry)
    except PluginLoadError as exc:
        raise ConnectorError(str(exc)) from None


def open_connector(spec: str, options: ConnectorOptions | None = None) -> Connector:
    """Return the connector for ``spec`` (a path, or ``salesforce:Contact``, ``hubspot:contacts``)."""
    options = options or ConnectorOptions()
    if is_crm_spec(spec):
        prefix, _, obj = spec.partition(":")
        if not obj:
            raise UsageError(f"{spec}: name the CRM object, e.g. {prefix}:Contact")
        connector: Connector = load_connector_factory(prefix)(obj, options)
        return connector
    opened: Connector = load_connector_factory(FILE_CONNECTOR)(Path(spec), options)
    return opened
