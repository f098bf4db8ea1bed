"""Fellegi–Sunter scoring: per-field evidence weights log2(m/u), term-frequency adjusted, summed into a match probability.

Each comparison level has m = P(level | same entity) and u = P(level | different
entities). A pair's evidence for a field is log2(m/u); for exact agreement u is the
frequency of the agreed value (a surname or switchboard shared by many proves little).
Missing values give 0: neutral, never negative. Positive weights of levels in one
correlated group (company, INN, city, a shared switchboard all say "same organization")
count once plus a small share of the rest. The prior odds come from the expected number
of duplicate pairs among all pairs. Weights work untrained; ``estimate_u`` refines u from
random pairs, ``train_m_em`` fits m by EM on the candidate pairs, and
``train_from_labels`` uses a steward's accepted/rejected pairs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from crmclean.matching.comparisons import Comparison, PairView, TermFrequencies, align_swapped_names

GROUP_EXTRA = 0.15  # share of the non-maximal positive weights of a correlated group that still counts
MAX_WEIGHT = 24.0  # a single field can never be more than this many bits of evidence


@dataclass
class LevelParams:
    m: float
    u: float


@dataclass
class MatchModel:
    """m/u per comparison level plus the prior: everything needed to turn levels into probabilities."""

    comparisons: list[Comparison]
    params: dict[str, list[LevelParams]]
    prior: float  # P(match) for a random pair of records
    n_records: int
    trained: list[str] = field(default_factory=list)  # what refined the defaults: "u:random", "m:em", "labels"

    @classmethod
    def default(cls, comparisons: Sequence[Comparison], n_records: int, *,
                duplicate_pairs_per_record: float = 0.15, prior: float | None = None) -> MatchModel:
        params = {c.name: [LevelParams(lv.m, lv.u) for lv in c.levels] for c in comparisons}
        if prior is None:
            total_pairs = max(n_records * (n_records - 1) / 2, 1.0)
            prior = min(0.5, max(duplicate_pairs_per_record * max(n_records, 1) / total_pairs, 1e-12))
        return cls(list(comparisons), params, prior, n_records)

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def level_weight(self, comparison: str, level: int, u_override: float | None = None) -> float:
        p = self.params[comparison][level]
        u = u_override if u_override is not None else p.u
        return _clamp(math.log2(max(p.m, 1e-9) / max(u, 1e-12)))

    def to_dict(self) -> dict[str, object]:
        return {
            "prior": self.prior,
            "trained": list(self.trained),
            "comparisons": {
                c.name: {lv.name: {"m": round(p.m, 6), "u": round(p.u, 8)}
                         for lv, p in zip(c.levels, self.params[c.name], strict=True)}
                for c in self.comparisons
            },
        }


def _clamp(w: float) -> float:
    return max(-MAX_WEIGHT, min(MAX_WEIGHT, w))


@dataclass
class ScoredPairs:
    """Pairs (``l``, ``r``) with a level and weight per comparison, the total weight and probability."""

    frame: pl.DataFrame  # l, r, swapped, lvl__<c>, w__<c>, group_adjust, weight, probability
    comparisons: list[Comparison]

    def level_column(self, name: str) -> str:
        return f"lvl__{name}"

    def weight_column(self, name: str) -> str:
        return f"w__{name}"


CHUNK_PAIRS = 400_000  # pairs compared at once: bounds memory (gathered strings) on millions of candidates


def compute_levels(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
) -> tuple[pl.DataFrame, PairView]:
    """Level code and term-frequency u per comparison for each pair: l, r, swapped, lvl__<c>, tfu__<c>.

    Large pair sets are compared in chunks; the returned view is the last chunk's (for explanations
    of a handful of pairs it is the whole set).
    """
    if pairs.height <= CHUNK_PAIRS:
        return _compute_levels_chunk(features, pairs, comparisons, tf, extra)
    parts = []
    view: PairView | None = None
    for start in range(0, pairs.height, CHUNK_PAIRS):
        part, view = _compute_levels_chunk(features, pairs.slice(start, CHUNK_PAIRS), comparisons, tf, extra)
        parts.append(part)
    assert view is not None
    return pl.concat(parts), view


def _compute_levels_chunk(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
) -> tuple[pl.DataFrame, PairView]:
    view = PairView(features, pairs, extra)
    out: dict[str, pl.Series] = {"l": pairs.get_column("l"), "r": pairs.get_column("r")}
    if "fn" in features.columns and "ln" in features.columns:
        out["swapped"] = align_swapped_names(view)
    else:
        out["swapped"] = pl.repeat(False, pairs.height, dtype=pl.Boolean, eager=True)
    for comp in comparisons:
        level, tf_u = comp.compute(view, tf)
        out[f"lvl__{comp.name}"] = level.cast(pl.Int8)
        out[f"tfu__{comp.name}"] = (tf_u if tf_u is not None else pl.repeat(None, pairs.height, dtype=pl.Float32,
                                                                              eager=True)).cast(pl.Float32)
    return pl.DataFrame(out), view


def weigh_levels(levels: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
    """Add w__<c> per comparison, the correlated-group adjustment, total weight and probability."""
    exprs: list[pl.Expr] = []
    group_members: dict[str, list[tuple[str, set[int]]]] = {}
    for comp in model.comparisons:
        lvl = pl.col(f"lvl__{comp.name}")
        tfu = pl.col(f"tfu__{comp.name}")
        expr: pl.Expr = pl.lit(0.0)
        for k in range(len(comp.levels) - 1, -1, -1):
            p = model.params[comp.name][k]
            fixed = _clamp(math.log2(max(p.m, 1e-9) / max(p.u, 1e-12)))
            if comp.levels[k].tf:
                # u from the agreed value's (smoothed, leave-one-out) frequency
                weight = pl.when(tfu.is_not_null()).then(
                    (pl.lit(max(p.m, 1e-9)) / pl.max_horizontal(tfu, pl.lit(1e-9))).log(2).clip(-MAX_WEIGHT,
                                                                                             MAX_WEIGHT)
                ).otherwise(pl.lit(fixed))
            else:
                weight = pl.lit(fixed)
            expr = pl.when(lvl == k).then(weight).otherwise(expr)
        expr = pl.when(lvl.is_null()).then(pl.lit(0.0)).otherwise(expr)
        if comp.max_weight is not None:
            expr = expr.clip(upper_bound=comp.max_weight)
        exprs.append(expr.alias(f"w__{comp.name}"))
        for k, lv in enumerate(comp.levels):
            if lv.group:
                members = group_members.setdefault(lv.group, [])
                found = next((m for m in members if m[0] == comp.name), None)
                if found is None:
                    members.append((comp.name, {k}))
                else:
                    found[1].add(k)
    frame = levels.with_columns(exprs)
    adjust: pl.Expr = pl.lit(0.0)
    for _group, members in group_members.items():
        if len(members) < 2:
            continue
        positives = [
            pl.when(pl.col(f"lvl__{name}").is_in(sorted(ks)) & (pl.col(f"w__{name}") > 0))
            .then(pl.col(f"w__{name}")).otherwise(0.0)
            for name, ks in members
        ]
        total = pl.sum_horizontal(positives)
        biggest = pl.max_horizontal(positives)
        # keep the strongest organization signal and a fraction of the rest
        adjust = adjust - (1 - GROUP_EXTRA) * (total - biggest)
    names_present = {c.name for c in model.comparisons}
    for comp in model.comparisons:
        for k, lv in enumerate(comp.levels):
            subsumers = [n for n in lv.subsumed_by if n in names_present]
            if not subsumers:
                continue
            w = pl.col(f"w__{comp.name}")
            explained = pl.sum_horizontal([pl.col(f"w__{n}").clip(lower_bound=0) for n in subsumers])
            kept = pl.max_horizontal(w * GROUP_EXTRA, w - explained)
            adjust = adjust + pl.when((pl.col(f"lvl__{comp.name}") == k) & (w > 0)).then(kept - w).otherwise(0.0)
    weight_cols = [pl.col(f"w__{c.name}") for c in model.comparisons]
    frame = frame.with_columns(adjust.alias("group_adjust"))
    # a pair is corroborated when a field other than names (and weak ones) speaks for it
    corroborating = [pl.col(f"w__{c.name}") >= 1.0 for c in model.comparisons if c.corroborates]
    frame = frame.with_columns(
        (pl.any_horizontal(corroborating) if corroborating else pl.lit(False)).alias("corroborated"))
    frame = frame.with_columns(
        (pl.sum_horizontal(weight_cols) + pl.col("group_adjust")).alias("evidence"),
    ).with_columns(
        (pl.col("evidence") + model.prior_weight).alias("weight"),
    ).with_columns(
        (1.0 / (1.0 + pl.lit(2.0).pow(-pl.col("weight").clip(-60, 60)))).alias("probability"),
    )
    return frame


def score_pairs(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    model: MatchModel,
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
) -> ScoredPairs:
    levels, _ = compute_levels(features, pairs, model.comparisons, tf, extra)
    return ScoredPairs(weigh_levels(levels, model), model.comparisons)


# ---------------------------------------------------------------- estimation


def _blend(count: float, total: float, default: float, strength: float) -> float:
    """Posterior mean of a proportion with ``strength`` pseudo-observations at ``default``."""
    return (count + default * strength) / (total + strength)


def estimate_u(
    model: MatchModel,
    features: pl.DataFrame,
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
    *,
    sample_pairs: int = 60_000,
    seed: int = 42,
    strength: float = 2_000.0,
) -> None:
    """u of every non-tf level from random record pairs (almost all of which are different entities)."""
    n = features.height
    if n < 50:
        return
    rng = random.Random(seed)
    k = min(sample_pairs, n * (n - 1) // 2)
    left = [rng.randrange(n) for _ in range(k)]
    right = [rng.randrange(n) for _ in range(k)]
    pairs = pl.DataFrame({"l": pl.Series(left, dtype=pl.UInt32), "r": pl.Series(right, dtype=pl.UInt32)}).filter(
        pl.col("l") != pl.col("r"))
    levels, _ = compute_levels(features, pairs, model.comparisons, tf, extra)
    for comp in model.comparisons:
        col = levels.get_column(f"lvl__{comp.name}").drop_nulls()
        total = len(col)
        if total == 0:
            continue
        counts = dict(col.value_counts().iter_rows())
        for i, lv in enumerate(comp.levels):
            if lv.tf:
                continue
            p = model.params[comp.name][i]
            p.u = max(_blend(counts.get(i, 0), total, p.u, strength), 1e-7)
    model.trained.append("u:random-pairs")


def train_m_em(model: MatchModel, levels: pl.DataFrame, *, iterations: int = 15, strength: float = 50.0) -> None:
    """Fit m of every level by expectation-maximization over candidate pairs (u and tf kept fixed)."""
    names = [c.name for c in model.comparisons]
    cols = [f"lvl__{n}" for n in names]
    patterns = levels.group_by(cols).len()
    rows = patterns.rows()
    lam = 0.1
    for _ in range(iterations):
        acc_m = {n: [0.0] * len(model.params[n]) for n in names}
        acc_tot = dict.fromkeys(names, 0.0)
        matched = 0.0
        total = 0.0
        for row in rows:
            *lv, count = row
            logit = math.log2(lam / (1 - lam))
            for name, code in zip(names, lv, strict=True):
                if code is None:
                    continue
                p = model.params[name][code]
                logit += math.log2(max(p.m, 1e-9) / max(p.u, 1e-12))
            prob = 1.0 / (1.0 + 2.0 ** (-max(min(logit, 60), -60)))
            matched += prob * count
            total += count
            for name, code in zip(names, lv, strict=True):
                if code is None:
                    continue
                acc_m[name][code] += prob * count
                acc_tot[name] += prob * count
        lam = min(max(matched / max(total, 1.0), 1e-6), 0.999)
        for comp in model.comparisons:
            levels_params = model.params[comp.name]
            tot = acc_tot[comp.name]
            for i, p in enumerate(levels_params):
                p.m = max(_blend(acc_m[comp.name][i], tot, comp.levels[i].m, strength), 1e-6)
    model.trained.append("m:em")


def train_from_labels(model: MatchModel, levels: pl.DataFrame, accepted: pl.Series, *,
                      strength: float = 20.0) -> int:
    """m from pairs a steward accepted, u from pairs rejected (blended with the current values)."""
    names = [c.name for c in model.comparisons]
    frame = levels.with_columns(accepted.alias("__accepted"))
    used = 0
    for is_match in (True, False):
        subset = frame.filter(pl.col("__accepted") == is_match)
        if subset.height < 5:
            continue
        used += subset.height
        for comp, name in zip(model.comparisons, names, strict=True):
            col = subset.get_column(f"lvl__{name}").drop_nulls()
            total = len(col)
            if not total:
                continue
            counts = dict(col.value_counts().iter_rows())
            for i, p in enumerate(model.params[name]):
                if is_match:
                    p.m = max(_blend(counts.get(i, 0), total, p.m, strength), 1e-6)
                elif not comp.levels[i].tf:
                    # rejected pairs are hard negatives, not random ones: nudge u only gently
                    p.u = max(_blend(counts.get(i, 0), total, p.u, strength * 20), 1e-7)
    if used:
        model.trained.append("labels")
    return used
