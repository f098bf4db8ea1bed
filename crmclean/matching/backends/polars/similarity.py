"""String similarity for candidate pairs: each metric computed once per unique pair of values, in C.

rapidfuzz scores millions of pairs on every core (``cpdist``); equal strings never reach the
scorer, and few distinct pairs (cities, titles, company names) are scored once and joined back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

try:  # numpy lets rapidfuzz score millions of pairs in C on every core; without it we loop per unique pair
    import numpy as _np
    from rapidfuzz.process import cpdist as _cpdist
except ImportError:  # pragma: no cover - numpy is a dependency; the fallback keeps matching usable without it
    _np = None  # type: ignore[assignment]
    _cpdist = None  # type: ignore[assignment]


# score each distinct pair once only where they are under this share of the pairs to score: at 300k contacts (400k
# pairs a chunk) Jaro-Winkler of surnames (48 % distinct) took 0.31 s through the distinct pairs and 0.11 s directly,
# of first names (18 %) 0.08 s vs 0.21 s, of cities (1 %) 0.03 s vs 0.09 s
DEDUPE_SHARE = 0.3


def similarity(a: pl.Series, b: pl.Series, scorer: Callable[..., float], *, scale: float = 1.0,
               exact_value: float | None = 1.0) -> pl.Series:
    """scorer(a[i], b[i]) / scale for every row; null where either side is null.

    Equal strings get ``exact_value`` without calling the scorer (most candidate pairs agree exactly).
    """
    n = len(a)
    both = a.is_not_null() & b.is_not_null()
    todo = both & (a != b) if exact_value is not None else both
    idx = todo.arg_true()
    out = pl.repeat(None, n, dtype=pl.Float64, eager=True)
    if exact_value is not None:
        out = pl.DataFrame({"s": out, "e": both & (a == b)}).select(
            pl.when(pl.col("e")).then(pl.lit(exact_value)).otherwise(pl.col("s"))).to_series()
    if len(idx) == 0:
        return out.alias("sim")
    sub = pl.DataFrame({"a": a.gather(idx), "b": b.gather(idx)})
    uniq = sub
    # distinct pairs are at least as many as either side's distinct values: when those are already a fair share
    # of the pairs, listing the distinct pairs (and joining the scores back) costs more than it saves
    if len(idx) > 1000 and max(sub.get_column("a").n_unique(), sub.get_column("b").n_unique()) < (
            DEDUPE_SHARE * sub.height):
        uniq = sub.unique()
    if uniq.height < DEDUPE_SHARE * sub.height:
        # few distinct pairs (cities, titles, company names): score each once and join back
        scored = similarity(uniq.get_column("a"), uniq.get_column("b"), scorer, scale=scale, exact_value=None)
        values = sub.join(uniq.with_columns(scored.alias("v")), on=["a", "b"], how="left",
                          maintain_order="left").get_column("v")
        return out.scatter(idx, values).alias("sim")
    scores = _score(sub.get_column("a").to_list(), sub.get_column("b").to_list(), scorer)
    if scale != 1.0:
        scores = scores / scale
    return out.scatter(idx, scores).alias("sim")


def _score(left: list[str], right: list[str], scorer: Callable[..., float]) -> pl.Series:
    """scorer(left[i], right[i]) for every i (Float64), in C on every core where numpy is installed."""
    if _cpdist is not None:
        # every core for a chunk's pairs; a few hundred (score_missing) are scored before a pool of threads starts
        workers = -1 if len(left) >= 5_000 else 1
        return pl.Series("v", _cpdist(left, right, scorer=scorer, workers=workers)).cast(pl.Float64)
    cache: dict[tuple[str, str], float] = {}
    values = []
    for x, y in zip(left, right, strict=True):
        key = (x, y)
        v = cache.get(key)
        if v is None:
            v = cache[key] = float(scorer(x, y))
        values.append(v)
    return pl.Series("v", values, dtype=pl.Float64)


# metric name (library.conditions) -> (scorer, divided by, value of two equal strings)
SCORERS: dict[str, tuple[Callable[..., float], float, float]] = {
    "jaro_winkler": (JaroWinkler.normalized_similarity, 1.0, 1.0),
    "token_set": (fuzz.token_set_ratio, 100.0, 1.0),
    "levenshtein": (Levenshtein.distance, 1.0, 0.0),
}


_MEMO_LOCK = threading.Lock()
# the memo is read when the distinct pairs asked are at least 1/MEMO_READ_SHARE of it (a look-up probes every memo row)
MEMO_READ_SHARE = 16


def per_value_pair(a: pl.Series, b: pl.Series, values: pl.Series, name: str, memo: dict[str, pl.DataFrame],
                   fn: Callable[[pl.Series, pl.Series], pl.Series], dtype: pl.DataType,
                   rows: pl.Series | None = None) -> pl.Series:
    """``fn(left values, right values)`` per row of two UInt32 code columns into ``values`` (a dictionary of distinct
    strings), computed once per distinct pair of codes — and once per run: ``memo`` (per dictionary, by ``name``)
    keeps what earlier chunks computed. Only ``rows`` (default: both sides present) are computed; the rest are null.
    """
    if rows is None:
        rows = (a.is_not_null() & b.is_not_null()).arg_true()
    out = pl.repeat(None, len(a), dtype=dtype, eager=True)
    if len(rows) == 0:
        return out
    key = (a.gather(rows).cast(pl.UInt64) * (1 << 32) + b.gather(rows).cast(pl.UInt64)).alias("k")
    distinct = key.unique()
    known = memo.get(name)
    here = pl.DataFrame({"k": [], "v": []}, schema={"k": pl.UInt64, "v": dtype})
    # reading the memo costs a pass over all of it: worth it for a chunk's many pairs, not for a few (clustering's
    # score_missing asks a few hundred pairs against a memo of the whole run's): those are computed afresh (the same
    # values) and not added to it
    shared = known is None or len(distinct) * MEMO_READ_SHARE >= known.height
    if known is not None and shared:
        here = known.filter(pl.col("k").is_in(distinct.implode()))
        distinct = distinct.filter(~distinct.is_in(here.get_column("k").implode()))
    if len(distinct):
        left = values.gather((distinct // (1 << 32)).cast(pl.UInt32))
        right = values.gather((distinct % (1 << 32)).cast(pl.UInt32))
        done = pl.DataFrame({"k": distinct, "v": fn(left, right).cast(dtype)})
        if not shared:
            return out.scatter(rows, key.replace_strict(done.get_column("k"), done.get_column("v"), return_dtype=dtype))
        with _MEMO_LOCK:  # chunks compared side by side (compare.compute_levels) add to one memo
            now = memo.get(name)
            new = done
            if now is not None and now is not known:  # another chunk added pairs meanwhile: each kept once
                new = done.filter(~pl.col("k").is_in(now.get_column("k").implode()))
            memo[name] = new if now is None else pl.concat([now, new])
        here = pl.concat([here, done])
    return out.scatter(rows, key.replace_strict(here.get_column("k"), here.get_column("v"), return_dtype=dtype))


def coded_similarity(a: pl.Series, b: pl.Series, values: pl.Series, metric: str,
                     memo: dict[str, pl.DataFrame]) -> pl.Series:
    """``metric`` per row of two code columns (:func:`per_value_pair`), as :func:`similarity` of the decoded strings:
    null where a side is null, equal codes the metric's value of equal strings, every other pair scored."""
    scorer, scale, exact_value = SCORERS[metric]
    both = a.is_not_null() & b.is_not_null()
    out = pl.DataFrame({"e": both & (a == b)}).select(
        pl.when(pl.col("e")).then(pl.lit(exact_value, dtype=pl.Float64)).otherwise(None)).to_series()
    idx = (both & (a != b)).fill_null(False).arg_true()
    if len(idx) == 0:
        return out.alias("sim")

    def score(left: pl.Series, right: pl.Series) -> pl.Series:
        scores = _score(left.to_list(), right.to_list(), scorer)
        return scores / scale if scale != 1.0 else scores

    hit = per_value_pair(a, b, values, metric, memo, score, pl.Float64(), idx).gather(idx)
    return out.scatter(idx, hit).alias("sim")


_JW_CACHE: dict[tuple[int, int], tuple[pl.Series, pl.Series, pl.Series]] = {}


def jaro_winkler(a: pl.Series, b: pl.Series) -> pl.Series:
    """Jaro-Winkler similarity per row; the last few results are memoized by Series identity (swap alignment
    and the name comparisons ask for the same pairs)."""
    key = (id(a), id(b))
    hit = _JW_CACHE.get(key)
    if hit is not None and hit[0] is a and hit[1] is b:
        return hit[2]
    result = similarity(a, b, JaroWinkler.normalized_similarity)
    if len(_JW_CACHE) > 16:
        _JW_CACHE.clear()
    _JW_CACHE[key] = (a, b, result)
    return result


def token_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    """Word-order- and subset-tolerant similarity in [0, 1] ('summit partners' ~ 'the summit partners')."""
    return similarity(a, b, fuzz.token_set_ratio, scale=100.0)


def edit_distance(a: pl.Series, b: pl.Series) -> pl.Series:
    return similarity(a, b, Levenshtein.distance, exact_value=0.0)


# metric name (library.conditions) -> the column-wise function computing it
METRICS: dict[str, Callable[[pl.Series, pl.Series], pl.Series]] = {
    "jaro_winkler": jaro_winkler,
    "token_set": token_similarity,
    "levenshtein": edit_distance,
}
