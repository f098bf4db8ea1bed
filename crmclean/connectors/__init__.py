"""Open a connector from what the user typed: a file path or ``salesforce:Object`` / ``hubspot:object``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crmclean.connectors.base import (
    Connector,
    FieldInfo,
    FieldUpdate,
    MergeRequest,
    Record,
    WriteOutcome,
    values_hash,
)
from crmclean.errors import UsageError

__all__ = [
    "Connector",
    "ConnectorOptions",
    "FieldInfo",
    "FieldUpdate",
    "MergeRequest",
    "Record",
    "WriteOutcome",
    "open_connector",
    "values_hash",
]

CRM_PREFIXES = ("salesforce", "hubspot")


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
    extra: dict[str, str] = field(default_factory=dict)


def is_crm_spec(spec: str) -> bool:
    prefix, sep, _ = spec.partition(":")
    return bool(sep) and prefix.lower() in CRM_PREFIXES


def open_connector(spec: str, options: ConnectorOptions | None = None) -> Connector:
    """Return the connector for ``spec`` (a path, or ``salesforce:Contact``, ``hubspot:contacts``)."""
    options = options or ConnectorOptions()
    if is_crm_spec(spec):
        prefix, _, obj = spec.partition(":")
        if not obj:
            raise UsageError(f"{spec}: name the CRM object, e.g. {prefix}:Contact")
        if prefix.lower() == "salesforce":
            from crmclean.connectors.salesforce import SalesforceConnector

            return SalesforceConnector(obj, options)
        from crmclean.connectors.hubspot import HubSpotConnector

        return HubSpotConnector(obj, options)
    from crmclean.connectors.files import open_file_connector

    return open_file_connector(Path(spec), options)
