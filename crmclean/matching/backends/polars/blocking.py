"""Blocking in polars: key frames, hashed blocks, refinement of oversized blocks, pairs within blocks.

Executes the :class:`~crmclean.matching.library.BlockingKey` declarations; see
``crmclean.matching.library.blocking`` for what the keys mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import polars as pl

from crmclean.fields._unique import in_threads
from crmclean.matching.backend import BlockingStats, CandidatePairs
from crmclean.matching.features import IDX
from crmclean.matching.library import BlockingKey

_HIGH = 1 << 32  # pair code = l * _HIGH + r


def _key_frame(features: pl.DataFrame, key: BlockingKey) -> pl.DataFrame:
    """(IDX, block) rows: one per record and key value (list columns exploded), short values dropped; the block id is
    the hash of the key's values (a struct of them: no joined text to build), taken before the duplicates are dropped
    (one integer column to deduplicate, not a text). Only a record whose list holds several values can repeat a block:
    those rows alone are deduplicated (a scalar key has one row per record)."""
    frame = features.select(IDX, *key.columns)
    lists = [col for col in key.columns if frame.schema[col] == pl.List(pl.String)]
    several = None
    if lists:
        several = pl.any_horizontal([pl.col(col).list.len() > 1 for col in lists]).fill_null(False).alias("_several")
        frame = frame.with_columns(several)
    for col in lists:
        frame = frame.explode(col)
    frame = frame.drop_nulls(list(key.columns))
    cols = [pl.col(c).cast(pl.String) for c in key.columns]
    if key.sorted_pair and len(cols) == 2:
        a, b = cols
        expr = pl.struct(pl.min_horizontal(a, b).alias("a"), pl.max_horizontal(a, b).alias("b"))
        length = pl.min_horizontal(a.str.len_chars(), b.str.len_chars())
    else:
        expr = pl.struct(cols)
        length = cols[0].str.len_chars()
    frame = frame.filter(length >= key.min_length).select(IDX, expr.hash(seed=17).alias("block"),
                                                           *([pl.col("_several")] if several is not None else []))
    if several is None:
        return frame
    return pl.concat([frame.filter(~pl.col("_several")).drop("_several"),
                      frame.filter(pl.col("_several")).drop("_several").unique()])


def _windows(in_big: pl.DataFrame, features: pl.DataFrame, key: BlockingKey) -> list[pl.DataFrame]:
    """Sub-blocks of ``key.window`` records (two overlapping tilings) of each oversized block sorted by name.

    Every record meets its ``window - 1`` nearest neighbours in the sort order on either side at most,
    so the pairs grow linearly with the block instead of quadratically. (A record's features are its row: IDX is the
    row position, so they are gathered, not joined.)
    """
    w = key.window
    sort_cols = [c for c in key.window_sort if c in features.columns]
    idx = in_big.get_column(IDX)
    frame = in_big.with_columns(features.get_column(c).cast(pl.String).gather(idx) for c in sort_cols)
    frame = frame.sort(["block", *sort_cols, IDX], nulls_last=True).with_columns(
        pl.int_range(0, pl.len(), dtype=pl.Int64).over("block").alias("_rank"))
    out = []
    for shift, tag in ((0, 0), (w // 2, 1)):
        out.append(frame.select(
            IDX,
            pl.struct("block", pl.lit(tag, dtype=pl.Int64).alias("_tag"), ((pl.col("_rank") + shift) // w))
            .hash(seed=17).alias("block"),
        ))
    return out


def _refined(in_big: pl.DataFrame, features: pl.DataFrame, refine: str | tuple[str, ...]) -> pl.DataFrame:
    """(IDX, block) of oversized blocks split by one refinement.

    A column: records stay together when they agree on it (a missing value is a value of its own). Several
    columns (``("ln_ph", "fn_canon_ph")``): a record joins one sub-block per value it has in any of them, so two
    records stay together when they share a value in any, across the columns too (a surname typo keeps the given
    name, swapped names share both); a record with none of them keeps a sub-block of its own kind. (A record's
    features are its row, IDX its position: gathered, not joined.)
    """
    if isinstance(refine, str):
        value = features.get_column(refine).cast(pl.String).fill_null("").gather(in_big.get_column(IDX))
        refined = in_big.with_columns(value.alias("_v"))
    else:
        members = in_big.get_column(IDX).unique()
        values = pl.concat([pl.DataFrame({IDX: members, "_v": features.get_column(c).cast(pl.String).gather(members)})
                            for c in refine]).drop_nulls("_v").unique()
        # a record with none of the columns keeps a sub-block of its own kind, as a missing value does above
        none = members.filter(~members.is_in(values.get_column(IDX).implode()))
        values = pl.concat([values, pl.DataFrame({IDX: none, "_v": pl.repeat("", len(none), eager=True)})])
        refined = in_big.join(values, on=IDX)
    return refined.select(IDX, pl.struct("block", "_v").hash(seed=17).alias("block"))


def _pairs_within(blocks: pl.DataFrame, boundary: int | None) -> pl.DataFrame:
    """All pairs inside each block (``blocks``: IDX, block id); in link mode only source × other pairs.

    Deduplicating: the rows sorted by block, each record paired with the later members of its block by index
    arithmetic (as the self-join filtered to l < r gives them, without building the k² rows it filters)."""
    if boundary is None:
        return _later_pairs(blocks)
    joined = blocks.rename({IDX: "l"}).join(blocks.rename({IDX: "r"}), on="block")
    return joined.filter((pl.col("l") < boundary) & (pl.col("r") >= boundary)).select("l", "r")


def _later_pairs(blocks: pl.DataFrame) -> pl.DataFrame:
    """(l, r) with l < r for every two rows of one block (a record twice in a block pairs with itself: dropped)."""
    rows = blocks.sort("block")
    block = rows.get_column("block").to_numpy()
    start, size = _runs(block)
    lo, hi = _sorted_pairs(rows.get_column(IDX).to_numpy(), start, size)
    return pl.DataFrame({"l": lo, "r": hi}, schema={"l": blocks.schema[IDX], "r": blocks.schema[IDX]})


def _runs(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each run of equal values of a sorted array."""
    n = len(block)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    return start, np.diff(np.r_[start, n])


def _sorted_pairs(idx: np.ndarray, start: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(smaller, larger) record of every two rows of one block, the blocks being the runs ``start``/``size`` of
    ``idx`` (rows outside every run are skipped); a record twice in a block does not pair with itself."""
    keep = size >= 2
    start, size = start[keep], size[keep]
    rows = np.repeat(start, size) + (np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size))
    ends = np.repeat(start + size, size)
    later = ends - rows - 1  # members after each row in its block
    left = np.repeat(rows, later)
    right = left + 1 + (np.arange(len(left)) - np.repeat(np.cumsum(later) - later, later))
    a, b = idx[left], idx[right]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    differ = lo != hi
    return lo[differ], hi[differ]


def _key_pairs(features: pl.DataFrame, key: BlockingKey, limit: int,
               link_boundary: int | None) -> tuple[BlockingStats, pl.DataFrame | None]:
    """One key's statistics and candidate pairs as codes (column ``k``: l in the high half; None without pairs):
    blocks of at most ``limit`` records, bigger ones refined, then windowed or dropped.

    Each round sorts its rows by block once: the blocks are runs, their sizes run lengths, and the pairs of the blocks
    kept are read off the sorted rows (no group-by and joins per round, no second sort)."""
    st = BlockingStats(key.name)
    kf = _key_frame(features, key)
    st.records = kf.get_column(IDX).n_unique() if kf.height else 0
    pending = kf
    refinements = list(key.refine)
    found: list[tuple[np.ndarray, np.ndarray]] = []  # (l, r) of the blocks kept (dedupe)
    compared: list[pl.DataFrame] = []  # rows of the blocks kept (link) and of the windows
    first_round = True
    while pending.height:
        rows = pending.sort("block")
        idx = rows.get_column(IDX).to_numpy()
        start, length = _runs(rows.get_column("block").to_numpy())
        size = length
        if link_boundary is not None:
            # a block is worth comparing only when it holds records of both sides
            src = (idx < link_boundary).astype(np.int64)
            has_src = np.add.reduceat(src, start) > 0
            has_other = np.add.reduceat(1 - src, start) > 0
            size = np.where(has_src & has_other, size, 0)
        ok = (size >= 2) & (size <= limit)
        big = size > limit
        n_big = int(big.sum())
        if ok.any():
            st.blocks += int(ok.sum())
            st.largest_block = max(st.largest_block, int(size[ok].max()))
            if link_boundary is None:
                found.append(_sorted_pairs(idx, start[ok], size[ok]))
            else:
                compared.append(rows.filter(pl.Series(np.repeat(ok, length))))
        if first_round:
            st.oversized_blocks = n_big
            first_round = False
        if not n_big:
            break
        in_big = rows.filter(pl.Series(np.repeat(big, length)))
        if not refinements:
            if key.window >= 2:
                # still too big after every refinement: compared as a sorted neighbourhood (each record
                # against its nearest neighbours by name), never dropped
                compared.extend(_windows(in_big, features, key))
                st.windowed_blocks += n_big
                st.windowed_records += in_big.height
            else:
                st.dropped_blocks += n_big
                st.dropped_records += in_big.height
            break
        pending = _refined(in_big, features, refinements.pop(0))
        st.split_blocks += n_big
    if compared:
        pairs = _pairs_within(pl.concat(compared), link_boundary)
        found.append((pairs.get_column("l").to_numpy(), pairs.get_column("r").to_numpy()))
    if not found:
        return st, None
    lo = np.concatenate([f[0] for f in found]).astype(np.uint64)
    hi = np.concatenate([f[1] for f in found]).astype(np.uint64)
    if key.either_side and key.either_side in features.columns:
        flag = features.get_column(key.either_side).fill_null(False).to_numpy()
        either = flag[lo] | flag[hi]
        lo, hi = lo[either], hi[either]
    st.pairs = len(lo)
    # one UInt64 per pair (l in the high half): deduplicating and sorting one integer column is far
    # cheaper than two, and the keys of a record's pairs overlap a lot (email, phone and name agree)
    return st, pl.DataFrame({"k": (lo << np.uint64(32)) | hi})


def block_pairs(
    features: pl.DataFrame,
    keys: Sequence[BlockingKey],
    *,
    max_block_size: int = 200,
    link_boundary: int | None = None,
) -> CandidatePairs:
    """Candidate pairs from every key, oversized blocks split or dropped, with statistics.

    ``link_boundary``: when linking, rows ``< boundary`` are the source and the rest the
    other file; only source × other pairs are produced.
    """
    n = features.height
    # the keys are independent (each a few dozen polars steps, mostly on one core): side by side, results in key order
    per_key = in_threads([partial(_key_pairs, features, key, key.max_block_size or max_block_size, link_boundary)
                          for key in keys])
    all_pairs: list[pl.DataFrame] = []
    key_codes: dict[str, pl.Series] = {}
    stats: list[BlockingStats] = []
    for key, (st, codes) in zip(keys, per_key, strict=True):
        if codes is not None:
            key_codes[key.name] = pl.concat([key_codes[key.name], codes.get_column("k")]) \
                if key.name in key_codes else codes.get_column("k")
            all_pairs.append(codes)
        stats.append(st)
    code = np.sort(pl.concat(all_pairs).get_column("k").to_numpy()) if all_pairs else np.zeros(0, dtype=np.uint64)
    code = code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code  # sorted, each pair once
    union = pl.DataFrame({"l": (code >> np.uint64(32)).astype(np.uint32),
                          "r": (code & np.uint64(_HIGH - 1)).astype(np.uint32)})
    if link_boundary is None:
        total = n * (n - 1) // 2
    else:
        total = link_boundary * (n - link_boundary)
    return CandidatePairs(union, stats, total, key_codes)
