"""amoCRM (Kommo): the connector (``connector``) and an in-memory account to test it against (``emulator``)."""

from crmclean.connectors.amocrm.connector import (
    DUPLICATE_TAG,
    AmoCRMConnector,
    AmoCRMHTTPError,
    load_credentials,
    multi_values,
    normalize_entity,
)

__all__ = ["DUPLICATE_TAG", "AmoCRMConnector", "AmoCRMHTTPError", "load_credentials", "multi_values",
           "normalize_entity"]
