"""Blocking: which record pairs get compared at all, so a million records never become 10^12 comparisons.

A :class:`BlockingKey` names feature columns whose joint value puts records in one block
(every email; every phone; surname sound + canonical given name ...). Pairs inside a block
become candidates; the union over all keys is compared. A block larger than
``max_block_size`` (an office switchboard shared by 300 colleagues, a very common name) is
split by the key's ``refine`` columns one after another (phone → phone + surname initial →
phone + surname sound); what is still too big is dropped for that key and counted, never
compared all-pairs blindly. Statistics per key are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from crmclean.matching.features import IDX

_HIGH = 1 << 32  # pair code = l * _HIGH + r


@dataclass(frozen=True)
class BlockingKey:
    """One blocking rule: records agreeing on every column in ``columns`` share a block."""

    name: str
    columns: tuple[str, ...]
    refine: tuple[str, ...] = ()  # columns added one at a time to split oversized blocks
    min_length: int = 1  # shortest key value that may form a block (a 2-letter surname sound is too loose)
    max_block_size: int | None = None  # None: the engine's default
    sorted_pair: bool = False  # key = the two columns' values sorted (swapped first/last names)
    either_side: str | None = None  # keep only pairs where this boolean feature is true on one side at least
    description: str = ""


@dataclass
class BlockingStats:
    """What one key did: how many blocks, how big, how many pairs, what was split or dropped."""

    key: str
    records: int = 0  # records that have a value for this key
    blocks: int = 0  # blocks of two or more records that were compared
    largest_block: int = 0  # largest block actually compared (after splitting)
    pairs: int = 0  # candidate pairs this key produced (before the union with other keys)
    oversized_blocks: int = 0  # blocks over the size limit before splitting
    split_blocks: int = 0  # oversized blocks split into compared sub-blocks
    dropped_blocks: int = 0  # (sub-)blocks still over the limit after every refinement: not compared
    dropped_records: int = 0

    def as_dict(self) -> dict[str, int | str]:
        return dict(self.__dict__)


@dataclass
class CandidatePairs:
    """The union of candidate pairs (``l`` < ``r`` row positions) and per-key statistics."""

    pairs: pl.DataFrame
    stats: list[BlockingStats] = field(default_factory=list)
    total_possible: int = 0  # n(n-1)/2 (or n_source * n_other when linking)

    @property
    def reduction_ratio(self) -> float:
        return 1.0 - self.pairs.height / self.total_possible if self.total_possible else 0.0


def contacts_blocking_keys() -> list[BlockingKey]:
    """Default keys for people: exact contact points first, then name and organization keys.

    Size limits are per key: a personal phone or mailbox is shared by a handful of records of
    one person, so a bigger block is a switchboard or a generic mailbox name and gets split by
    surname; name keys tolerate more (common names), organization keys less.
    """
    return [
        BlockingKey("email", ("emails",), refine=("ln_ph", "fn_canon"), min_length=5, max_block_size=50,
                    description="the same email address"),
        BlockingKey("phone", ("phones",), refine=("ln_ph", "fn_canon"), min_length=7, max_block_size=12,
                    description="the same phone number (a switchboard is split by surname)"),
        BlockingKey("email_local", ("email_local",), refine=("ln_ph",), min_length=4, max_block_size=12,
                    description="the same mailbox name at any domain (ivan.petrov@ at work and at gmail)"),
        BlockingKey("name", ("fn_canon_ph", "ln_ph"), sorted_pair=True, refine=("mi", "company_ph", "city"),
                    min_length=2, max_block_size=12,
                    description="surname sound + canonical given name sound, in either order "
                                "(Iwanow Sascha ~ Иванов Александр ~ Александр Иванов)"),
        BlockingKey("surname_initial", ("ln", "fi"), refine=("mi", "company_ph", "city"), min_length=3,
                    max_block_size=12, either_side="fn_is_initial",
                    description="exact surname + first initial, when one side has only the initial "
                                "(Иванов И.И. ~ Иванов Иван)"),
        BlockingKey("company_name", ("company_key", "fn_canon"), refine=("li",), min_length=2, max_block_size=8,
                    description="company + given name (a surname typo at the same company)"),
        BlockingKey("inn_initial", ("inn", "li"), refine=("fi", "ln_ph"), min_length=10, max_block_size=15,
                    description="company INN + surname initial"),
        BlockingKey("domain_name", ("org_domain", "fn_canon"), refine=("li",), min_length=4, max_block_size=15,
                    description="corporate email domain + given name (gmail.com is never a key)"),
    ]


def companies_blocking_keys() -> list[BlockingKey]:
    """Default keys for companies/accounts."""
    return [
        BlockingKey("inn", ("inn",), min_length=10, description="the same INN"),
        BlockingKey("company", ("company_key",), refine=("city",), min_length=2, description="the same name key"),
        BlockingKey("company_prefix_city", ("company_ph", "city"), refine=("company_key",), min_length=3,
                    description="first word of the name + city"),
        BlockingKey("domain", ("domain",), min_length=4, description="the same website / email domain"),
        BlockingKey("phone", ("phones",), refine=("company_ph",), min_length=7, description="the same phone"),
        BlockingKey("email", ("emails",), min_length=5, description="the same email"),
    ]


def generic_blocking_key(name: str, columns: Sequence[str], refine: Sequence[str] = ()) -> BlockingKey:
    return BlockingKey(name, tuple(columns), refine=tuple(refine), description="from the rules file")


def _key_frame(features: pl.DataFrame, key: BlockingKey) -> pl.DataFrame:
    """(IDX, key) rows: one per record and key value (list columns exploded), short values dropped."""
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
        .select(IDX, expr.alias("key"))
        .unique()
    )


def _pairs_within(blocks: pl.DataFrame, boundary: int | None) -> pl.DataFrame:
    """All pairs inside each block (``blocks``: IDX, block id); in link mode only source × other pairs."""
    right = blocks.rename({IDX: "r"})
    joined = blocks.rename({IDX: "l"}).join(right, on="block")
    if boundary is None:
        joined = joined.filter(pl.col("l") < pl.col("r"))
    else:
        joined = joined.filter((pl.col("l") < boundary) & (pl.col("r") >= boundary))
    return joined.select("l", "r")


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
    all_pairs: list[pl.DataFrame] = []
    stats: list[BlockingStats] = []
    for key in keys:
        limit = key.max_block_size or max_block_size
        st = BlockingStats(key.name)
        kf = _key_frame(features, key)
        st.records = kf.get_column(IDX).n_unique() if kf.height else 0
        kf = kf.with_columns(pl.col("key").hash(seed=17).alias("block")).select(IDX, "block")
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
                st.dropped_blocks += big.height
                st.dropped_records += in_big.height
                break
            col = refinements.pop(0)
            refined = in_big.join(features.select(IDX, pl.col(col).cast(pl.String).fill_null("")), on=IDX)
            pending = refined.with_columns(
                pl.concat_str([pl.col("block").cast(pl.String), pl.col(col)], separator="\x1f")
                .hash(seed=17).alias("block")
            ).select(IDX, "block")
            st.split_blocks += big.height
        if compared:
            pairs = _pairs_within(pl.concat(compared), link_boundary)
            if key.either_side and key.either_side in features.columns:
                flag = features.get_column(key.either_side)
                pairs = pairs.filter(flag.gather(pairs.get_column("l")) | flag.gather(pairs.get_column("r")))
            st.pairs = pairs.height
            all_pairs.append(pairs)
        stats.append(st)
    if all_pairs:
        # one UInt64 per pair (l in the high half): deduplicating and sorting one integer column is far
        # cheaper than two, and the keys of a record's pairs overlap a lot (email, phone and name agree)
        code = pl.concat([
            p.select((pl.col("l").cast(pl.UInt64) * _HIGH + pl.col("r").cast(pl.UInt64)).alias("k"))
            for p in all_pairs
        ]).get_column("k").unique().sort()
        union = pl.DataFrame({"l": code // _HIGH, "r": code % _HIGH})
    else:
        union = pl.DataFrame({"l": pl.Series([], dtype=pl.UInt32), "r": pl.Series([], dtype=pl.UInt32)})
    if link_boundary is None:
        total = n * (n - 1) // 2
    else:
        total = link_boundary * (n - link_boundary)
    return CandidatePairs(union.select(pl.col("l").cast(pl.UInt32), pl.col("r").cast(pl.UInt32)), stats, total)
