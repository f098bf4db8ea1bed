"""``python -m crmclean.testing.amocrm_emulator --load contacts.csv`` prints the variables to export.

The emulator lives with its connector: :mod:`crmclean.connectors.amocrm.emulator`.
"""

from crmclean.connectors.amocrm.emulator.cli import load_csv, main
from crmclean.connectors.amocrm.emulator.server import FAULT_KINDS, AmoCRMEmulator, RequestLog, normalize_entity

__all__ = ["FAULT_KINDS", "AmoCRMEmulator", "RequestLog", "load_csv", "main", "normalize_entity"]

if __name__ == "__main__":
    raise SystemExit(main())
