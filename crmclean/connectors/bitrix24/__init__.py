"""Bitrix24: the connector (``connector``) and an in-memory portal to test it against (``emulator``)."""

from crmclean.connectors.bitrix24.connector import (
    Bitrix24Connector,
    Bitrix24Error,
    LeakyBucket,
    Webhook,
    load_webhook,
    parse_webhook,
    parse_where,
)

__all__ = ["Bitrix24Connector", "Bitrix24Error", "LeakyBucket", "Webhook", "load_webhook", "parse_webhook",
           "parse_where"]
