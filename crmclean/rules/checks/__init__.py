"""Validation checks (one module per family); importing registers them."""

from crmclean.rules.checks import (  # noqa: F401  (registration side effects)
    dates,
    email,
    existing,
    format,
    freetext,
    hygiene,
    phone,
    picklist,
    ranges,
    required,
    unique,
    xfield,
)
