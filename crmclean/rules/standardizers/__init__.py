"""Standardization rules (one module per field family); importing registers them."""

from crmclean.rules.standardizers import (  # noqa: F401  (registration side effects)
    companies,
    countries,
    emails,
    generic,
    names,
    phones,
    placeholders,
    taxids,
    text,
    titles,
)
