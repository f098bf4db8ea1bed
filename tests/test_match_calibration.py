"""The calibration maps (issue 13): isotonic in the match weight, monotone, strictly inside (0, 1)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.matching.calibration import (
    APART,
    MAPS,
    CalibrationMap,
    calibrated,
    fit_isotonic,
    fit_platt,
)

FITTED = [*MAPS.values(), *APART.values()]
WEIGHTS = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50)


def _monotone_inside(m: CalibrationMap, weights: list[float]) -> None:
    w = np.sort(np.asarray([*weights, -1e9, -60.0, 0.0, 60.0, 1e9, *(x for x, _ in m.knots)]))
    p = m(w)
    assert np.all(np.diff(p) >= 0)
    assert np.all((p > 0) & (p < 1))


@settings(max_examples=25, deadline=None)
@given(WEIGHTS)
def test_fitted_maps_are_monotone_and_inside_0_1(weights: list[float]) -> None:
    assert set(MAPS) >= {"people", "companies"}
    for m in FITTED:
        _monotone_inside(m, weights)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-40, 40, allow_nan=False), st.booleans()), min_size=1, max_size=300),
       st.integers(1, 60), WEIGHTS)
def test_any_fit_is_monotone_and_inside_0_1(data: list[tuple[float, bool]], min_block: int,
                                            weights: list[float]) -> None:
    x, y = [w for w, _ in data], [h for _, h in data]
    knots = fit_isotonic(x, y, min_block)
    assert len(knots) <= len(data) // min_block + 3
    _monotone_inside(CalibrationMap(knots, (max(fit_platt(x, y)[0], 0.1), 0.0)), weights)


def test_pool_adjacent_violators() -> None:
    # a violator (a miss above a hit) is pooled with its neighbour; blocks keep their mean weight
    knots = fit_isotonic([1.0, 2.0, 3.0, 4.0], [False, True, False, True], min_block=1)
    assert knots == ((1.0, 0.25), (2.5, 0.5), (4.0, 0.75))
    # blocks are merged up to min_block pairs; no knot is 0 or 1; the end blocks' rates held out to the data's ends
    knots = fit_isotonic(np.arange(10.0), [False] * 5 + [True] * 5, min_block=5)
    low, high = round(0.5 / 6, 6), round(5.5 / 6, 6)
    assert knots == ((0.0, low), (2.0, low), (7.0, high), (9.0, high))


def test_inside_the_knots_linear_outside_logistic() -> None:
    m = CalibrationMap(((0.0, 0.2), (10.0, 0.8)), (1.0, 0.0))
    assert m([5.0])[0] == pytest.approx(0.5)
    # one bit past the last knot multiplies its odds by 2 (slope 1)
    assert m([11.0])[0] == pytest.approx(8 / 9)
    assert m([-1.0])[0] == pytest.approx(1 / 9)
    for bad in (((1.0, 0.2), (0.0, 0.8)), ((0.0, 0.8), (1.0, 0.2)), ((0.0, 0.0),), ((0.0, 1.0),), ()):
        with pytest.raises(ValueError):
            CalibrationMap(bad, (1.0, 0.0))
    with pytest.raises(ValueError):
        CalibrationMap(((0.0, 0.5),), (0.0, 0.0))


def test_expression_matches_the_map_and_keeps_nulls() -> None:
    frame = pl.DataFrame({"w": [-8.0, 0.0, None, 3.5, 40.0]})
    got = frame.select(calibrated(pl.col("w"), "people")).to_series()
    assert got[2] is None
    want = MAPS["people"]([-8.0, 0.0, 3.5, 40.0])
    assert np.allclose(got.drop_nulls().to_numpy(), want)


def test_platt_does_not_diverge_on_widely_spread_weights() -> None:
    # the clusters' weights span -120..50 bits with true rates 0.26 / 0.5 / 0.75: the full Newton step from the
    # start overshot and diverged (slope ~1e12); the maximum-likelihood slope is small and positive
    rng = np.random.default_rng(1)
    w = np.concatenate([rng.uniform(-120, -10, 150), rng.uniform(-10, 10, 120), rng.uniform(10, 50, 150)])
    y = np.concatenate([rng.random(150) < 0.26, rng.random(120) < 0.5, rng.random(150) < 0.75])
    a, b = fit_platt(w, y)
    assert 0 < a < 0.2 and abs(b) < 1
