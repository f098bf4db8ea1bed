"""An in-memory HubSpot portal speaking CRM v3 over real HTTP (``server``), with a ``python -m`` entry (``cli``)."""

from crmclean.connectors.hubspot.emulator.server import HubSpotEmulator, normalize_object_type

__all__ = ["HubSpotEmulator", "normalize_object_type"]
