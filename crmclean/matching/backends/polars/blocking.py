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
    the key text's hash, taken before the duplicates are dropped (one integer column to deduplicate, not a text)."""
    frame = features.select(IDX, *key.columns)
    for col in key.columns:
        if frame.schema[col] == pl.List(pl.String):
            frame = frame.explode(col)
    frame = frame.drop_nulls(list(key.columns))
    cols = [pl.col(c).cast(pl.String) for c in key.columns]
    if key.sorted_pair and len(cols) == 2:
        a, b = cols
        expr = pl.when(a <= b).then(pl.concat_str([a, b], separator="\x1f")).otherwise(
            pl.concat_str([b, a], separator="\x1f"))
        length = pl.min_horizontal(a.str.len_chars(), b.str.len_chars())
    else:
        expr = pl.concat_str(cols, separator="\x1f")
        length = cols[0].str.len_chars()
    return (
        frame.filter(length >= key.min_length)
        .select(IDX, expr.hash(seed=17).alias("block"))
        .unique()
    )


def _windows(in_big: pl.DataFrame, features: pl.DataFrame, key: BlockingKey) -> list[pl.DataFrame]:
    """Sub-blocks of ``key.window`` records (two overlapping tilings) of each oversized block sorted by name.

    Every record meets its ``window - 1`` nearest neighbours in the sort order on either side at most,
    so the pairs grow linearly with the block instead of quadratically.
    """
    w = key.window
    sort_cols = [c for c in key.window_sort if c in features.columns]
    frame = in_big
    if sort_cols:
        frame = frame.join(features.select(IDX, *(pl.col(c).cast(pl.String) for c in sort_cols)), on=IDX, how="left")
    frame = frame.sort(["block", *sort_cols, IDX], nulls_last=True).with_columns(
        pl.int_range(0, pl.len(), dtype=pl.Int64).over("block").alias("_rank"))
    out = []
    for shift, tag in ((0, "a"), (w // 2, "b")):
        out.append(frame.select(
            IDX,
            pl.concat_str([pl.col("block").cast(pl.String), pl.lit(tag),
                           ((pl.col("_rank") + shift) // w).cast(pl.String)], separator="\x1f")
            .hash(seed=17).alias("block"),
        ))
    return out


def _refined(in_big: pl.DataFrame, features: pl.DataFrame, refine: str | tuple[str, ...]) -> pl.DataFrame:
    """(IDX, block) of oversized blocks split by one refinement.

    A column: records stay together when they agree on it (a missing value is a value of its own). Several
    columns (``("ln_ph", "fn_canon_ph")``): a record joins one sub-block per value it has in any of them, so two
    records stay together when they share a value in any, across the columns too (a surname typo keeps the given
    name, swapped names share both); a record with none of them keeps a sub-block of its own kind.
    """
    if isinstance(refine, str):
        refined = in_big.join(features.select(IDX, pl.col(refine).cast(pl.String).fill_null("").alias("_v")), on=IDX)
    else:
        members = in_big.select(IDX).unique()
        rows = features.select(IDX, *refine).join(members, on=IDX, how="semi")
        values = pl.concat([rows.select(IDX, pl.col(c).cast(pl.String).alias("_v")) for c in refine]) \
            .drop_nulls("_v").unique()
        # a record with none of the columns keeps a sub-block of its own kind, as a missing value does above
        values = pl.concat([values, members.join(values, on=IDX, how="anti").with_columns(pl.lit("").alias("_v"))])
        refined = in_big.join(values, on=IDX)
    return refined.with_columns(
        pl.concat_str([pl.col("block").cast(pl.String), pl.col("_v")], separator="\x1f").hash(seed=17).alias("block")
    ).select(IDX, "block")


def _pairs_within(blocks: pl.DataFrame, boundary: int | None) -> pl.DataFrame:
    """All pairs inside each block (``blocks``: IDX, block id); in link mode only source × other pairs.

    Deduplicating: the rows sorted by block and record, each record paired with the later members of its block by
    index arithmetic (as the self-join filtered to l < r gives them, without building the k² rows it filters)."""
    if boundary is None:
        return _later_pairs(blocks)
    joined = blocks.rename({IDX: "l"}).join(blocks.rename({IDX: "r"}), on="block")
    return joined.filter((pl.col("l") < boundary) & (pl.col("r") >= boundary)).select("l", "r")


def _later_pairs(blocks: pl.DataFrame) -> pl.DataFrame:
    """(l, r) with l < r for every two rows of one block (a record twice in a block pairs with itself: dropped)."""
    rows = blocks.sort("block", IDX)
    block = rows.get_column("block").to_numpy()
    idx = rows.get_column(IDX).to_numpy()
    n = len(idx)
    if n < 2:
        return pl.DataFrame({"l": idx[:0], "r": idx[:0]}, schema={"l": blocks.schema[IDX], "r": blocks.schema[IDX]})
    start = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    size = np.diff(np.r_[start, n])
    later = np.repeat(start + size, size) - np.arange(n) - 1  # members after each row in its block
    left = np.repeat(np.arange(n), later)
    right = left + 1 + (np.arange(len(left)) - np.repeat(np.cumsum(later) - later, later))
    lo, hi = idx[left], idx[right]
    keep = lo < hi
    return pl.DataFrame({"l": lo[keep], "r": hi[keep]}, schema={"l": blocks.schema[IDX], "r": blocks.schema[IDX]})


def _key_pairs(features: pl.DataFrame, key: BlockingKey, limit: int,
               link_boundary: int | None) -> tuple[BlockingStats, pl.DataFrame | None]:
    """One key's statistics and candidate pairs as codes (column ``k``: l in the high half; None without pairs):
    blocks of at most ``limit`` records, bigger ones refined, then windowed or dropped."""
    st = BlockingStats(key.name)
    kf = _key_frame(features, key)
    st.records = kf.get_column(IDX).n_unique() if kf.height else 0
    pending = kf
    refinements = list(key.refine)
    compared: list[pl.DataFrame] = []
    first_round = True
    while pending.height:
        sizes = pending.group_by("block").len()
        if link_boundary is not None:
            # a block is worth comparing only when it holds records of both sides
            sides = pending.with_columns((pl.col(IDX) < link_boundary).alias("src")).group_by("block").agg(
                pl.col("src").any().alias("has_src"), (~pl.col("src")).any().alias("has_other"))
            sizes = sizes.join(sides, on="block").filter(pl.col("has_src") & pl.col("has_other")).drop(
                "has_src", "has_other")
        sizes = sizes.filter(pl.col("len") >= 2)
        ok = sizes.filter(pl.col("len") <= limit)
        big = sizes.filter(pl.col("len") > limit)
        if ok.height:
            compared.append(pending.join(ok.select("block"), on="block"))
            st.blocks += ok.height
            st.largest_block = max(st.largest_block, int(ok.get_column("len").cast(pl.Int64).max() or 0))  # type: ignore[arg-type]
        if first_round:
            st.oversized_blocks = big.height
            first_round = False
        if not big.height:
            break
        in_big = pending.join(big.select("block"), on="block")
        if not refinements:
            if key.window >= 2:
                # still too big after every refinement: compared as a sorted neighbourhood (each record
                # against its nearest neighbours by name), never dropped
                compared.extend(_windows(in_big, features, key))
                st.windowed_blocks += big.height
                st.windowed_records += in_big.height
            else:
                st.dropped_blocks += big.height
                st.dropped_records += in_big.height
            break
        pending = _refined(in_big, features, refinements.pop(0))
        st.split_blocks += big.height
    if not compared:
        return st, None
    pairs = _pairs_within(pl.concat(compared), link_boundary)
    if key.either_side and key.either_side in features.columns:
        flag = features.get_column(key.either_side)
        pairs = pairs.filter(flag.gather(pairs.get_column("l")) | flag.gather(pairs.get_column("r")))
    st.pairs = pairs.height
    # one UInt64 per pair (l in the high half): deduplicating and sorting one integer column is far
    # cheaper than two, and the keys of a record's pairs overlap a lot (email, phone and name agree)
    return st, pairs.select((pl.col("l").cast(pl.UInt64) * _HIGH + pl.col("r").cast(pl.UInt64)).alias("k"))


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
    if all_pairs:
        code = pl.concat(all_pairs).get_column("k").unique().sort()
        union = pl.DataFrame({"l": code // _HIGH, "r": code % _HIGH})
    else:
        union = pl.DataFrame({"l": pl.Series([], dtype=pl.UInt32), "r": pl.Series([], dtype=pl.UInt32)})
    if link_boundary is None:
        total = n * (n - 1) // 2
    else:
        total = link_boundary * (n - link_boundary)
    return CandidatePairs(union.select(pl.col("l").cast(pl.UInt32), pl.col("r").cast(pl.UInt32)), stats, total,
                          key_codes)
