"""``python -m crmclean.testing.bitrix24_emulator --load FILE``: the emulator lives with its connector
(:mod:`crmclean.connectors.bitrix24.emulator`); this module keeps the same entry as the Salesforce and HubSpot ones."""

from crmclean.connectors.bitrix24.emulator.cli import load_csv, main
from crmclean.connectors.bitrix24.emulator.server import FAULT_KINDS, Bitrix24Emulator, RequestLog, normalize_entity

__all__ = ["FAULT_KINDS", "Bitrix24Emulator", "RequestLog", "load_csv", "main", "normalize_entity"]

if __name__ == "__main__":
    raise SystemExit(main())
