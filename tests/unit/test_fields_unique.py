"""map_unique: the same values whether the work stays in this process or goes to the process pool."""

from __future__ import annotations

import polars as pl
import pytest

from crmclean.fields import _unique


def _shout(value: str) -> str:
    return value.upper() + "!"


VALUES = pl.Series("v", [f"x{i % 700}" for i in range(2_000)] + [None, "x1"], dtype=pl.String)
EXPECTED = [None if v is None else v.upper() + "!" for v in VALUES.to_list()]


@pytest.mark.parametrize("pool_min_seconds", [0.0, 1e9], ids=["pool", "here"])
def test_map_unique_same_values_in_the_pool_and_here(monkeypatch: pytest.MonkeyPatch, pool_min_seconds: float) -> None:
    # few uniques and a tiny sample: 0 s sends the rest to the pool, 1e9 s keeps it here (the cheap-work path)
    monkeypatch.setattr(_unique, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(_unique, "_SAMPLE", 50)
    monkeypatch.setattr(_unique, "_POOL_MIN_SECONDS", pool_min_seconds)
    out = _unique.map_unique(VALUES, _shout, pl.String, parallel=True, workers=2)
    assert out.name == "v"
    assert out.to_list() == EXPECTED


def test_map_unique_serial() -> None:
    assert _unique.map_unique(VALUES, _shout, pl.String).to_list() == EXPECTED
