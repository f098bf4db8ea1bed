"""An in-memory Bitrix24 portal speaking the REST API over real HTTP (``server``), with a ``python -m`` entry (``cli``)."""

from crmclean.connectors.bitrix24.emulator.server import Bitrix24Emulator, normalize_entity

__all__ = ["Bitrix24Emulator", "normalize_entity"]
