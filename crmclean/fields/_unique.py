"""Applying a per-value function once per unique value of a column, optionally over forked processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from crmclean._lazy import polars as pl

_PARALLEL_MIN = 8_000  # below this many uniques a process pool costs more than it saves
# A pool forks this process (its page tables: the larger the table, the longer) and pickles every value both ways:
# at 300,000 records about 0.3 s of CPU and up to a second of wall time. So the first _SAMPLE values are mapped
# here, timed, and the rest goes to the pool only when it would take longer than _POOL_MIN_SECONDS of CPU
# (cleaning 11,000 INNs: 0.07 s here against 0.35 s with the pool; parsing 40,000 company names: 2.5 s).
_SAMPLE = 1_000
_POOL_MIN_SECONDS = 1.0
# One pool at a time: rules run in threads (standardize), and two pools would each fork every core's worth of
# processes, each child inheriting the other pool's pipes; each pool already uses every core.
_POOL_LOCK = threading.Lock()
# The pool a fork_pool block shares (forked when the block starts), how many blocks and calls use it, and their lock
_SHARED: ProcessPoolExecutor | None = None
_SHARED_USERS = 0
_SHARED_LOCK = threading.Lock()


def workers(requested: int | None = None) -> int:
    """How many cores to use: ``requested``, else ``CRMCLEAN_WORKERS``, else the machine's (at most 8)."""
    if requested is not None:
        return max(1, requested)
    env = os.environ.get("CRMCLEAN_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(os.cpu_count() or 1, 8))


_cores = workers  # for the functions below, whose own parameter is called workers


@contextmanager
def fork_pool(values: int) -> Iterator[None]:
    """One process pool for every :func:`map_unique` call in the block, forked here, before the caller starts threads.

    A fork while another thread holds a lock (stderr's, a logger's, an import's) can leave the child hung on it; a
    pool forked when some rule thread first needs one (map_unique outside a block) risks that, one forked here
    before the standardize engine starts its rule threads does not, and is forked once per run instead of once per
    call. ``values``: how many values the block will map at most (the table's rows); under ``_PARALLEL_MIN`` no
    call can use a pool and none is forked. Blocks nest and may run in threads at the same time: they share one
    pool, shut down when the last leaves. Outside a block map_unique forks its own pool as before. Enter it once
    the modules of the functions the block maps are imported: a worker imports what it unpickles (300k records:
    each worker importing the rules cost 0.3 s).
    """
    global _SHARED, _SHARED_USERS
    with _SHARED_LOCK:
        if (_SHARED is None and values >= _PARALLEL_MIN and workers() > 1
                and "fork" in mp.get_all_start_methods()):
            pool = ProcessPoolExecutor(max_workers=workers(), mp_context=mp.get_context("fork"))
            pool.submit(int).result()  # a fork pool forks every worker at its first task: now, not in a rule thread
            _SHARED = pool
        _SHARED_USERS += 1
    try:
        yield
    finally:
        _release()


def _release() -> None:
    global _SHARED, _SHARED_USERS
    with _SHARED_LOCK:
        _SHARED_USERS -= 1
        pool, _SHARED = (_SHARED, None) if _SHARED_USERS == 0 else (None, _SHARED)
    if pool is not None:
        pool.shutdown()


T = TypeVar("T")


def in_threads(calls: Sequence[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Each call's result, in order, the calls run at the same time in threads (one call or one worker: here).

    For independent polars work (polars releases the GIL while it computes: two columns' scans share the
    cores); per-value Python belongs in :func:`map_unique`'s process pool, not here.
    """
    n_workers = min(_cores(workers), len(calls))
    if n_workers <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="crmclean") as pool:
        return list(pool.map(lambda call: call(), calls))


@contextmanager
def _pool(n_workers: int) -> Iterator[ProcessPoolExecutor]:
    """The fork_pool block's pool, held for the call (a block ending meanwhile keeps it); outside a block, a pool
    of the call's own, one at a time."""
    global _SHARED_USERS
    with _SHARED_LOCK:
        shared = _SHARED
        if shared is not None:
            _SHARED_USERS += 1
    if shared is None:
        with _POOL_LOCK, ProcessPoolExecutor(max_workers=n_workers, mp_context=mp.get_context("fork")) as pool:
            yield pool
        return
    try:
        yield shared
    finally:
        _release()


def _apply_chunk(args: tuple[Callable[[str], Any], list[str]]) -> list[Any]:
    fn, chunk = args
    return [fn(v) for v in chunk]


def _picklable(fn: Callable[[str], Any]) -> bool:
    try:
        pickle.dumps(fn)
    except Exception:
        return False
    return True


def _to_series(mapped: list[Any], dtype: pl.DataType | type[pl.DataType] | None) -> pl.Series:
    """``pl.Series(mapped, dtype=dtype, strict=False)``; a struct of dicts is built field by field (the same
    series: polars converts a list of dicts one dict at a time, ~3x slower, holding the GIL)."""
    if not isinstance(dtype, pl.Struct) or not all(type(m) is dict or m is None for m in mapped):
        return pl.Series(mapped, dtype=dtype, strict=False)
    fields = {f.name: pl.Series([None if m is None else m.get(f.name) for m in mapped], dtype=f.dtype, strict=False)
              for f in dtype.fields}
    out = pl.DataFrame(fields, schema=dict(dtype)).to_struct("")
    missing = pl.Series([m is None for m in mapped], dtype=pl.Boolean)
    if missing.any():
        out = out.zip_with(~missing, pl.Series([None] * len(mapped), dtype=dtype))
    return out


def map_unique(
    values: pl.Series,
    fn: Callable[[str], Any],
    return_dtype: pl.DataType | type[pl.DataType] | None = None,
    *,
    parallel: bool = False,
    workers: int | None = None,
) -> pl.Series:
    """Apply ``fn`` once per unique non-null value and broadcast back (nulls stay null).

    This is how slow per-value libraries (phonenumbers, email-validator) are called. With
    ``parallel``, many uniques are spread over forked processes; ``fn`` must then be a picklable
    module-level function that does not touch polars (its thread pool is not fork-safe).
    """
    uniques = values.drop_nulls().unique()
    keys = uniques.to_list()
    n_workers = _cores(workers) if parallel else 1
    if len(keys) >= _PARALLEL_MIN and n_workers > 1 and "fork" in mp.get_all_start_methods() and _picklable(fn):
        # the first value pays the function's one-time loads (pymorphy3's dictionary, compiled patterns): not timed,
        # or it would send cheap work to the pool (NAME003's 15k name tokens at 300k: 0.3 s here, 0.8 s pooled)
        mapped = [fn(keys[0])]
        started = time.thread_time()  # this thread's: the engine may run other rules in threads meanwhile
        mapped += [fn(v) for v in keys[1:_SAMPLE]]
        rest = keys[_SAMPLE:]
        if (time.thread_time() - started) / (_SAMPLE - 1) * len(rest) < _POOL_MIN_SECONDS:
            mapped += [fn(v) for v in rest]  # cheap per value: forking would cost more than the work
        else:
            size = (len(rest) + n_workers - 1) // n_workers
            chunks = [rest[i : i + size] for i in range(0, len(rest), size)]
            with _pool(n_workers) as pool:
                mapped += [v for part in pool.map(_apply_chunk, [(fn, c) for c in chunks]) for v in part]
    else:
        mapped = [fn(v) for v in keys]
    lookup = pl.DataFrame({"__key": uniques, "__val": _to_series(mapped, return_dtype)})
    out = (
        pl.DataFrame({"__key": values})
        .join(lookup, on="__key", how="left", maintain_order="left")
        .get_column("__val")
    )
    return out.alias(values.name)
