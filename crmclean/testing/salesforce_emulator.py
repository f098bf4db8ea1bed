"""Kept so ``python -m crmclean.testing.salesforce_emulator`` (documented in the README) keeps working.

The emulator lives with its connector: :mod:`crmclean.connectors.salesforce.emulator`.
"""

from crmclean.connectors.salesforce.emulator import (
    ApiError,
    SalesforceEmulator,
    compile_where,
    normalize_id,
    parse_soql,
    to_18,
)
from crmclean.connectors.salesforce.emulator.cli import main, read_csv_rows, with_api_names
from crmclean.connectors.salesforce.emulator.server import FAULT_KINDS, LoggedRequest

__all__ = [
    "FAULT_KINDS",
    "ApiError",
    "LoggedRequest",
    "SalesforceEmulator",
    "compile_where",
    "main",
    "normalize_id",
    "parse_soql",
    "read_csv_rows",
    "to_18",
    "with_api_names",
]

if __name__ == "__main__":
    raise SystemExit(main())
