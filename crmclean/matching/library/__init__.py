"""Matching declarations as data: comparison levels (conditions, m/u) and blocking keys. No execution here."""

from crmclean.matching.library.blocking import (
    BlockingKey,
    companies_blocking_keys,
    contacts_blocking_keys,
    generic_blocking_key,
)
from crmclean.matching.library.comparisons import (
    NAME_SWAP,
    Comparison,
    Level,
    companies_comparisons,
    contacts_comparisons,
    generation_comparison,
    generic_comparison,
)
from crmclean.matching.library.conditions import (
    PREDICATES,
    AllOf,
    AnyOf,
    Condition,
    Else,
    Exact,
    Fuzzy,
    MinLength,
    Missing,
    NameSwap,
    Not,
    Predicate,
    Shares,
    TfDistinct,
    TfLeft,
    TfShared,
    TfSource,
)

__all__ = [
    "NAME_SWAP", "PREDICATES", "AllOf", "AnyOf", "BlockingKey", "Comparison", "Condition", "Else", "Exact", "Fuzzy",
    "Level", "MinLength", "Missing", "NameSwap", "Not", "Predicate", "Shares", "TfDistinct", "TfLeft", "TfShared", "TfSource",
    "companies_blocking_keys", "companies_comparisons", "contacts_blocking_keys", "contacts_comparisons",
    "generation_comparison", "generic_blocking_key", "generic_comparison",
]
