"""Record-model concepts shared by standardize, validate, matching and write-back (multi-value cells)."""

from crmclean.model.multivalue import (
    DERIVED_SUFFIXES,
    MULTI_VALUE_ROLES,
    cell_separator,
    email_addresses,
    is_derived_column,
    join_cell,
    phone_keys,
    split_cell,
)

__all__ = ["DERIVED_SUFFIXES", "MULTI_VALUE_ROLES", "cell_separator", "email_addresses", "is_derived_column",
           "join_cell", "phone_keys", "split_cell"]
