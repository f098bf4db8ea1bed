"""Per-run memo of column-wise results and the parallel per-unique mapper the fields modules share.

Pure helpers below the rules: several rules (and profile) read the same column through
fields/ (the phone filler mask, the cleaned e-mail addresses); the memo keeps a few recent
results so they are computed once per run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from crmclean._lazy import polars as pl
from crmclean.fields._unique import map_unique


def map_unique_fast(
    values: pl.Series,
    fn: Callable[[str], Any],
    return_dtype: pl.DataType | type[pl.DataType] | None = None,
    *,
    workers: int | None = None,
) -> pl.Series:
    """:func:`crmclean.fields._unique.map_unique` with many uniques spread over processes."""
    return map_unique(values, fn, return_dtype, parallel=True, workers=workers)


_MEMO: dict[Any, tuple[pl.Series, Any]] = {}
_MEMO_SLOTS = 6
_MEMO_LOCK = threading.Lock()


def memo_on_values(key: Any, values: pl.Series, compute: Callable[[pl.Series], Any]) -> Any:
    """``compute(values)``, reused while later calls under ``key`` see equal values.

    Several rules in a row read the same column (PLACEHOLDER001 then PHONE001 the phone
    filler mask; EMAIL004/005/006 the cleaned addresses): comparing 1,000,000 values costs
    milliseconds, recomputing costs a second. Only a few recent results are kept.
    """
    hit = _MEMO.get(key)
    if hit is not None and hit[0].dtype == values.dtype and len(hit[0]) == len(values) and hit[0].equals(values):
        return hit[1]
    result = compute(values)
    with _MEMO_LOCK:  # runs in threads (jobs) may share the memo; a stale entry only costs a recompute
        _MEMO.pop(key, None)
        while len(_MEMO) >= _MEMO_SLOTS:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = (values, result)
    return result


def clear_memo() -> None:
    """Forget :func:`memo_on_values` results (the engine does at the start and end of a run, freeing the columns)."""
    with _MEMO_LOCK:
        _MEMO.clear()
