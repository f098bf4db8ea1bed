"""An in-memory Salesforce org over real HTTPS: REST, SOQL, Bulk API 2.0 and SOAP login/merge.

``server`` holds the org and its REST routes, ``soql`` the query parser, ``bulk`` the Bulk API 2.0 jobs,
``soap`` the SOAP login and merge calls, ``cli`` the ``python -m`` entry.
"""

from crmclean.connectors.salesforce.emulator.model import STANDARD_DUPLICATE_RULES, DuplicateRule
from crmclean.connectors.salesforce.emulator.server import (
    ApiError,
    SalesforceEmulator,
    normalize_id,
    to_18,
)
from crmclean.connectors.salesforce.emulator.soql import compile_where, parse_soql

__all__ = ["STANDARD_DUPLICATE_RULES", "ApiError", "DuplicateRule", "SalesforceEmulator", "compile_where", "normalize_id", "parse_soql", "to_18"]
