"""map_unique: the same values whether the work stays in this process or goes to the process pool."""

from __future__ import annotations

import time

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


_WARMED: list[bool] = []


def _slow_first(value: str) -> str:
    if not _WARMED:  # a one-time load (a dictionary, compiled patterns) on the first call only
        _WARMED.append(True)
        t = time.process_time()
        while time.process_time() - t < 0.05:
            pass
    return value.upper() + "!"


def test_map_unique_first_call_load_is_not_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    # timed with the first call, 0.05 s over a 50-value sample predicts 0.65 s for the other 650: pool
    monkeypatch.setattr(_unique, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(_unique, "_SAMPLE", 50)
    monkeypatch.setattr(_unique, "_POOL_MIN_SECONDS", 0.25)

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("cheap work sent to the process pool")

    monkeypatch.setattr(_unique, "ProcessPoolExecutor", no_pool)
    _WARMED.clear()
    out = _unique.map_unique(VALUES, _slow_first, pl.String, parallel=True, workers=2)
    assert out.to_list() == EXPECTED


def test_in_threads_keeps_the_calls_order_and_raises() -> None:
    calls = [lambda i=i: (time.sleep(0.01 * (3 - i)), i)[1] for i in range(4)]  # the first finishes last
    assert _unique.in_threads(calls, workers=4) == [0, 1, 2, 3]
    assert _unique.in_threads(calls, workers=1) == [0, 1, 2, 3]

    def boom() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _unique.in_threads([*calls, boom], workers=2)


def _contacts() -> object:
    from crmclean.table import finalize_table
    from crmclean.testing.generate import generate_contacts

    frame, _ = generate_contacts(60, seed=7)
    return finalize_table(frame, source="c.csv", kind="csv", id_column="Id", object_type="contacts")


def _outputs(result: object) -> list[pl.DataFrame]:
    return [result.table.frame, result.changes, result.findings, result.derived,  # type: ignore[attr-defined]
            result.stats.drop("seconds")]  # type: ignore[attr-defined]


def test_standardize_forks_one_pool_per_run_before_its_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # every parallel map_unique of the rules (companies, titles, countries, names) sends its values to the pool: they
    # share the one the engine forked in the main thread before the rule threads started; the results are the same
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from crmclean.config import parse_rules
    from crmclean.profile import build_profile
    from crmclean.standardize import standardize_table

    table = _contacts()
    rules = parse_rules("standardize:\n  select: [COMPANY001, TITLE001, COUNTRY001, NAME003]\n")
    monkeypatch.setenv("CRMCLEAN_WORKERS", "1")
    alone = standardize_table(table, rules)  # type: ignore[arg-type]
    monkeypatch.setenv("CRMCLEAN_WORKERS", "2")
    monkeypatch.setattr(_unique, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(_unique, "_SAMPLE", 5)
    monkeypatch.setattr(_unique, "_POOL_MIN_SECONDS", 0.0)
    created: list[str] = []
    maps: list[str] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            created.append(threading.current_thread().name)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

        def map(self, fn, *iterables, **kwargs):  # type: ignore[no-untyped-def,override]
            maps.append(threading.current_thread().name)
            return super().map(fn, *iterables, **kwargs)

    monkeypatch.setattr(_unique, "ProcessPoolExecutor", Counted)
    pooled = standardize_table(table, rules)  # type: ignore[arg-type]
    assert created == ["MainThread"] and len(maps) >= 2  # one pool, used by several calls
    assert _unique._SHARED is None  # shut down at the end of the run
    for x, y in zip(_outputs(alone), _outputs(pooled), strict=True):
        assert x.columns == y.columns and x.equals(y, null_equal=True)
    created.clear()
    build_profile(table, rules)
    assert created == ["MainThread"]  # the profile's pool, shared by its standardization


def test_fork_pool_blocks_nest_and_small_tables_fork_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMCLEAN_WORKERS", "2")
    with _unique.fork_pool(_unique._PARALLEL_MIN - 1):
        assert _unique._SHARED is None
    with _unique.fork_pool(_unique._PARALLEL_MIN):
        pool = _unique._SHARED
        assert pool is not None
        with _unique.fork_pool(10**6):
            assert _unique._SHARED is pool
        assert _unique._SHARED is pool
    assert _unique._SHARED is None and _unique._SHARED_USERS == 0
    monkeypatch.setenv("CRMCLEAN_WORKERS", "1")
    with _unique.fork_pool(10**6):
        assert _unique._SHARED is None
