"""An in-memory amoCRM (Kommo) account speaking API v4 over real HTTP (``server``), with a ``python -m`` entry (``cli``)."""

from crmclean.connectors.amocrm.emulator.server import FAULT_KINDS, AmoCRMEmulator, normalize_entity

__all__ = ["FAULT_KINDS", "AmoCRMEmulator", "normalize_entity"]
