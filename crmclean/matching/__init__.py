"""Fuzzy deduplication and record linkage (splink-like composable parts, one concept per module).

Public API::

    from crmclean.matching import dedupe, link, explain_pair
    result = dedupe(table, rules)          # DedupeResult: clusters, pairs, golden, review, blocking_stats
    linked = link(source, other, rules)    # LinkResult: best match in `other` per source row
    print(explain_pair(table, "17", "42", rules).to_text())
"""

from crmclean.matching.engine import (
    DedupeResult,
    LinkResult,
    MatchSetup,
    dedupe,
    explain_pair,
    link,
    prepare,
    read_labels,
)
from crmclean.matching.explain import Explanation

__all__ = [
    "DedupeResult",
    "Explanation",
    "LinkResult",
    "MatchSetup",
    "dedupe",
    "explain_pair",
    "link",
    "prepare",
    "read_labels",
]
