"""Salesforce: the connector (``connector``) and an in-memory org to test it against (``emulator``)."""

from crmclean.connectors.salesforce.connector import (
    BULK_READ_THRESHOLD,
    BULK_WRITE_THRESHOLD,
    BudgetExhausted,
    SalesforceConnector,
    SalesforceCredentials,
    load_credentials,
)

__all__ = [
    "BULK_READ_THRESHOLD",
    "BULK_WRITE_THRESHOLD",
    "BudgetExhausted",
    "SalesforceConnector",
    "SalesforceCredentials",
    "load_credentials",
]
