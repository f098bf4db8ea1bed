"""Comparison levels in polars: renders the conditions of ``crmclean.matching.library`` over pair chunks.

For each comparison the first level whose condition holds gives the level code (Int8); the
comparison's ``null_when`` makes it null (neutral). Every metric (Jaro-Winkler of a column,
token similarity, edit distance), shared-list intersection and condition is computed once per
chunk and reused by every level and comparison that names it. Term-frequency u comes from the
comparison's (or level's) ``TfSource``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import polars as pl

from crmclean.fields._unique import in_threads, workers
from crmclean.matching.backends.polars.similarity import METRICS, coded_similarity, per_value_pair
from crmclean.matching.backends.polars.view import Encoding, PairView, TermFrequencies, per_record
from crmclean.matching.library import (
    NAME_SWAP,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Else,
    Exact,
    Fuzzy,
    MinLength,
    Missing,
    NameSwap,
    Not,
    Predicate,
    Shares,
    TfDistinct,
    TfLeft,
    TfShared,
    TfSource,
)
from crmclean.matching.library.conditions import DISTANCE_METRICS, columns_of
from crmclean.matching.translit import is_initial_key

CHUNK_PAIRS = 400_000  # pairs compared at once: bounds memory (gathered strings) on millions of candidates
COMPARE_THREADS = 2  # chunks compared side by side (compute_levels; each more holds one more chunk in memory)


def _levels_from(conditions: Sequence[pl.Series], missing: pl.Series) -> pl.Series:
    """First true condition's index as the level code; null where a side is missing."""
    frame = pl.DataFrame({f"c{i}": c.fill_null(False) for i, c in enumerate(conditions)} | {"missing": missing})
    expr: Any = pl.lit(len(conditions), dtype=pl.Int8)  # the last level ("different")
    for i in range(len(conditions) - 1, -1, -1):
        expr = pl.when(pl.col(f"c{i}")).then(pl.lit(i, dtype=pl.Int8)).otherwise(expr)
    expr = pl.when(pl.col("missing")).then(pl.lit(None, dtype=pl.Int8)).otherwise(expr)
    return frame.select(expr.alias("level")).to_series()


def pair_metric(view: PairView, left: str, right: str, metric: str, rows: pl.Series | None = None) -> pl.Series:
    """``metric`` of the left side's ``left`` against the right side's ``right`` on every pair (or on ``rows``):
    once per distinct pair of values where the two columns share a dictionary, else on the values."""
    a, b = view.code(left, "l"), view.code(right, "r")
    enc = view.encoding
    if a is None or b is None or enc.values[left] is not enc.values[right]:
        a, b = view.left(left), view.right(right)
        return METRICS[metric](a, b) if rows is None else METRICS[metric](a.gather(rows), b.gather(rows))
    if rows is not None:
        a, b = a.gather(rows), b.gather(rows)
    return coded_similarity(a, b, enc.values[left], metric, enc.memo[left])


def align_swapped_names(view: PairView, swap_decl: NameSwap = NAME_SWAP) -> pl.Series:
    """Swap the right side's first/last name where that agrees better (Иванов Иван vs Иван Иванов).

    Returns the boolean 'swapped' flag per pair; the view's right-side name columns are exchanged.
    """
    f, la = swap_decl.first, swap_decl.last
    (fl, fr), (ll, lr) = view.comparable(f), view.comparable(la)
    swap = pl.repeat(False, len(view), dtype=pl.Boolean, eager=True)
    # only pairs with all four parts and some disagreement can be swapped
    # a swap is only plausible when a first letter crosses over (Иван Петров / Петров Иван)
    initial = lambda values: values.str.slice(0, 1)  # noqa: E731
    ifl, ifr = view.derived(f, "l", "initial", initial), view.derived(f, "r", "initial", initial)
    ill, ilr = view.derived(la, "l", "initial", initial), view.derived(la, "r", "initial", initial)
    maybe = (fl.is_not_null() & ll.is_not_null() & fr.is_not_null() & lr.is_not_null()
             & ((fl != fr) | (ll != lr)) & ((ifl == ilr) | (ill == ifr))).fill_null(False)
    idx = maybe.arg_true()
    if len(idx) == 0:
        return swap
    straight = (pair_metric(view, f, f, "jaro_winkler", idx).fill_null(0)
                + pair_metric(view, la, la, "jaro_winkler", idx).fill_null(0))
    crossed = (pair_metric(view, f, la, "jaro_winkler", idx).fill_null(0)
               + pair_metric(view, la, f, "jaro_winkler", idx).fill_null(0))
    swap = swap.scatter(idx, crossed > straight + swap_decl.margin)
    swapped = swap.arg_true()
    if len(swapped) == 0:
        return swap
    for a_col, b_col in swap_decl.swap_columns:
        # only the swapped pairs' values move (a few thousand of a chunk's pairs)
        view.swap(a_col, b_col, "r", swapped)
    return swap


def _fuzzy_hit(cond: Fuzzy, value: pl.Series) -> pl.Series:
    """A similarity (or distance) against the condition's threshold; false where a side is missing."""
    hit = value <= cond.threshold if cond.metric in DISTANCE_METRICS else value >= cond.threshold
    return hit.fill_null(False)


class ChunkEvaluator:
    """Renders conditions over one chunk of pairs; metrics, intersections and conditions are memoized."""

    def __init__(self, view: PairView, tf: TermFrequencies, swapped: pl.Series | None = None) -> None:
        self.view = view
        self.tf = tf
        self.swapped = swapped
        self._memo: dict[Any, pl.Series] = {}

    def _cached(self, key: Any, fn: Callable[[], pl.Series]) -> pl.Series:
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = fn()
        return hit

    def metric(self, column: str, metric: str) -> pl.Series:
        return self._cached(("metric", column, metric), lambda: self._metric_at(column, metric, None))

    def _metric_at(self, column: str, metric: str, rows: pl.Series | None) -> pl.Series:
        return pair_metric(self.view, column, column, metric, rows)

    def by_values(self, column: str, name: str, fn: Callable[[pl.Series, pl.Series], pl.Series]) -> pl.Series:
        """``fn(left values, right values)`` of one column, once per distinct pair of values (false where a side is
        missing)."""
        view = self.view
        a, b = view.code(column, "l"), view.code(column, "r")
        if a is None or b is None:
            return fn(view.left(column), view.right(column)).fill_null(False)
        enc = view.encoding
        return per_value_pair(a, b, enc.values[column], f"predicate {name} of {column}", enc.memo[column], fn,
                              pl.Boolean()).fill_null(False)

    def shared(self, column: str) -> pl.Series:
        return self._cached(("shared", column),
                            lambda: self.view.left(column).list.set_intersection(self.view.right(column)))

    def hits(self, column: str) -> list[pl.Series] | None:
        """Per left slot of a slotted list column (:class:`Encoding`): its element is among the right side's."""
        left, right = self.view.slots(column, "l"), self.view.slots(column, "r")
        if left is None or right is None:
            return None

        def compute() -> pl.Series:
            return pl.select(pl.any_horizontal([pl.lit((a == b).fill_null(False)) for b in right]).alias(f"h{i}")
                             for i, a in enumerate(left)).to_struct("h")
        hits = self._cached(("hits", column), compute)
        return [hits.struct.field(f"h{i}") for i in range(len(left))]

    def shares(self, column: str) -> pl.Series:
        hits = self.hits(column)
        if hits is None:
            return (self.shared(column).list.len() > 0).fill_null(False)
        return pl.select(pl.any_horizontal(hits)).to_series()

    def first_shared(self, column: str) -> pl.Series:
        """The pair's most specific shared value: the rarest in the file where two or more are shared (an office
        line and a mobile: the mobile says the person, the switchboard only the organization)."""
        def compute() -> pl.Series:
            code = self.first_shared_code(column)
            if code is not None:
                return self.view.encoding.values[column].gather(code)
            shared = self.shared(column)
            first = shared.list.first()
            several = (shared.list.len() >= 2).fill_null(False).arg_true()
            if len(several) == 0:
                return first
            values = shared.gather(several).to_frame("v").with_row_index("i").explode("v")
            counts = self.tf.table(column).select(pl.col("value").alias("v"), "count")
            rarest = (values.join(counts, on="v", how="left", maintain_order="left")
                      .sort(["i", "count"], nulls_last=True, maintain_order=True)
                      .group_by("i", maintain_order=True).agg(pl.col("v").first()).sort("i").get_column("v"))
            return first.scatter(several, rarest)
        return self._cached(("first_shared", column), compute)

    def first_shared_code(self, column: str) -> pl.Series | None:
        """:meth:`first_shared` as a code of a slotted list column (None where the column is kept as lists)."""
        hits = self.hits(column)
        if hits is None:
            return None
        return self._cached(("first_shared_code", column), lambda: self._first_shared_slots(column, hits))

    def shared_value(self, column: str, name: str, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
        """``fn`` (of values) of the pair's :meth:`first_shared` value: once per distinct value where it is coded."""
        code = self.first_shared_code(column)
        if code is None:
            return fn(self.first_shared(column))
        return self.view.encoding.derived(column, name, fn).gather(code)

    def _first_shared_slots(self, column: str, hits: list[pl.Series]) -> pl.Series:
        """:meth:`first_shared` from slots: the first shared slot in list order, the one of fewest holders (the
        earliest of equals) where several are shared."""
        view = self.view
        slots = view.slots(column, "l")
        assert slots is not None
        def holders(v: pl.Series) -> pl.Series:
            counts = self.tf.code_counts(column, v)  # by code where v is the column's dictionary, else by text
            if counts is not None:
                return counts.replace(0, 1 << 40)
            return v.to_frame("value").join(self.tf.table(column).select("value", "count"), on="value", how="left",
                                            maintain_order="left").get_column("count").cast(pl.Int64).fill_null(1 << 40)
        count = view.encoding.derived(column, "count", holders)
        best = pl.repeat(None, len(view), dtype=pl.UInt32, eager=True)
        best_count = pl.repeat(None, len(view), dtype=pl.Int64, eager=True)
        for code, hit in zip(slots, hits, strict=True):
            c = count.gather(code)
            take = hit & (best.is_null() | (c < best_count)).fill_null(False)
            best = best.zip_with(~take, code)
            best_count = best_count.zip_with(~take, c)
        return best

    def condition(self, cond: Condition) -> pl.Series:
        """Boolean per pair, null-free (a value missing on a side makes a leaf false)."""
        return self._cached(cond, lambda: self._render(cond))

    def _render(self, cond: Condition) -> pl.Series:
        view = self.view
        if isinstance(cond, Exact):
            a, b = view.comparable(cond.column)
            return (a == b).fill_null(False)
        if isinstance(cond, Fuzzy):
            return _fuzzy_hit(cond, self.metric(cond.column, cond.metric))
        if isinstance(cond, Missing):
            slots = view.slots(cond.column, "l"), view.slots(cond.column, "r")
            if slots[0] is not None and slots[1] is not None:
                return slots[0][0].is_null() | slots[1][0].is_null()  # slot 0 is empty only for an empty list
            a, b = view.comparable(cond.column)
            if isinstance(a.dtype, pl.List):
                return (a.list.len().fill_null(0) == 0) | (b.list.len().fill_null(0) == 0)
            return a.is_null() | b.is_null()
        if isinstance(cond, Shares):
            return self.shares(cond.column)
        if isinstance(cond, MinLength):
            return (view.left(cond.column).str.len_chars() >= cond.length).fill_null(False)
        if isinstance(cond, AllOf):
            # a similarity no condition has asked for yet is scored only on the pairs where the other parts hold
            lazy = [p for p in cond.parts if isinstance(p, Fuzzy) and p not in self._memo
                    and ("metric", p.column, p.metric) not in self._memo]
            rest = [p for p in cond.parts if p not in lazy] or lazy[:1]
            out = self.condition(rest[0])
            for part in rest[1:]:
                out = out & self.condition(part)
            for part in lazy:
                if part not in rest:
                    out = self._fuzzy_where(part, out)
            return out
        if isinstance(cond, AnyOf):
            out = self.condition(cond.parts[0])
            for part in cond.parts[1:]:
                out = out | self.condition(part)
            return out
        if isinstance(cond, Not):
            return ~self.condition(cond.part)
        if isinstance(cond, Predicate):
            return PREDICATES[cond.name](self, *cond.columns).fill_null(False)
        if isinstance(cond, Else):
            return pl.repeat(True, len(view), dtype=pl.Boolean, eager=True)
        raise TypeError(f"the polars backend cannot render {cond!r}")

    def _fuzzy_where(self, cond: Fuzzy, where: pl.Series) -> pl.Series:
        """``cond`` on the pairs where ``where`` holds (scored on those alone), false elsewhere."""
        idx = where.arg_true()
        out = pl.repeat(False, len(where), dtype=pl.Boolean, eager=True)
        if len(idx) == 0:
            return out
        value = self._metric_at(cond.column, cond.metric, idx)
        return out.scatter(idx, _fuzzy_hit(cond, value))

    def tf_u(self, source: TfSource) -> pl.Series:
        def compute() -> pl.Series:
            if isinstance(source, TfShared):
                return self.shared_value(source.column, "tf", lambda v: self.tf.lookup(source.column, v))
            if isinstance(source, TfDistinct):
                return self.tf.distinct(self.view, source.column, source.by)
            if isinstance(source, TfLeft):
                u = self.tf.of_left(self.view, source.column)
                if source.on_swap is not None and self.swapped is not None and self.swapped.any():
                    # a swapped pair: the agreed value is a given name on one record and a surname on the
                    # other; the larger of its two frequencies counts, whichever record is the swapped one
                    alt = self.tf.of_left_in(self.view, source.column, source.on_swap)
                    u = pl.DataFrame({"u": u, "a": alt, "s": self.swapped}).select(
                        pl.when(pl.col("s")).then(pl.max_horizontal("u", "a")).otherwise(pl.col("u"))).to_series()
                return u
            raise TypeError(f"the polars backend cannot look up {source!r}")

        return self._cached(("tf", source), compute)

    def comparison(self, comp: Comparison) -> tuple[pl.Series, pl.Series | None]:
        """(level codes Int8 with nulls for missing, u from term frequency for tf levels or None)."""
        level = _levels_from([self.condition(lv.when) for lv in comp.levels[:-1]], self.condition(comp.null_when))
        if comp.tf is None:
            return level, None
        u = self.tf_u(comp.tf)
        for k, lv in enumerate(comp.levels):
            if lv.tf_source is not None and lv.tf_source != comp.tf:
                u = pl.DataFrame({"lv": level, "e": u, "l": self.tf_u(lv.tf_source)}).select(
                    pl.when(pl.col("lv") == k).then(pl.col("l")).otherwise(pl.col("e"))).to_series()
        return level, u


# ---------------------------------------------------------------- named predicates (library.conditions.PREDICATES)


def _pairwise(fn: Callable[[pl.Series, pl.Series], pl.Series]) -> Callable[[ChunkEvaluator, str], pl.Series]:
    """A predicate of one column's two values (null or false where a side is missing), computed once per distinct
    pair of values."""
    def predicate(ev: ChunkEvaluator, column: str) -> pl.Series:
        return ev.by_values(column, fn.__name__, fn)
    predicate.__doc__ = fn.__doc__
    return predicate


def _groups_overlap(a: pl.Series, b: pl.Series) -> pl.Series:
    """Equal texts overlap; two single groups (no "|") overlap only when equal, so the list intersection runs
    only on the pairs that differ and hold several groups on a side (null where a side is missing)."""
    same = a == b
    idx = (~same & (a.str.contains("|", literal=True) | b.str.contains("|", literal=True))).fill_null(False).arg_true()
    if len(idx) == 0:
        return same
    ga, gb = a.gather(idx).str.split("|"), b.gather(idx).str.split("|")
    return same.scatter(idx, ga.list.set_intersection(gb).list.len() > 0)


def _groups_overlap_predicate(ev: ChunkEvaluator, column: str) -> pl.Series:
    """:func:`_groups_overlap` read from codes: equal codes overlap, and only the pairs that differ with several
    groups on a side are decoded."""
    def several(values: pl.Series) -> pl.Series:
        return values.str.contains("|", literal=True)
    view = ev.view
    a, b = view.comparable(column)
    same = a == b
    idx = (~same & (view.derived(column, "l", "several", several) | view.derived(column, "r", "several", several))
           ).fill_null(False).arg_true()
    if len(idx) == 0:
        return same
    decode = [view.left(column).gather(idx), view.right(column).gather(idx)] if view.code(column, "l") is None else [
        view.encoding.values[column].gather(c.gather(idx)) for c in (a, b)]
    return same.scatter(idx, _groups_overlap(*decode))


def _two_russian_names(ev: ChunkEvaluator, column: str) -> pl.Series:
    """Both sides' (given name key) are names of the Russian name list with different canonical forms (Мария /
    Марина, Александр / Алексей, Евгений / Евгения): two names, however alike their spelling. Read per distinct
    value (a name's canonical form, null when the list does not hold it)."""
    from crmclean.matching.features import russian_given_name_keys

    names = russian_given_name_keys()

    def canonical(values: pl.Series) -> pl.Series:
        return values.replace_strict(names, default=None, return_dtype=pl.String)
    a, b = (ev.view.derived(column, side, "ru_canonical", canonical) for side in ("l", "r"))
    return (a != b).fill_null(False)


def _known_names(ev: ChunkEvaluator, column: str) -> pl.Series:
    """Both sides' (given name key) are names the name lists know (features.known_first_names): not a typo, not an
    initial."""
    from crmclean.matching.features import known_first_names

    known = list(known_first_names())

    def is_known(values: pl.Series) -> pl.Series:
        return values.is_in(known)
    a, b = (ev.view.derived(column, side, "known_name", is_known) for side in ("l", "r"))
    return (a & b).fill_null(False)


def _is_initial(column: str) -> pl.Expr:
    # the keys a name typed as one letter can have (Ю. -> iu): translit.is_initial_key
    return is_initial_key(pl.col(column))


def _first_initial(ev: ChunkEvaluator, name: str, groups: str) -> pl.Series:
    """"И." matches Иван and also Ваня (whose canonical form is ivan); "Ю." (iu) matches Юлия (iulia). Only a pair
    with an initial on a side can hold: the rest are false without reading their name groups."""
    view = ev.view
    a, b = view.left(name), view.right(name)
    out = pl.repeat(False, len(a), dtype=pl.Boolean, eager=True)
    idx = pl.DataFrame({"a": a, "b": b}).select((_is_initial("a") | _is_initial("b")).fill_null(False)).to_series(
    ).arg_true()
    if len(idx) == 0:
        return out
    ga, gb = view.left(groups).gather(idx).str.split("|"), view.right(groups).gather(idx).str.split("|")

    def starts(initial: str, other: str, other_groups: str) -> pl.Expr:
        # an initial key has one or two letters: a group's canonical form holds it when it begins with them
        in_group = pl.when(pl.col(initial).str.len_chars() == 1).then(
            pl.col(other_groups).list.eval(pl.element().str.slice(0, 1)).list.contains(pl.col(initial))).otherwise(
            pl.col(other_groups).list.eval(pl.element().str.slice(0, 2)).list.contains(pl.col(initial)))
        return _is_initial(initial) & (pl.col(other).str.starts_with(pl.col(initial)) | in_group)

    return out.scatter(idx, pl.DataFrame({"a": a.gather(idx), "b": b.gather(idx), "ga": ga, "gb": gb}).select(
        (starts("a", "b", "gb") | starts("b", "a", "ga")).fill_null(False)).to_series())


def _initial(a: pl.Series, b: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"a": a, "b": b})
    return frame.select((_is_initial("a") & pl.col("b").str.starts_with(pl.col("a")))
                        | (_is_initial("b") & pl.col("a").str.starts_with(pl.col("b")))).to_series()


def _gender_form(a: pl.Series, b: pl.Series) -> pl.Series:
    """A male and a female form (Иванов / Иванова: one "a" more, Покровский / Покровская: "ski" as "skaia"), or
    equal values not ending in "ski" (the replacement leaves them as they are). Only values one or two letters apart
    in length, or equal, can be: the others are false without rewriting them."""
    gap = (a.str.len_chars().cast(pl.Int64) - b.str.len_chars().cast(pl.Int64)).abs()
    return _only_where(gap.is_in([1, 2]) | (a == b), a, b, lambda frame: frame.select(
        (pl.col("a") + "a" == pl.col("b")) | (pl.col("b") + "a" == pl.col("a"))
        | ((pl.col("a").str.replace(r"ski$", "skaia") == pl.col("b"))
           | (pl.col("b").str.replace(r"ski$", "skaia") == pl.col("a")))
    ).to_series())


def _only_where(where: pl.Series, a: pl.Series, b: pl.Series, test: Callable[[pl.DataFrame], pl.Series]) -> pl.Series:
    """``test`` of the value pairs (a frame of columns ``a``, ``b``) where ``where`` holds, false elsewhere: a
    predicate only some pairs can meet rewrites those alone (null counts as false)."""
    out = pl.repeat(False, len(a), dtype=pl.Boolean, eager=True)
    idx = where.fill_null(False).arg_true()
    if len(idx) == 0:
        return out
    return out.scatter(idx, test(pl.DataFrame({"a": a.gather(idx), "b": b.gather(idx)})).fill_null(False))


def _other_gender_patronymic(a: pl.Series, b: pl.Series) -> pl.Series:
    male_a, male_b = a.str.contains(r"(ih|ich)$"), b.str.contains(r"(ih|ich)$")
    female_a, female_b = a.str.ends_with("na"), b.str.ends_with("na")
    return ((male_a & female_b) | (female_a & male_b)).fill_null(False)


def _shared_line(ev: ChunkEvaluator, column: str) -> pl.Series:
    return ev.shared_value(column, "shared_by_several",
                           lambda v: ev.tf.shared_by_several(ev.view.features, column, v)).fill_null(False)


def _own_counts(ev: ChunkEvaluator, column: str) -> tuple[pl.Series, pl.Series]:
    """How many numbers each side has that the other lacks, by the last nine digits (a trunk 0 or a country code
    kept in one key and not the other is no other number). Computed once per chunk (own_numbers and own_lines
    both read it)."""
    def compute() -> pl.Series:
        left, right = ev.view.slots(column, "l"), ev.view.slots(column, "r")
        if left is not None and right is not None:
            return _own_counts_slots(ev, column, left, right)
        nine = pl.element().str.slice(-9)
        a = ev.view.left(column).list.eval(nine)
        b = ev.view.right(column).list.eval(nine)
        return pl.DataFrame({"a": a.list.set_difference(b).list.len(), "b": b.list.set_difference(a).list.len()}
                            ).to_struct("own")
    own = ev._cached(("own_counts", column), compute)
    return own.struct.field("a"), own.struct.field("b")


def _own_counts_slots(ev: ChunkEvaluator, column: str, left: list[pl.Series], right: list[pl.Series]) -> pl.Series:
    """:func:`_own_counts` from slots: per side, the distinct last-nine-digit keys the other side lacks."""
    def nine(values: pl.Series) -> pl.Series:
        return values.str.slice(-9)
    key = ev.view.encoding.derived(column, "nine", nine)
    a, b = [key.gather(c) for c in left], [key.gather(c) for c in right]

    def own(mine: list[pl.Series], other: list[pl.Series]) -> pl.Expr:
        new = [pl.lit(x).is_not_null() & pl.all_horizontal([pl.lit(x).ne_missing(pl.lit(y)) for y in other + mine[:i]]
                                                           or [pl.lit(True)])
               for i, x in enumerate(mine)]
        return pl.sum_horizontal([e.cast(pl.UInt32) for e in new])
    return pl.select(own(a, b).alias("a"), own(b, a).alias("b")).to_struct("own")


def _own_numbers(ev: ChunkEvaluator, column: str) -> pl.Series:
    """Each side has a number the other lacks."""
    a, b = _own_counts(ev, column)
    return ((a > 0) & (b > 0)).fill_null(False)


def _own_lines(ev: ChunkEvaluator, column: str) -> pl.Series:
    """Each side has two or more numbers the other lacks: its own office line and its own mobile — one person's two
    records share the mobile at least."""
    a, b = _own_counts(ev, column)
    return ((a > 1) & (b > 1)).fill_null(False)


def _numbered_mailbox(ev: ChunkEvaluator, column: str) -> pl.Series:
    """ivanov@ vs ivanov2@ (or o.smirnova3@ vs osmirnova@): the numbers differ, so two mailboxes, not a typo."""
    def digits(values: pl.Series) -> pl.Series:
        return values.str.replace_all(r"\D", "")
    a, b = ev.view.comparable(column)
    return ((ev.view.derived(column, "l", "digits", digits) != ev.view.derived(column, "r", "digits", digits))
            & (a != b)).fill_null(False)


def _same_letters(ev: ChunkEvaluator, column: str) -> pl.Series:
    """r.johnston@ vs rjohnston@: different mailbox names with the same letters and digits (only separators differ)."""
    def letters(values: pl.Series) -> pl.Series:
        return values.str.replace_all(r"[\W_]", "")
    a, b = ev.view.comparable(column)
    return ((ev.view.derived(column, "l", "letters", letters) == ev.view.derived(column, "r", "letters", letters))
            & (a != b)).fill_null(False)


def _domain_keys(stems: pl.Series) -> pl.Series:
    """A domain's name spelled like a company key (blueridgesolutions -> blueridgesolutens, as "Blue Ridge
    Solutions LLC" is keyed), once per distinct domain."""
    from crmclean.matching.features import _company_tokens

    mapping = {v: _company_tokens(v).replace(" ", "") or None for v in stems.drop_nulls().unique().to_list()}
    return stems.replace_strict(mapping, default=None, return_dtype=pl.String)


def _domain_names_company(ev: ChunkEvaluator, key: str, domain: str) -> pl.Series:
    """The same domain, or one side's company key (4+ letters) inside the other side's domain name (its stem, or
    the stem keyed like a company name). The texts are read only on the pairs the substring test can decide: domains
    differ, a key of 4+ letters, the other side's domain named."""
    view = ev.view
    stem = pl.col(domain).str.replace(r"\.[a-z.]+$", "")
    stems = per_record(view, ev.tf, f"{domain}_stem", stem.str.replace_all(r"[^a-z]", ""))
    keys = per_record(view, ev.tf, f"{domain}_key", stem.map_batches(_domain_keys, return_dtype=pl.String))
    named = stems.is_not_null() | keys.is_not_null()
    da, db = view.comparable(domain)
    same = (da == db).fill_null(False)

    def long_enough(values: pl.Series) -> pl.Series:
        return values.str.len_chars() >= 4
    a4 = view.derived(key, "l", "four_letters", long_enough).fill_null(False)
    b4 = view.derived(key, "r", "four_letters", long_enough).fill_null(False)
    test = ~same & ((a4 & named.gather(view.right_idx)) | (b4 & named.gather(view.left_idx)))
    idx = test.arg_true()
    if len(idx) == 0:
        return same
    left, right = view.left_idx.gather(idx), view.right_idx.gather(idx)
    frame = pl.DataFrame({"a": view.side_at(key, "l", idx), "b": view.side_at(key, "r", idx),
                          "sa": stems.gather(left), "sb": stems.gather(right), "ka": keys.gather(left),
                          "kb": keys.gather(right)})
    found = frame.select(
        ((pl.col("a").str.len_chars() >= 4) & (pl.col("sb").str.contains(pl.col("a"), literal=True)
                                               | pl.col("kb").str.contains(pl.col("a"), literal=True)))
        | ((pl.col("b").str.len_chars() >= 4) & (pl.col("sa").str.contains(pl.col("b"), literal=True)
                                                 | pl.col("ka").str.contains(pl.col("b"), literal=True)))
    ).to_series().fill_null(False)
    return same.scatter(idx, found)


def _day_month_swapped(a: pl.Series, b: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"a": a, "b": b})
    # YYYYMMDD vs YYYYDDMM
    return frame.select(
        (pl.col("a").str.slice(0, 4) + pl.col("a").str.slice(6, 2) + pl.col("a").str.slice(4, 2)) == pl.col("b")
    ).to_series()


_DATE_PARTS = {"year": (0, 4), "month": (4, 2), "day": (6, 2)}


def _other_date_part(part: str) -> Callable[[ChunkEvaluator, str], pl.Series]:
    """(YYYYMMDD dates) agree on the two other parts and differ in ``part``."""
    def compute(a: pl.Series, b: pl.Series) -> pl.Series:
        frame = pl.DataFrame({"a": a, "b": b})
        same = {k: pl.col("a").str.slice(i, n) == pl.col("b").str.slice(i, n) for k, (i, n) in _DATE_PARTS.items()}
        return frame.select(pl.all_horizontal(v if k != part else ~v for k, v in same.items())
                            & (pl.col("a").str.len_chars() == 8) & (pl.col("b").str.len_chars() == 8)
                            ).to_series().fill_null(False)
    compute.__name__ = f"other_{part}"
    return _pairwise(compute)


TWO_SPELLINGS_RECORDS = 5  # a spelling typed the same way by this many records is a name, not a slip


def _two_spellings(ev: ChunkEvaluator, column: str) -> pl.Series:
    """Each side's value of (column) is held by several records of the file, the rarer by at least a tenth as many
    as the commoner (Schmidt / Schmitt, Stefan / Stefanie): two established spellings, two names. A typo is
    typed once or twice (Schnidt), and a slip repeated by chance in a large file stays rare beside its name."""
    table = ev.tf.table(column)

    def count(values: pl.Series) -> pl.Series:
        return values.cast(pl.String).replace_strict(table.get_column("value"), table.get_column("count"),
                                                     default=None, return_dtype=pl.UInt32)
    # the values the pair compares: a swapped pair's right side is read after the swap (its surname field's value
    # as its given name), each counted in this column's table — not the record's unswapped field
    a, b = (ev.view.derived(column, side, f"{column}_count", count) for side in ("l", "r"))
    low, high = pl.min_horizontal(pl.lit(a), pl.lit(b)), pl.max_horizontal(pl.lit(a), pl.lit(b))
    return pl.select(((low >= TWO_SPELLINGS_RECORDS) & (low * 10 >= high)).fill_null(False)).to_series()


def _digits_transposed(a: pl.Series, b: pl.Series) -> pl.Series:
    """(column) equals the other side with two neighbouring characters swapped (1940 / 1490). Only two different
    values of one length can be: the others are false without slicing them."""
    def swapped(frame: pl.DataFrame) -> pl.Series:
        width = int(frame.get_column("a").str.len_chars().max() or 0)  # type: ignore[arg-type]
        at = [((pl.col("a").str.slice(0, i) == pl.col("b").str.slice(0, i))
               & (pl.col("a").str.slice(i, 1) == pl.col("b").str.slice(i + 1, 1))
               & (pl.col("a").str.slice(i + 1, 1) == pl.col("b").str.slice(i, 1))
               & (pl.col("a").str.slice(i + 2) == pl.col("b").str.slice(i + 2))) for i in range(width - 1)]
        return frame.select(pl.any_horizontal(at) if at else pl.repeat(False, frame.height)).to_series()
    return _only_where((a.str.len_chars() == b.str.len_chars()) & (a != b), a, b, swapped)


def _one_side_only(ev: ChunkEvaluator, column: str) -> pl.Series:
    return ev.view.left(column).is_null() != ev.view.right(column).is_null()


PREDICATES: dict[str, Callable[..., pl.Series]] = {
    "groups_overlap": _groups_overlap_predicate,
    "first_initial": _first_initial,
    "initial": _pairwise(_initial),
    "gender_form": _pairwise(_gender_form),
    "other_gender_patronymic": _pairwise(_other_gender_patronymic),
    "shared_line": _shared_line,
    "numbered_mailbox": _numbered_mailbox,
    "same_letters": _same_letters,
    "own_numbers": _own_numbers,
    "own_lines": _own_lines,
    "domain_names_company": _domain_names_company,
    "day_month_swapped": _pairwise(_day_month_swapped),
    "other_year": _other_date_part("year"),
    "other_month": _other_date_part("month"),
    "other_day": _other_date_part("day"),
    "digits_transposed": _pairwise(_digits_transposed),
    "two_spellings": _two_spellings,
    "two_russian_names": _two_russian_names,
    "known_names": _known_names,
    "one_side_only": _one_side_only,
}


# ---------------------------------------------------------------- level frames


def compute_levels(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
) -> tuple[pl.DataFrame, PairView]:
    """Level code and term-frequency u per comparison for each pair: l, r, swapped, lvl__<c>, tfu__<c>.

    Large pair sets are compared in chunks; the returned view is the last chunk's (for explanations
    of a handful of pairs it is the whole set).
    """
    if pairs.height <= CHUNK_PAIRS:
        return _compute_levels_chunk(features, pairs, comparisons, tf, extra)
    # a first slice alone builds what every chunk reads once per table (the encoding, term-frequency tables,
    # per-record and per-value derivations; a per-record step may call back into Python), then the rest run side by
    # side in chunks of equal size, as many as a multiple of the threads (no chunk left alone at the end): a chunk is
    # a few hundred small polars steps, each mostly on one core, so two chunks side by side use both (results in
    # chunk order; the per-value-pair memo is merged under a lock, see per_value_pair)
    warm = CHUNK_PAIRS // 8
    first, view = _compute_levels_chunk(features, pairs.slice(0, warm), comparisons, tf, extra)
    rest = pairs.height - warm
    count = -(-rest // CHUNK_PAIRS)
    count = -(-count // COMPARE_THREADS) * COMPARE_THREADS
    size = -(-rest // count)
    rest_parts = in_threads([partial(_compute_levels_chunk, features, pairs.slice(s, size), comparisons, tf, extra)
                             for s in range(warm, pairs.height, size)], workers=min(COMPARE_THREADS, workers()))
    view = rest_parts[-1][1]
    return pl.concat([first, *(part for part, _ in rest_parts)]), view


def _compute_levels_chunk(
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    tf: TermFrequencies,
    extra: dict[str, pl.Series] | None = None,
) -> tuple[pl.DataFrame, PairView]:
    # the columns the comparisons read (and the name swap exchanges): encoded once per table, gathered in bulk
    columns = {c for comp in comparisons for lv in comp.levels for c in columns_of(lv.when)}
    columns |= {c for comp in comparisons for c in columns_of(comp.null_when)}
    columns |= {c for pair in NAME_SWAP.swap_columns for c in pair} | {NAME_SWAP.first, NAME_SWAP.last}
    encoding = tf.encoding(columns) if tf.features is features and not extra else Encoding(features, extra,
                                                                                            columns=columns)
    view = PairView(features, pairs, extra, encoding, columns)
    out: dict[str, pl.Series] = {"l": pairs.get_column("l"), "r": pairs.get_column("r")}
    if NAME_SWAP.first in features.columns and NAME_SWAP.last in features.columns:
        out["swapped"] = align_swapped_names(view, NAME_SWAP)
    else:
        out["swapped"] = pl.repeat(False, pairs.height, dtype=pl.Boolean, eager=True)
    ev = ChunkEvaluator(view, tf, out["swapped"])
    for comp in comparisons:
        level, tf_u = ev.comparison(comp)
        out[f"lvl__{comp.name}"] = level.cast(pl.Int8)
        out[f"tfu__{comp.name}"] = (tf_u if tf_u is not None else pl.repeat(None, pairs.height, dtype=pl.Float32,
                                                                              eager=True)).cast(pl.Float32)
    return pl.DataFrame(out), view


def shown_values(view: PairView, comp: Comparison) -> tuple[pl.Series, pl.Series]:
    """The left and right values of a comparison's display columns as text (for explanations)."""
    cols = comp.display or ((comp.tf_column,) if comp.tf_column else ())
    if not cols:
        empty = pl.Series([None] * len(view), dtype=pl.String)
        return empty, empty

    def text(which: str) -> pl.Series:
        parts = [view.side(c, which).cast(pl.String) if view.side(c, which).dtype != pl.List(pl.String)
                 else view.side(c, which).list.join(", ") for c in cols]
        frame = pl.DataFrame({f"p{i}": p for i, p in enumerate(parts)})
        return frame.select(pl.concat_str(pl.all(), separator=" ", ignore_nulls=True)).to_series()

    return text("l"), text("r")
