"""The polars + rapidfuzz matching backend (the default): executes the library's declarations column-wise."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crmclean.matching.backend import CandidatePairs, MatchBackend
from crmclean.matching.backends.polars.blocking import block_pairs
from crmclean.matching.backends.polars.compare import compute_levels, shown_values
from crmclean.matching.backends.polars.view import PairView, TermFrequencies
from crmclean.matching.backends.polars.weights import weigh_levels
from crmclean.matching.library import BlockingKey, Comparison
from crmclean.matching.scoring import MatchModel


class PolarsBackend(MatchBackend):
    """Blocks with hashed polars group-bys, compares with polars expressions and rapidfuzz ``cpdist``."""

    name = "polars"

    def term_frequencies(self, features: pl.DataFrame) -> TermFrequencies:
        return TermFrequencies(features)

    def block(self, features: pl.DataFrame, keys: Sequence[BlockingKey], *, max_block_size: int = 200,
              link_boundary: int | None = None) -> CandidatePairs:
        return block_pairs(features, keys, max_block_size=max_block_size, link_boundary=link_boundary)

    def compare(self, features: pl.DataFrame, pairs: pl.DataFrame, comparisons: Sequence[Comparison],
                tf: TermFrequencies) -> pl.DataFrame:
        return compute_levels(features, pairs, comparisons, tf)[0]

    def explain(self, features: pl.DataFrame, pairs: pl.DataFrame, comparisons: Sequence[Comparison],
                tf: TermFrequencies) -> tuple[pl.DataFrame, dict[str, tuple[list[str | None], list[str | None]]]]:
        levels, view = compute_levels(features, pairs, comparisons, tf)
        shown = {}
        for c in comparisons:
            left, right = shown_values(view, c)
            shown[c.name] = (left.to_list(), right.to_list())
        return levels, shown

    def weigh(self, levels: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
        return weigh_levels(levels, model)


__all__ = ["PairView", "PolarsBackend", "TermFrequencies", "block_pairs", "compute_levels", "weigh_levels"]
