"""Kept so ``python -m crmclean.testing.hubspot_emulator`` (documented in the README) keeps working.

The emulator lives with its connector: :mod:`crmclean.connectors.hubspot.emulator`.
"""

from crmclean.connectors.hubspot.emulator.cli import load_csv, main
from crmclean.connectors.hubspot.emulator.server import (
    FAULT_KINDS,
    SEARCH_MAX_RESULTS,
    HubSpotEmulator,
    RequestLog,
    normalize_object_type,
)

__all__ = [
    "FAULT_KINDS",
    "SEARCH_MAX_RESULTS",
    "HubSpotEmulator",
    "RequestLog",
    "load_csv",
    "main",
    "normalize_object_type",
]

if __name__ == "__main__":
    raise SystemExit(main())
