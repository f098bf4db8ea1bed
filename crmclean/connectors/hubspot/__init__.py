"""HubSpot: the connector (``connector``) and an in-memory portal to test it against (``emulator``)."""

from crmclean.connectors.http import RequestBudget
from crmclean.connectors.hubspot.connector import (
    HubSpotConnector,
    HubSpotHTTPError,
    load_credentials,
    normalize_object_type,
    parse_where,
)

__all__ = [
    "HubSpotConnector",
    "HubSpotHTTPError",
    "RequestBudget",
    "load_credentials",
    "normalize_object_type",
    "parse_where",
]
