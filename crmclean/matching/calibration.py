"""Calibrated scores (issue 13): the match weight mapped to how often such a pair is really the same record.

The model's probability is over-confident in the middle (pairs it scores 0.8 are true about half the time on
held-out data), because the per-field evidence is not independent, and how far off it is depends on the weight in
a way no two-parameter curve follows (a logistic in the weight — Platt — missed companies' 0.3–0.5 band by +0.14).
So the map is **monotone and otherwise free**: isotonic regression of "is a true pair" on the match weight (pool
adjacent violators, :func:`fit_isotonic`), its blocks merged until each holds at least ``MIN_BLOCK`` pairs (a
block's rate then has a sampling error of at most ±0.035), one knot per block at (its mean weight, its smoothed
true-match rate), interpolated linearly between knots, the first and last block's rate held out to the data's
lowest and highest weight, and beyond the data a logistic tail whose slope is the Platt slope of the same data, so the map is continuous, non-decreasing and strictly inside
(0, 1) for every weight (:class:`CalibrationMap`).

The knots are fitted per object type on the generator's labelled data at many tuning seeds pooled (never the
held-out seeds 7, 101, 202, 303, 404) by ``benchmarks/bench_dedupe_calibration.py --fit`` (the command and seeds
are in the comment above the tables) and checked on held-out seeds by the same script. The weight the map reads is
the model's match weight as it is, prior included: at one evidence the true-match rate is the same at 5,000 and at
20,000 records (the prior falls by 2 bits between them, and so do the false candidates' odds), whereas the evidence
without the prior, or the weight moved by ``MatchModel.size_shift``, would not be — so one map serves every size.

``--pairs`` carries it as ``calibrated_score`` beside the model's ``score``. The match threshold applies to
``score``; the review threshold to the calibrated score of a pair the clustering left apart (``APART``, fitted on
the tuning pairs that did not end in one cluster; ``dedupe.thresholds.review_on``), so "review" means at least the
threshold's odds of a true match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl

MIN_BLOCK = 200  # pairs per isotonic block at least: a block's rate has a sampling error of at most ±0.035
_LOGIT_BOUND = 30.0  # |logit| at most this: 1 / (1 + e^30) ≈ 1e-13, so a probability is never 0 or 1 in float64


@dataclass(frozen=True)
class CalibrationMap:
    """A monotone map from match weight (bits) to the probability that the pair is a true match.

    ``knots``: (weight, probability) with weights increasing and probabilities non-decreasing inside (0, 1),
    interpolated linearly; beyond the first / last knot the map is logistic in the weight with the slope of
    ``platt`` through that knot. ``platt``: (a, b) of the logistic p = sigmoid(a · w · ln 2 + b) fitted on the same
    pairs (:func:`fit_platt`): its ``a`` is the tails' slope; the whole logistic is kept only so that the benchmark
    can show it beside the map on held-out data (:func:`platt_probability`).
    """

    knots: tuple[tuple[float, float], ...]
    platt: tuple[float, float]

    @property
    def slope(self) -> float:
        return self.platt[0]

    def __post_init__(self) -> None:
        xs = [x for x, _ in self.knots]
        ps = [p for _, p in self.knots]
        if not xs or any(b <= a for a, b in pairwise(xs)) or any(b < a for a, b in pairwise(ps)) \
                or not all(0 < p < 1 for p in ps) or self.slope <= 0:
            raise ValueError("calibration knots must have increasing weights, non-decreasing probabilities in "
                             "(0, 1) and a positive tail slope")

    def __call__(self, weights: np.ndarray | Sequence[float]) -> np.ndarray:
        w = np.clip(np.asarray(weights, dtype=np.float64), -200.0, 200.0)
        xs = np.array([x for x, _ in self.knots])
        ps = np.array([p for _, p in self.knots])
        k = self.slope * math.log(2)
        below = math.log(ps[0] / (1 - ps[0])) + k * (w - xs[0])
        above = math.log(ps[-1] / (1 - ps[-1])) + k * (w - xs[-1])
        tail = 1.0 / (1.0 + np.exp(-np.clip(np.where(w < xs[0], below, above), -_LOGIT_BOUND, _LOGIT_BOUND)))
        # the logit's round trip can land a hair past the end knot's probability: held to it, so the tails join
        # the knots without a step back (a weight just above the last knot scored 1e-17 below the knot itself)
        tail = np.where(w < xs[0], np.minimum(tail, ps[0]), np.maximum(tail, ps[-1]))
        return np.where((w < xs[0]) | (w > xs[-1]), tail, np.interp(w, xs, ps))

    def expr(self, weight: pl.Expr) -> pl.Expr:
        """The map over a polars expression of weights (a null or NaN weight gives null)."""
        return weight.cast(pl.Float64).map_batches(
            lambda s: pl.Series(s.name, self(s.to_numpy())), return_dtype=pl.Float64).fill_nan(None)


def fit_isotonic(weights: Sequence[float] | np.ndarray, truth: Sequence[bool] | np.ndarray,
                 min_block: int = MIN_BLOCK) -> tuple[tuple[float, float], ...]:
    """Knots (block mean weight, smoothed true-match rate) of the isotonic fit of ``truth`` on ``weights``.

    Pool adjacent violators over the distinct weights, then adjacent blocks merged until each holds ``min_block``
    pairs (merging neighbours of a non-decreasing fit keeps it non-decreasing). A block's rate is smoothed as
    (hits + 0.5) / (pairs + 1), so no knot is 0 or 1. Two more knots hold the first and the last block's rate out
    to the lowest and the highest weight of the data.
    """
    x = np.asarray(weights, dtype=np.float64)
    y = np.asarray(truth, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no pairs to fit")
    values, inverse = np.unique(x, return_inverse=True)
    counts = np.bincount(inverse).astype(np.float64)
    hits = np.bincount(inverse, weights=y)
    sums = np.bincount(inverse, weights=x)
    blocks: list[list[float]] = []  # [hits, pairs, sum of weights, lowest weight, highest weight]
    for h, c, s, v in zip(hits.tolist(), counts.tolist(), sums.tolist(), values.tolist(), strict=True):
        blocks.append([h, c, s, v, v])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] >= blocks[-1][0] * blocks[-2][1]:
            last = blocks.pop()
            blocks[-1] = _pooled(blocks[-1], last)
    merged: list[list[float]] = []
    for block in blocks:
        if merged and merged[-1][1] < min_block:
            merged[-1] = _pooled(merged[-1], block)
        else:
            merged.append(block)
    if len(merged) > 1 and merged[-1][1] < min_block:
        last = merged.pop()
        merged[-1] = _pooled(merged[-1], last)
    knots: list[tuple[float, float]] = []
    for h, c, s, _, _ in merged:
        p = (h + 0.5) / (c + 1.0)
        knots.append((round(s / c, 3), max(round(p, 6), knots[-1][1] if knots else 0.0)))
    # the first and last blocks hold their rate out to the data's ends (the fit knows nothing of a rise inside a
    # block); the logistic tails start beyond the data
    knots = [(round(merged[0][3], 3), knots[0][1]), *knots, (round(merged[-1][4], 3), knots[-1][1])]
    # rounding may bring two centres together or a probability to 0 / 1: keep the map's invariants
    out: list[tuple[float, float]] = []
    for x_k, p_k in knots:
        p_k = min(max(p_k, 1e-6), 1 - 1e-6)
        if out and x_k <= out[-1][0]:
            continue
        out.append((x_k, p_k))
    return tuple(out)


def platt_probability(weights: np.ndarray | Sequence[float], platt: tuple[float, float]) -> np.ndarray:
    """The logistic (Platt) probability of match weights: sigmoid(a · w · ln 2 + b)."""
    a, b = platt
    z = a * np.clip(np.asarray(weights, dtype=np.float64), -60.0, 60.0) * math.log(2) + b
    return 1.0 / (1.0 + np.exp(-z))


def _pooled(a: list[float], b: list[float]) -> list[float]:
    """Two adjacent blocks as one: hits, pairs and weight sums added, the lower one's lowest weight, the upper
    one's highest."""
    return [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3], b[4]]


def fit_platt(weights: Sequence[float], truth: Sequence[bool], iterations: int = 50) -> tuple[float, float]:
    """(a, b) maximizing the likelihood of ``truth`` under p = sigmoid(a · w · ln 2 + b) (Newton's method, each
    step halved until the likelihood does not fall: a full step from the start overshoots where the weights are
    spread wide, e.g. the clusters' weights, and diverged); ``a`` is the slope of a map's logistic tails."""
    x = np.clip(np.asarray(weights, dtype=np.float64), -30.0, 30.0) * math.log(2)
    y = np.asarray(truth, dtype=np.float64)

    def likelihood(a: float, b: float) -> float:
        z = a * x + b
        return float((y * z - np.logaddexp(0.0, z)).sum())

    a, b = 0.5, 0.0
    current = likelihood(a, b)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * x + b, -700.0, 700.0)))
        g0, g1 = float(((p - y) * x).sum()), float((p - y).sum())
        s = p * (1 - p)
        h00, h01, h11 = float((s * x * x).sum()) + 1e-9, float((s * x).sum()), float(s.sum()) + 1e-9
        det = h00 * h11 - h01 * h01
        if det == 0:
            break
        da, db = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        t = 1.0
        while t > 1e-6 and likelihood(a - t * da, b - t * db) < current:
            t /= 2
        if t <= 1e-6:
            break
        a, b = a - t * da, b - t * db
        current = likelihood(a, b)
    return round(a, 4), round(b, 4)


# ---- fitted tables: generated by benchmarks/bench_dedupe_calibration.py --fit (see there for the command)
# FITTED-BEGIN
# python benchmarks/bench_dedupe_calibration.py --fit --kinds contacts,companies --seeds 3,4,5,6,8,9,10,11,12,13
# tuning seeds pooled; contacts at 5000, 20000 records; companies at 5000 records
# isotonic blocks of at least 200 pairs
MAPS: dict[str, CalibrationMap] = {}
APART: dict[str, CalibrationMap] = {}
MAPS["people"] = CalibrationMap((  # 107854 pairs
        (-10.72, 0.029203),
        (-5.752, 0.029203),
        (-4.608, 0.04892),
        (-4.207, 0.049738),
        (-3.654, 0.065822),
        (-3.265, 0.06776),
        (-2.864, 0.087807),
        (-2.475, 0.117577),
        (-2.037, 0.135798),
        (-1.602, 0.144841),
        (-1.439, 0.190141),
        (-1.123, 0.204309),
        (-0.778, 0.243644),
        (-0.421, 0.278727),
        (0.107, 0.33815),
        (0.602, 0.405707),
        (1.123, 0.467366),
        (1.624, 0.558091),
        (2.003, 0.612275),
        (2.41, 0.668582),
        (2.776, 0.724359),
        (3.121, 0.781863),
        (3.442, 0.823661),
        (3.94, 0.889228),
        (4.479, 0.911667),
        (4.939, 0.928414),
        (5.671, 0.958112),
        (6.235, 0.976708),
        (6.525, 0.979567),
        (6.893, 0.982702),
        (7.295, 0.984452),
        (7.782, 0.986549),
        (9.666, 0.993066),
        (11.258, 0.995366),
        (12.148, 0.995798),
        (12.972, 0.996189),
        (13.662, 0.998244),
        (14.585, 0.998497),
        (16.721, 0.999202),
        (27.422, 0.999991),
        (54.65, 0.999991),
    ), platt=(0.8176, -0.5708))
APART["people"] = CalibrationMap((  # 21080 pairs
        (-6.63, 0.008115),
        (-6.564, 0.008115),
        (-6.324, 0.014721),
        (-5.557, 0.01792),
        (-4.851, 0.019172),
        (-4.739, 0.021028),
        (-4.589, 0.02591),
        (-4.391, 0.034958),
        (-4.12, 0.035444),
        (-3.866, 0.038776),
        (-3.555, 0.041222),
        (-3.201, 0.04417),
        (-3.048, 0.051255),
        (-2.898, 0.052326),
        (-2.698, 0.053191),
        (-2.064, 0.084448),
        (-1.193, 0.134337),
        (-0.513, 0.186364),
        (0.113, 0.232892),
        (0.677, 0.3041),
        (1.218, 0.354772),
        (1.72, 0.429329),
        (2.285, 0.522654),
        (4.683, 0.576782),
        (27.56, 0.576782),
    ), platt=(0.6675, -1.3552))
MAPS["companies"] = CalibrationMap((  # 25623 pairs
        (-6.63, 0.011013),
        (-6.603, 0.011013),
        (-6.277, 0.014643),
        (-5.411, 0.01586),
        (-4.489, 0.049427),
        (-4.184, 0.063549),
        (-3.587, 0.083051),
        (-2.739, 0.123632),
        (-1.756, 0.251843),
        (-0.147, 0.433239),
        (2.483, 0.725564),
        (3.71, 0.899533),
        (5.976, 0.957275),
        (8.048, 0.981027),
        (12.495, 0.994529),
        (15.811, 0.994553),
        (22.875, 0.996355),
        (31.686, 0.9973),
        (40.362, 0.999863),
        (61.27, 0.999863),
    ), platt=(0.7032, -0.5866))
APART["companies"] = CalibrationMap((  # 8829 pairs
        (-6.63, 0.011013),
        (-6.603, 0.011013),
        (-6.277, 0.014643),
        (-5.412, 0.015229),
        (-4.495, 0.039552),
        (-4.189, 0.058486),
        (-3.587, 0.07151),
        (-2.734, 0.094104),
        (-1.699, 0.1743),
        (-0.023, 0.358844),
        (2.621, 0.63255),
        (16.284, 0.778571),
        (54.2, 0.778571),
    ), platt=(0.5026, -1.3512))
# FITTED-END


def calibration_map(object_type: str, *, apart: bool = False) -> CalibrationMap:
    """The map for ``object_type`` ("people" for any person file, "companies"; another type reads the people's);
    ``apart``: for a pair the clustering left apart, where the type has one (else the map over all pairs)."""
    key = object_type if object_type in MAPS else "people"
    return APART[key] if apart and key in APART else MAPS[key]


def calibrated(weight: pl.Expr, object_type: str, *, apart: bool = False) -> pl.Expr:
    """The calibrated probability of a match weight (bits) for ``object_type``; ``apart``: of a pair the
    clustering left apart (``APART``)."""
    return calibration_map(object_type, apart=apart).expr(weight)


__all__ = ["APART", "MAPS", "MIN_BLOCK", "CalibrationMap", "calibrated", "calibration_map", "fit_isotonic",
           "fit_platt", "platt_probability"]
