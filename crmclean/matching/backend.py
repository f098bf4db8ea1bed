"""The matching engine seam: one abstract :class:`MatchBackend`, one implementation per engine.

The engine (``crmclean.matching.engine``) never computes a block or a comparison itself: it
hands the declarations of ``crmclean.matching.library`` (blocking keys, comparison levels) to a
backend. Today's backend is ``backends/polars`` (polars + rapidfuzz); a DuckDB or Spark backend
is one new folder implementing these methods and registered in :data:`BACKENDS`. Frames cross
the seam as polars DataFrames: features (one row per record, ``__idx`` = position), pairs
(``l`` < ``r`` positions, UInt32), level frames (``l, r, swapped, lvl__<c> Int8, tfu__<c> Float32``)
and scored frames (level frame + ``w__<c>, group_adjust, corroborated, vetoed, evidence, weight, probability``).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from crmclean.matching.library import BlockingKey, Comparison

if TYPE_CHECKING:
    from crmclean.matching.scoring import MatchModel


@dataclass
class BlockingStats:
    """What one key did: how many blocks, how big, how many pairs, what was split or dropped."""

    key: str
    records: int = 0  # records that have a value for this key
    blocks: int = 0  # blocks of two or more records that were compared
    largest_block: int = 0  # largest block actually compared (after splitting)
    pairs: int = 0  # candidate pairs this key produced (before the union with other keys)
    oversized_blocks: int = 0  # blocks over the size limit before splitting
    split_blocks: int = 0  # oversized blocks split into compared sub-blocks
    dropped_blocks: int = 0  # (sub-)blocks still over the limit after every refinement: not compared
    dropped_records: int = 0
    windowed_blocks: int = 0  # (sub-)blocks still over the limit compared as sorted neighbourhoods instead
    windowed_records: int = 0

    def as_dict(self) -> dict[str, int | str]:
        return dict(self.__dict__)


@dataclass
class CandidatePairs:
    """The union of candidate pairs (``l`` < ``r`` row positions) and per-key statistics."""

    pairs: pl.DataFrame
    stats: list[BlockingStats] = field(default_factory=list)
    total_possible: int = 0  # n(n-1)/2 (or n_source * n_other when linking)
    # per key, the pairs it produced as one UInt64 code each (l * 2**32 + r; repeats possible)
    key_codes: dict[str, pl.Series] = field(default_factory=dict)

    @property
    def reduction_ratio(self) -> float:
        return 1.0 - self.pairs.height / self.total_possible if self.total_possible else 0.0

    def key_recall(self, found: pl.DataFrame) -> dict[str, Any]:
        """Which keys find the pairs ``found`` (``l``, ``r``: the pairs scored as matches) and an estimated recall.

        Per key: ``found`` = share of those pairs the key alone would have made candidates, ``only`` = share
        no other key finds (what dropping the key would lose). ``estimated_recall``: the keys are treated as
        capture occasions of a capture–recapture count (Chao 1987, model M_th): with f1 pairs found by exactly
        one key and f2 by exactly two out of t keys, the pairs no key found number about
        ((t - 1) / t) · f1² / (2 · f2), and the recall is found / (found + that). Keys that find a pair
        together (e-mail and mailbox name) make f2 large and the estimate optimistic; it is a lower bound of
        the misses, checked against the truth in ``benchmarks/bench_dedupe_blocking.py``. ``recall_low`` is the
        first-order jackknife (Burnham & Overton 1978: about f1 · (t - 1) / t pairs unseen), which overstates the
        misses; on held-out generated contacts the true blocking recall lay between the two.
        """
        names = [k for k, codes in self.key_codes.items() if codes.len()]
        if not found.height or not names:
            return {"scored_matches": found.height, "estimated_recall": None, "recall_low": None, "keys": {}}
        code = (found.get_column("l").cast(pl.UInt64) * (1 << 32) + found.get_column("r").cast(pl.UInt64))
        hits = pl.DataFrame({k: code.is_in(self.key_codes[k].implode()) for k in names})
        count = hits.select(pl.sum_horizontal(pl.all().cast(pl.UInt8)).alias("n")).get_column("n")
        total = found.height
        keys = {k: {"found": round(int(hits.get_column(k).sum()) / total, 4),
                    "only": round(int((hits.get_column(k) & (count == 1)).sum()) / total, 4)} for k in names}
        f1, f2, t = int((count == 1).sum()), int((count == 2).sum()), len(names)
        seen = int((count >= 1).sum())
        unseen = (t - 1) / t * (f1 * f1 / (2 * f2) if f2 else f1 * (f1 - 1) / 2)
        jackknife = f1 * (t - 1) / t
        return {"scored_matches": total, "found_by_one_key": f1, "found_by_two_keys": f2,
                "estimated_recall": round(seen / (seen + unseen), 4) if seen else None,
                "recall_low": round(seen / (seen + jackknife), 4) if seen else None, "keys": keys}


class MatchBackend(ABC):
    """Executes matching declarations: blocks → candidate pairs, comparison levels, weights."""

    name: str = ""

    @abstractmethod
    def term_frequencies(self, features: pl.DataFrame) -> Any:
        """The backend's term-frequency lookups over ``features`` (opaque to the engine, passed back in)."""

    @abstractmethod
    def block(self, features: pl.DataFrame, keys: Sequence[BlockingKey], *, max_block_size: int = 200,
              link_boundary: int | None = None) -> CandidatePairs:
        """Candidate pairs from every key (oversized blocks split by ``refine`` or dropped), with statistics.

        ``link_boundary``: rows ``< boundary`` are the source, the rest the other table; only
        source × other pairs are produced.
        """

    @abstractmethod
    def compare(self, features: pl.DataFrame, pairs: pl.DataFrame, comparisons: Sequence[Comparison],
                tf: Any) -> pl.DataFrame:
        """Level code and term-frequency u per comparison for each pair (the level frame)."""

    @abstractmethod
    def explain(self, features: pl.DataFrame, pairs: pl.DataFrame, comparisons: Sequence[Comparison],
                tf: Any) -> tuple[pl.DataFrame, dict[str, tuple[list[str | None], list[str | None]]]]:
        """The level frame of a few pairs plus, per comparison, the left and right values as shown to a person."""

    @abstractmethod
    def weigh(self, levels: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
        """Fellegi–Sunter weights per comparison, correlated-group adjustment, total weight and probability."""


# backend name -> "module:class"; a new engine is one folder under backends/ and one line here
BACKENDS: dict[str, str] = {"polars": "crmclean.matching.backends.polars:PolarsBackend"}
_INSTANCES: dict[str, MatchBackend] = {}


def get_backend(name: str = "polars") -> MatchBackend:
    """The backend registered under ``name`` (one shared instance per name)."""
    if name not in _INSTANCES:
        if name not in BACKENDS:
            raise ValueError(f"unknown matching backend {name!r} (known: {', '.join(BACKENDS)})")
        module, cls = BACKENDS[name].split(":")
        _INSTANCES[name] = getattr(importlib.import_module(module), cls)()
    return _INSTANCES[name]
