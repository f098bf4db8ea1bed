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

This module is the model (m/u, prior, training); a backend (``crmclean.matching.backend``)
computes the level frames and weighs them.
"""

from __future__ import annotations

import functools
import math
import operator
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from crmclean.matching.library import Comparison

if TYPE_CHECKING:
    from crmclean.matching.backend import MatchBackend

GROUP_EXTRA = 0.15  # share of the non-maximal positive weights of a correlated group that still counts
MAX_WEIGHT = 24.0  # a single field can never be more than this many bits of evidence
# a cross pair at a refuting level (``Level.refutes``) below this weight (bits, prior included: even odds) refutes a
# cluster merge (``cross_weight``), and then weighs at most REFUTED_CROSS_WEIGHT: below every cross-pair bound
REFUTES_BELOW = 0.0
REFUTED_CROSS_WEIGHT = -40.0
# ... while the model holds the level rare for one entity's records (m at most this: the defaults, or m as EM fits it on
# a person register, where typed-in towns differ in one duplicate of ten and so refute nothing)
REFUTES_MAX_M = 0.05
REFERENCE_RECORDS = 20_000  # the file size the default thresholds were tuned at (generated contacts, 20k)


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
    # bits added to a pair's evidence by how many of its compared fields disagree (not at their first level), fitted
    # by ``fit_disagreements`` on a person file; empty (no adjustment) for a CRM export
    disagreement_weights: list[float] = field(default_factory=list)

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

    def size_shift(self) -> float:
        """Bits the prior has lost against a file of ``REFERENCE_RECORDS`` records with the same duplicate rate
        (0 for a file that size or smaller, negative above).

        The prior spreads the duplicates over all n(n-1)/2 pairs, so it falls by log2(10) = 3.3 bits from 100k to
        1M records. That is right for a random pair, not for a cross pair inside a cluster that strong links
        already joined: a weight bound on such pairs (``min_cross_weight``) adds this shift, so the check asks the
        same evidence of a 1M file as of the file size the defaults were tuned at instead of 3.3 more bits.
        """
        if self.n_records <= REFERENCE_RECORDS:
            return 0.0
        reference = min(0.5, self.prior * (self.n_records - 1) / (REFERENCE_RECORDS - 1))
        return min(0.0, self.prior_weight - math.log2(reference / (1 - reference)))

    def level_weight(self, comparison: str, level: int, u_override: float | None = None) -> float:
        p = self.params[comparison][level]
        u = u_override if u_override is not None else p.u
        return _clamp(math.log2(max(p.m, 1e-9) / max(u, 1e-12)))

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "prior": self.prior,
            "trained": list(self.trained),
            "comparisons": {
                c.name: {lv.name: {"m": round(p.m, 6), "u": round(p.u, 8)}
                         for lv, p in zip(c.levels, self.params[c.name], strict=True)}
                for c in self.comparisons
            },
        }
        if self.disagreement_weights:
            out["disagreement_weights"] = [round(w, 3) for w in self.disagreement_weights]
        return out


def _clamp(w: float) -> float:
    return max(-MAX_WEIGHT, min(MAX_WEIGHT, w))


def fixed_sum(terms: Sequence[pl.Expr]) -> pl.Expr:
    """The row-wise sum of ``terms`` added left to right, nulls counting 0 (``pl.sum_horizontal`` in a fixed order).

    ``pl.sum_horizontal`` of three or more columns reduces them on polars' thread pool (rayon ``try_reduce_with``,
    polars-ops ``series/ops/horizontal.rs``): how the additions are grouped follows the work stealing, so a float sum
    may come out an ulp apart from one run to the next (300k seed 7: 37k of 1.3M pair weights when a job is stolen).
    Every float sum of weights goes through here, so a run's weights do not depend on the machine's load or cores.
    """
    return functools.reduce(operator.add, [t.fill_null(0) for t in terms]) if terms else pl.lit(0.0)


# ---------------------------------------------------------------- estimation


def _blend(count: float, total: float, default: float, strength: float) -> float:
    """Posterior mean of a proportion with ``strength`` pseudo-observations at ``default``."""
    return (count + default * strength) / (total + strength)


def random_below(seed: int, n: int, count: int) -> pl.Series:
    """``[random.Random(seed).randrange(n) for _ in range(count)]`` as UInt32, drawn by numpy from the same Mersenne
    Twister stream: seeded alike (``RandomState([seed])`` is ``init_by_array``, as ``random.seed``), ``randrange``
    takes the top ``n.bit_length()`` bits of one 32-bit output and rejects values of ``n`` or more."""
    bits = n.bit_length()
    if not 0 <= seed < 1 << 32 or not 0 < bits <= 32:  # several words per draw: Python's own loop
        rng = random.Random(seed)
        return pl.Series([rng.randrange(n) for _ in range(count)], dtype=pl.UInt32)
    stream = np.random.RandomState([seed])._bit_generator  # type: ignore[attr-defined]
    parts, have = [], 0
    while have < count:
        raw = stream.random_raw((count - have) * 2 + 64) >> np.uint64(32 - bits)
        kept = raw[raw < n]
        parts.append(kept)
        have += len(kept)
    return pl.Series(np.concatenate(parts)[:count].astype(np.uint32))


def estimate_u(
    model: MatchModel,
    features: pl.DataFrame,
    tf: Any,
    backend: MatchBackend | None = None,
    *,
    sample_pairs: int = 60_000,
    seed: int = 42,
    strength: float = 2_000.0,
) -> None:
    """u of every non-tf level from random record pairs (almost all of which are different entities)."""
    n = features.height
    if n < 50:
        return
    k = min(sample_pairs, n * (n - 1) // 2)
    drawn = random_below(seed, n, 2 * k)
    pairs = pl.DataFrame({"l": drawn[:k], "r": drawn[k:]}).filter(pl.col("l") != pl.col("r"))
    if backend is None:
        from crmclean.matching.backend import get_backend

        backend = get_backend()
    levels = backend.compare(features, pairs, model.comparisons, tf)
    for comp in model.comparisons:
        col = levels.get_column(f"lvl__{comp.name}").drop_nulls()
        total = len(col)
        if total == 0:
            continue
        counts = dict(col.value_counts().iter_rows())
        for i, lv in enumerate(comp.levels):
            if lv.tf or not lv.estimate:
                continue
            p = model.params[comp.name][i]
            p.u = max(_blend(counts.get(i, 0), total, p.u, strength), 1e-7)
    model.trained.append("u:random-pairs")


def train_m_em(model: MatchModel, levels: pl.DataFrame, *, iterations: int = 15, strength: float = 50.0) -> None:
    """Fit m of every level by expectation-maximization over candidate pairs, u and tf kept fixed (``estimate_u``).

    In sessions, the way splink trains: the candidate pairs that agree exactly on a comparison ``c`` fit the m of
    every other comparison (``c`` is left out of the E-step, so pairs chosen for agreeing on it cannot teach its own
    m); the person's names are one session (same first and last name; first, middle and last name left out),
    because blocking chose the candidates by name; each m is the mean of its sessions, blended with the default (``strength``
    pseudo-pairs). Training on all candidates at once fails on person files: blocking chose pairs that share a
    name, so "same name" becomes the match class (RLdata10000: recall 0.52).
    """
    names = [c.name for c in model.comparisons]
    # the patterns in one order (a group_by's is arbitrary): the E-step adds up floats in the patterns' order
    patterns = levels.group_by([f"lvl__{n}" for n in names]).len().sort([f"lvl__{n}" for n in names])
    learned: dict[str, list[list[float]]] = {n: [] for n in names}
    person = [n for n in ("first_name", "last_name") if n in names]
    # sessions: (the comparisons whose exact agreement chooses the pairs, the comparisons left out of it)
    sessions: list[tuple[tuple[str, ...], tuple[str, ...]]] = [((n,), (n,)) for n in names if n not in _PERSON_NAMES]
    if len(person) == 2:  # blocking chose pairs by name: the same full name trains everything but the names
        sessions.append((tuple(person), tuple(n for n in names if n in _PERSON_NAMES)))
    for anchor, left_out in sessions:
        session = patterns.filter(pl.all_horizontal(pl.col(f"lvl__{n}") == 0 for n in anchor))
        if session.get_column("len").sum() < 50:
            continue
        kept = [n for n in names if n not in left_out]
        for name, m in _em_session(model, session.select(*(f"lvl__{n}" for n in kept), "len").rows(), kept,
                                   iterations).items():
            learned[name].append(m)
    for comp in model.comparisons:
        runs = learned[comp.name]
        if not runs:
            continue
        for i, p in enumerate(model.params[comp.name]):
            p.m = max(sum(_blend(r[i], sum(r), comp.levels[i].m, strength) for r in runs) / len(runs), 1e-6)
    model.trained.append("m:em")


_PERSON_NAMES = frozenset({"first_name", "last_name", "middle_name"})


def _em_session(model: MatchModel, rows: list[tuple[Any, ...]], names: list[str], iterations: int) \
        -> dict[str, list[float]]:
    """EM over level patterns (``rows``: one level code per name, then the count): the expected number of
    matching pairs at each level of each comparison."""
    start = {n: [p.m for p in model.params[n]] for n in names}
    lam = 0.1
    acc_m: dict[str, list[float]] = {}
    for _ in range(iterations):
        acc_m = {n: [0.0] * len(model.params[n]) for n in names}
        matched = total = 0.0
        for row in rows:
            *lv, count = row
            logit = math.log2(lam / (1 - lam))
            for name, code in zip(names, lv, strict=True):
                if code is not None:
                    logit += math.log2(max(start[name][code], 1e-9) / max(model.params[name][code].u, 1e-12))
            prob = 1.0 / (1.0 + 2.0 ** (-max(min(logit, 60), -60)))
            matched += prob * count
            total += count
            for name, code in zip(names, lv, strict=True):
                if code is not None:
                    acc_m[name][code] += prob * count
        lam = min(max(matched / max(total, 1.0), 1e-6), 0.999)
        for name in names:
            tot = sum(acc_m[name])
            if tot > 0:
                start[name] = [max(a / tot, 1e-6) for a in acc_m[name]]
    return acc_m


def cross_weight(model: MatchModel) -> pl.Expr:
    """A pair's weight as a cross pair of two clusters that a matched pair would join (over a weighed frame).

    A person who changed employer has records at two companies: between them the company and INN
    (``Level.job_change == "employer"``) and with them the office line, work address and job title
    (``"follows"``) all disagree at once, and each counts against the pair as if independent. Where the employer
    differs, those levels say one thing — another employer — so only the strongest of their weights against
    counts; names, patronymic, a mobile, a personal address or a city that disagree still count in full, and
    without another employer (the same company, or none known) nothing changes.

    A cross pair at a level one person's records practically never show (``Level.refutes``: two cities, two
    countries, each their own mobile and none in common, while the model's m says so: ``refuting_levels``) that is no
    likelier one record than two (its weight below 0 bits, prior included) refuses the merge: its weight is held below every cross-pair bound
    (``REFUTED_CROSS_WEIGHT``), however rare the names it shares. Chains of namesakes join that way — a record links
    to one of a cluster's records by a rare name and a company, while another record of that cluster lives in
    another city. A pair that clears even odds on its own evidence (a shared personal address despite two mobiles)
    is no refutation.
    """
    kinds: dict[str, list[tuple[str, list[int]]]] = {"employer": [], "follows": []}
    for c in model.comparisons:
        for kind, found in kinds.items():
            ks = [k for k, lv in enumerate(c.levels) if lv.job_change == kind]
            if ks:
                found.append((c.name, ks))
    weight = pl.col("weight")
    if kinds["employer"]:
        against = [pl.when(pl.col(f"lvl__{name}").is_in(ks)).then(pl.col(f"w__{name}").clip(upper_bound=0.0))
                   .otherwise(0.0).fill_null(0.0) for name, ks in kinds["employer"] + kinds["follows"]]
        other_employer = pl.any_horizontal([pl.col(f"lvl__{name}").is_in(ks) for name, ks in kinds["employer"]])
        weight = pl.when(other_employer.fill_null(False)).then(
            weight - fixed_sum(against) + pl.min_horizontal(against)).otherwise(weight)
    refuting = [pl.col(f"lvl__{name}").is_in(ks) for name, ks in refuting_levels(model).items()]
    if not refuting:
        return weight
    refuted = pl.any_horizontal(refuting).fill_null(False) & (pl.col("weight") < REFUTES_BELOW)
    return pl.when(refuted).then(pl.min_horizontal(weight, pl.lit(REFUTED_CROSS_WEIGHT))).otherwise(weight)


def refuting_levels(model: MatchModel) -> dict[str, list[int]]:
    """Per comparison, the levels that refute a cluster merge (``cross_weight``): declared ``Level.refutes`` and held
    rare for one entity's records by the model (m at most ``REFUTES_MAX_M``)."""
    found = {c.name: [k for k, lv in enumerate(c.levels) if lv.refutes and model.params[c.name][k].m <= REFUTES_MAX_M]
             for c in model.comparisons}
    return {name: ks for name, ks in found.items() if ks}


def disagreements(model: MatchModel) -> pl.Expr:
    """How many of a pair's compared fields disagree: have a level other than their first (over a level frame)."""
    return pl.sum_horizontal([(pl.col(f"lvl__{c.name}") != 0).fill_null(False).cast(pl.Int32)
                              for c in model.comparisons])


def fit_disagreements(model: MatchModel, scored: pl.DataFrame, *, iterations: int = 20,
                      strength: float = 50.0) -> None:
    """Fit how many fields a matching pair gets wrong, beyond what the fields' own m say (``disagreement_weights``).

    The m of each field are fitted as if its errors were independent of the others'. Records are often typed with
    one error each (R RecordLinkage's RLdata: one field per duplicate): a true pair with its names exact then has its
    date wrong far more often, and two fields wrong far less often, than the product of the fields' m says. Over
    the candidate pairs (``scored``: the weights without this adjustment), EM compares the expected matching pairs
    with k fields wrong to the number the fields' m predict for each pair's compared fields; the ratio (blended with
    1 by ``strength`` pseudo-pairs, so a count never seen is not ruled out) is the weight of k, in bits. Only the
    match class is adjusted: for different people the fields are independent, as u assumes.
    """
    comps = [c for c in model.comparisons if scored.get_column(f"lvl__{c.name}").null_count() < scored.height]
    if not comps or scored.height == 0:
        return
    # each comparison's chance to agree (its first level) for a matching pair, by its own m
    agree = {c.name: model.params[c.name][0].m / sum(p.m for p in model.params[c.name]) for c in comps}
    present = pl.concat_str([pl.col(f"lvl__{c.name}").is_not_null().cast(pl.Int8).cast(pl.String) for c in comps])
    frame = scored.select(disagreements(model).alias("k"), present.alias("present"), "weight")
    expected: dict[str, list[float]] = {}  # per set of compared fields: P(k fields wrong | match) by the m alone
    for key in frame.get_column("present").unique().to_list():
        dist = [1.0]
        for c, flag in zip(comps, key, strict=True):
            if flag == "1":
                q = agree[c.name]
                dist = [a * q + b * (1 - q) for a, b in zip([*dist, 0.0], [0.0, *dist], strict=True)]
        expected[key] = dist
    width = max(len(d) for d in expected.values())
    table = pl.DataFrame({"present": list(expected), **{f"f{k}": [d[k] if k < len(d) else 0.0 for d in expected.values()]
                                                       for k in range(width)}})
    frame = frame.join(table, on="present", how="left", maintain_order="left")  # floats are added in row order
    bits = [0.0] * width
    for _ in range(iterations):
        post = frame.select(pl.col("k"), *(pl.col(f"f{k}") for k in range(width)), (1.0 / (1.0 + pl.lit(2.0).pow(
            -(pl.col("weight") + pl.col("k").replace_strict(list(range(width)), bits, return_dtype=pl.Float64))
            .clip(-60, 60)))).alias("p"))
        # sums in row order (numpy), not a group_by's partial sums in whatever order its threads finish
        p = post.get_column("p").to_numpy()
        per_k = np.bincount(post.get_column("k").to_numpy(), weights=p, minlength=width)
        seen = dict(enumerate(per_k.tolist()))
        predicted = [float(np.sum(post.get_column(f"f{k}").to_numpy() * p)) for k in range(width)]
        total = sum(predicted)
        if total <= 0:
            return
        ratio = [_blend(seen.get(k, 0.0), predicted[k], 1.0, strength * predicted[k] / total) if predicted[k] > 0
                 else 1.0 for k in range(width)]
        norm = sum(r * f for r, f in zip(ratio, predicted, strict=True)) / total
        bits = [_clamp(math.log2(max(r / norm, 1e-9))) for r in ratio]
    model.disagreement_weights = bits
    model.trained.append("disagreements:em")


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
                elif not comp.levels[i].tf and comp.levels[i].estimate:
                    # rejected pairs are hard negatives, not random ones: nudge u only gently
                    p.u = max(_blend(counts.get(i, 0), total, p.u, strength * 20), 1e-7)
    if used:
        model.trained.append("labels")
    return used
