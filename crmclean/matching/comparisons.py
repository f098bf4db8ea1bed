"""The comparison library: for each field, the levels of agreement a pair of records can show.

A :class:`Comparison` turns a frame of candidate pairs into one level code per pair
(``None`` when either side is missing: missing is neutral, never evidence against).
Each :class:`Level` carries default m (P(level | same entity)) and u (P(level | different
entities)) probabilities; levels flagged ``tf`` take u from how common the agreed value
is (a surname or office phone shared by many records proves little). Comparisons are
parts composed per object type (``contacts_comparisons``, ``companies_comparisons``) and
per column from the rules file (``generic_comparison``), like splink's comparison library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from crmclean.matching.features import IDX


@dataclass(frozen=True)
class Level:
    """One level of agreement: its name, default m and u, and whether u comes from term frequency."""

    name: str
    m: float
    u: float
    tf: bool = False
    description: str = ""
    group: str | None = None  # correlated evidence group: positive weights in one group are not double-counted
    # evidence mostly explained by other comparisons (a mailbox name spelled from the person's name):
    # it adds only what those comparisons' positive weights do not already say
    subsumed_by: tuple[str, ...] = ()


# feature columns only blocking, display or explanations read: gathered lazily when asked for, never in bulk
_NOT_COMPARED = frozenset({"record_id", "name_display", "fn_canon", "fn_canon_ph", "mi", "email", "email_domain",
                           "company_ph", "country", "website_domain", "fn_is_initial"})


class PairView:
    """Left/right feature columns of a pair frame, gathered lazily and cached."""

    def __init__(self, features: pl.DataFrame, pairs: pl.DataFrame, extra: dict[str, pl.Series] | None = None):
        self.features = features
        self.pairs = pairs
        self.extra = extra or {}
        self._cache: dict[tuple[str, str], pl.Series] = {}
        self.left_idx = pairs.get_column("l")
        self.right_idx = pairs.get_column("r")
        if pairs.height > 10_000:
            # one parallel gather of every feature column per side beats dozens of single-column gathers
            cols = [c for c in features.columns if c not in _NOT_COMPARED]
            for which, idx in (("l", self.left_idx), ("r", self.right_idx)):
                gathered = features.select(cols)[idx]
                for c in cols:
                    self._cache[(c, which)] = gathered.get_column(c).alias(f"{c}_{which}")

    def __len__(self) -> int:
        return self.pairs.height

    def side(self, column: str, which: str) -> pl.Series:
        key = (column, which)
        if key not in self._cache:
            source = self.extra[column] if column in self.extra else self.features.get_column(column)
            idx = self.left_idx if which == "l" else self.right_idx
            self._cache[key] = source.gather(idx).alias(f"{column}_{which}")
        return self._cache[key]

    def left(self, column: str) -> pl.Series:
        return self.side(column, "l")

    def right(self, column: str) -> pl.Series:
        return self.side(column, "r")

    def set(self, column: str, which: str, values: pl.Series) -> None:
        self._cache[(column, which)] = values.alias(f"{column}_{which}")


# ---------------------------------------------------------------- string similarity (once per unique pair)


try:  # numpy lets rapidfuzz score millions of pairs in C on every core; without it we loop per unique pair
    import numpy as _np
    from rapidfuzz.process import cpdist as _cpdist
except ImportError:  # pragma: no cover - numpy is a dependency; the fallback keeps matching usable without it
    _np = None  # type: ignore[assignment]
    _cpdist = None  # type: ignore[assignment]


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
    uniq = sub.unique() if len(idx) > 1000 else sub
    if uniq.height < 0.6 * sub.height:
        # few distinct pairs (cities, titles, company names): score each once and join back
        scored = similarity(uniq.get_column("a"), uniq.get_column("b"), scorer, scale=scale, exact_value=None)
        values = sub.join(uniq.with_columns(scored.alias("v")), on=["a", "b"], how="left",
                          maintain_order="left").get_column("v")
        return out.scatter(idx, values).alias("sim")
    left = sub.get_column("a").to_list()
    right = sub.get_column("b").to_list()
    if _cpdist is not None:
        scores = pl.Series("v", _cpdist(left, right, scorer=scorer, workers=-1)).cast(pl.Float64)
    else:
        cache: dict[tuple[str, str], float] = {}
        values = []
        for x, y in zip(left, right, strict=True):
            key = (x, y)
            v = cache.get(key)
            if v is None:
                v = cache[key] = float(scorer(x, y))
            values.append(v)
        scores = pl.Series("v", values, dtype=pl.Float64)
    if scale != 1.0:
        scores = scores / scale
    return out.scatter(idx, scores).alias("sim")


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


def _levels_from(conditions: Sequence[pl.Series], missing: pl.Series) -> pl.Series:
    """First true condition's index as the level code; null where a side is missing."""
    frame = pl.DataFrame({f"c{i}": c.fill_null(False) for i, c in enumerate(conditions)} | {"missing": missing})
    expr: Any = pl.lit(len(conditions), dtype=pl.Int8)  # the last level ("different")
    for i in range(len(conditions) - 1, -1, -1):
        expr = pl.when(pl.col(f"c{i}")).then(pl.lit(i, dtype=pl.Int8)).otherwise(expr)
    expr = pl.when(pl.col("missing")).then(pl.lit(None, dtype=pl.Int8)).otherwise(expr)
    return frame.select(expr.alias("level")).to_series()


# ---------------------------------------------------------------- the comparison base


@dataclass
class Comparison:
    """A field comparison: how to compute its levels, their m/u, and how to show the values."""

    name: str
    title: str
    levels: tuple[Level, ...]
    tf_column: str | None = None  # feature column whose value frequency gives u for tf levels
    display: tuple[str, ...] = ()  # feature columns shown in explanations
    options: dict[str, Any] = field(default_factory=dict)
    # True when agreement here can corroborate a name match (email, phone, company, INN, birth date ...);
    # False for names themselves and weak fields (city, job title): namesakes agree on those
    corroborates: bool = True
    # weak fields never say more than this many bits for a match, however rare the value (city, title)
    max_weight: float | None = None

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        """(level codes Int8 with nulls for missing, u from term frequency for tf levels or None)."""
        raise NotImplementedError

    def level_names(self) -> list[str]:
        return [lv.name for lv in self.levels]

    def with_overrides(self, m: dict[str, float] | None = None, u: dict[str, float] | None = None) -> Comparison:
        levels = tuple(
            replace(lv, m=(m or {}).get(lv.name, lv.m), u=(u or {}).get(lv.name, lv.u)) for lv in self.levels
        )
        return replace(self, levels=levels)

    def shown(self, view: PairView) -> tuple[pl.Series, pl.Series]:
        cols = self.display or ((self.tf_column,) if self.tf_column else ())
        if not cols:
            empty = pl.Series([None] * len(view), dtype=pl.String)
            return empty, empty

        def text(which: str) -> pl.Series:
            parts = [view.side(c, which).cast(pl.String) if view.side(c, which).dtype != pl.List(pl.String)
                     else view.side(c, which).list.join(", ") for c in cols]
            frame = pl.DataFrame({f"p{i}": p for i, p in enumerate(parts)})
            return frame.select(pl.concat_str(pl.all(), separator=" ", ignore_nulls=True)).to_series()

        return text("l"), text("r")


class TermFrequencies:
    """How often a random other record holds each value of a feature column (lists counted per element).

    u of a value held by ``c`` of ``T`` records is the leave-one-out share (c - 1) / (T - 1),
    smoothed with a few pseudo-records so a value seen twice in a tiny table is not "common".
    """

    SMOOTHING_RECORDS = 30.0
    SMOOTHING_U = 0.001

    def __init__(self, features: pl.DataFrame, extra: dict[str, pl.Series] | None = None) -> None:
        self.features = features
        self.extra = extra or {}
        self._tables: dict[str, pl.DataFrame] = {}

    def table(self, column: str) -> pl.DataFrame:
        if column not in self._tables:
            s = self.extra[column] if column in self.extra else self.features.get_column(column)
            if s.dtype == pl.List(pl.String):
                s = s.explode()
            s = s.drop_nulls()
            total = float(len(s))
            k, u0 = self.SMOOTHING_RECORDS, self.SMOOTHING_U
            self._tables[column] = (
                s.alias("value").to_frame().group_by("value").len()
                .with_columns(((pl.col("len") - 1 + k * u0) / (total - 1 + k)).alias("tf"))
                .select("value", "tf", pl.col("len").alias("count"))
            )
        return self._tables[column]

    def shared_by_several(self, features: pl.DataFrame, column: str, values: pl.Series) -> pl.Series:
        """True where the value is held by records of two or more different surnames (a shared line/mailbox)."""
        key = f"__shared_{column}"
        if key not in self._tables:
            # several people: two or more surname sounds AND two or more given names among the holders, so a
            # typo in one record's surname (or a nickname) does not turn one person's mobile into a switchboard
            frame = features.select(pl.col(column).alias("value"), "ln_ph", "fn_canon").explode("value").drop_nulls(
                "value")
            self._tables[key] = (
                frame.group_by("value").agg(pl.col("ln_ph").drop_nulls().n_unique().alias("surnames"),
                                            pl.col("fn_canon").drop_nulls().n_unique().alias("names"))
                .filter((pl.col("surnames") >= 2) & (pl.col("names") >= 2))
                .select("value", pl.lit(True).alias("shared"))
            )
        values = values.cast(pl.String)
        out = pl.repeat(False, len(values), dtype=pl.Boolean, eager=True)
        # most pairs share no value: join only the rows that have one
        idx = values.is_not_null().arg_true()
        if len(idx) == 0:
            return out.alias("shared")
        frame = pl.DataFrame({"value": values.gather(idx)})
        hit = (frame.join(self._tables[key], on="value", how="left", maintain_order="left")
               .get_column("shared").fill_null(False))
        return out.scatter(idx, hit).alias("shared")

    def of_left(self, view: PairView, column: str) -> pl.Series:
        """u of each pair's left-side value of a single-valued column (a gather, no join per pair chunk)."""
        key = f"__record_{column}"
        if key not in self._tables:
            s = self.extra[column] if column in self.extra else self.features.get_column(column)
            per_record = self.lookup(column, s)
            self._tables[key] = per_record.to_frame("tf")
        return self._tables[key].get_column("tf").gather(view.left_idx)

    def lookup(self, column: str, values: pl.Series) -> pl.Series:
        values = values.cast(pl.String)
        nulls = values.null_count()
        if nulls * 2 < len(values):
            frame = pl.DataFrame({"value": values})
            return frame.join(self.table(column), on="value", how="left", maintain_order="left").get_column("tf")
        # mostly missing (a shared email or phone of a pair): join only the rows that have a value
        table = self.table(column)
        out = pl.repeat(None, len(values), dtype=table.schema["tf"], eager=True)
        idx = values.is_not_null().arg_true()
        if len(idx) == 0:
            return out.alias("tf")
        frame = pl.DataFrame({"value": values.gather(idx)})
        hit = frame.join(table, on="value", how="left", maintain_order="left").get_column("tf")
        return out.scatter(idx, hit).alias("tf")


def _per_record(view: PairView, tf: TermFrequencies, name: str, expr: pl.Expr) -> tuple[pl.Series, pl.Series]:
    """(left, right) values of a per-record expression over the features, computed once per record, not per pair."""
    key = f"__derived_{name}"
    if view.features is tf.features:
        if key not in tf._tables:
            tf._tables[key] = view.features.select(expr.alias(name))
        values = tf._tables[key].get_column(name)
    else:
        values = view.features.select(expr.alias(name)).to_series()
    return values.gather(view.left_idx), values.gather(view.right_idx)


def _both(view: PairView, column: str) -> tuple[pl.Series, pl.Series, pl.Series]:
    a, b = view.left(column), view.right(column)
    return a, b, (a.is_null() | b.is_null())


# ---------------------------------------------------------------- people


def align_swapped_names(view: PairView) -> pl.Series:
    """Swap the right side's first/last name where that agrees better (Иванов Иван vs Иван Иванов).

    Returns the boolean 'swapped' flag per pair; the view's right-side name columns are replaced.
    """
    fl, ll, fr, lr = view.left("fn"), view.left("ln"), view.right("fn"), view.right("ln")
    swap = pl.repeat(False, len(view), dtype=pl.Boolean, eager=True)
    # only pairs with all four parts and some disagreement can be swapped
    # a swap is only plausible when a first letter crosses over (Иван Петров / Петров Иван)
    maybe = (fl.is_not_null() & ll.is_not_null() & fr.is_not_null() & lr.is_not_null()
             & ((fl != fr) | (ll != lr))
             & ((fl.str.slice(0, 1) == lr.str.slice(0, 1)) | (ll.str.slice(0, 1) == fr.str.slice(0, 1)))
             ).fill_null(False)
    idx = maybe.arg_true()
    if len(idx) == 0:
        return swap
    sfl, sll, sfr, slr = fl.gather(idx), ll.gather(idx), fr.gather(idx), lr.gather(idx)
    straight = similarity(sfl, sfr, JaroWinkler.normalized_similarity).fill_null(0) + similarity(
        sll, slr, JaroWinkler.normalized_similarity).fill_null(0)
    crossed = similarity(sfl, slr, JaroWinkler.normalized_similarity).fill_null(0) + similarity(
        sll, sfr, JaroWinkler.normalized_similarity).fill_null(0)
    swap = swap.scatter(idx, crossed > straight + 0.25)
    if not swap.any():
        return swap
    frame = pl.DataFrame({"swap": swap})
    pairs = (("fn", "ln"), ("fn_groups", "ln_groups"), ("fi", "li"), ("ln_ph", "fn_ph"))
    new: dict[str, pl.Series] = {}
    for a_col, b_col in pairs:
        a, b = view.right(a_col), view.right(b_col)
        both = frame.with_columns(a=a, b=b)
        new[a_col] = both.select(pl.when(pl.col("swap")).then(pl.col("b")).otherwise(pl.col("a"))).to_series()
        new[b_col] = both.select(pl.when(pl.col("swap")).then(pl.col("a")).otherwise(pl.col("b"))).to_series()
    for col, values in new.items():
        view.set(col, "r", values)
    return swap


@dataclass
class FirstNameComparison(Comparison):
    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        a, b, missing = _both(view, "fn")
        jw = jaro_winkler(a, b)
        ga = view.left("fn_groups").str.split("|")
        gb = view.right("fn_groups").str.split("|")
        nick = ga.list.set_intersection(gb).list.len() > 0
        # "И." matches Иван and also Ваня (whose canonical form is ivan)
        first_letters = pl.DataFrame({"a": a, "b": b, "ga": ga, "gb": gb}).select(
            ((pl.col("a").str.len_chars() == 1)
             & ((pl.col("a") == pl.col("b").str.slice(0, 1))
                | pl.col("gb").list.eval(pl.element().str.slice(0, 1)).list.contains(pl.col("a"))))
            | ((pl.col("b").str.len_chars() == 1)
               & ((pl.col("b") == pl.col("a").str.slice(0, 1))
                  | pl.col("ga").list.eval(pl.element().str.slice(0, 1)).list.contains(pl.col("b"))))
        ).to_series()
        exact = a == b
        level = _levels_from([exact, nick & ~exact, jw >= 0.92, first_letters, jw >= 0.80], missing)
        return level, tf.of_left(view, "fn")


@dataclass
class LastNameComparison(Comparison):
    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        a, b, missing = _both(view, "ln")
        jw = jaro_winkler(a, b)
        frame = pl.DataFrame({"a": a, "b": b})
        # Иванов / Иванова, Покровский / Покровская: husband and wife, not one person
        gender = frame.select(
            (pl.col("a") + "a" == pl.col("b")) | (pl.col("b") + "a" == pl.col("a"))
             | ((pl.col("a").str.replace(r"ski$", "skaia") == pl.col("b"))
                | (pl.col("b").str.replace(r"ski$", "skaia") == pl.col("a")))
        ).to_series()
        phon = view.left("ln_ph") == view.right("ln_ph")
        # a given name typed into the surname field on both sides (Аркаша ~ Аркадий)
        nick = (view.left("ln_groups").str.split("|").list.set_intersection(
            view.right("ln_groups").str.split("|")).list.len() > 0) & (a.str.len_chars() > 2)
        exact = a == b
        level = _levels_from([exact, gender, (jw >= 0.94) | (phon & (jw >= 0.85)) | nick, jw >= 0.85], missing)
        return level, tf.of_left(view, "ln")


@dataclass
class MiddleNameComparison(Comparison):
    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        a, b, missing = _both(view, "mn")
        jw = jaro_winkler(a, b)
        initial = ((a.str.len_chars() == 1) | (b.str.len_chars() == 1)) & (a.str.slice(0, 1) == b.str.slice(0, 1))
        exact = a == b
        # Петрович / Петровна: brother and sister (or husband and wife), never a typo of one person
        male_a, male_b = a.str.contains(r"(ih|ich)$"), b.str.contains(r"(ih|ich)$")
        female_a, female_b = a.str.ends_with("na"), b.str.ends_with("na")
        other_gender = ((male_a & female_b) | (female_a & male_b)).fill_null(False)
        level = _levels_from([exact, (jw >= 0.90) & ~other_gender, initial], missing)
        return level, tf.of_left(view, "mn")


@dataclass
class EmailComparison(Comparison):
    """Any shared address (tf-weighted); else the same person's local part at another domain; else different."""

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        ea, eb = view.left("emails"), view.right("emails")
        missing = (ea.list.len().fill_null(0) == 0) | (eb.list.len().fill_null(0) == 0)
        shared = ea.list.set_intersection(eb)
        first_shared = shared.list.first()
        la, lb = view.left("email_local"), view.right("email_local")
        shared_line = tf.shared_by_several(view.features, "emails", first_shared)
        local_same = (la == lb) & (la.str.len_chars() >= 4)
        jw = jaro_winkler(la, lb)
        # ivanov@ vs ivanov2@ at one company: the mail admin numbered a second person, not a typo
        na, nb = _per_record(view, tf, "email_local_letters", pl.col("email_local").str.replace_all(r"\d", ""))
        digits_only = (na == nb) & (la != lb)
        jw = pl.DataFrame({"jw": jw, "d": digits_only.fill_null(False)}).select(
            pl.when(pl.col("d")).then(0.0).otherwise(pl.col("jw"))).to_series()
        has_shared = shared.list.len() > 0
        level = _levels_from(
            [has_shared & ~shared_line, has_shared & shared_line, local_same, (jw >= 0.93) & (la.str.len_chars() >= 6)],
            missing,
        )
        u = pl.DataFrame({"lv": level, "e": tf.lookup("emails", first_shared), "l": tf.of_left(view, "email_local")}
                         ).select(pl.when(pl.col("lv") == 2).then(pl.col("l")).otherwise(pl.col("e"))).to_series()
        return level, u


@dataclass
class PhoneComparison(Comparison):
    """A shared number: personal (one person's) or a shared line (a switchboard several people answer)."""

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        pa, pb = view.left("phones"), view.right("phones")
        missing = (pa.list.len().fill_null(0) == 0) | (pb.list.len().fill_null(0) == 0)
        shared = pa.list.set_intersection(pb)
        has_shared = shared.list.len() > 0
        # prefer a personal number when several are shared
        first = shared.list.first()
        shared_line = tf.shared_by_several(view.features, "phones", first)
        level = _levels_from([has_shared & ~shared_line, has_shared & shared_line], missing)
        return level, tf.lookup("phones", first)


@dataclass
class CompanyComparison(Comparison):
    """Company keys; where one side has no company, its work-email domain stands in (rosskholding.ru ~ Россхолдинг)."""

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        a, b, missing = _both(view, "company_key")
        ta, tb = view.left("company_text"), view.right("company_text")
        tok = token_similarity(ta, tb)
        jw = jaro_winkler(a, b)
        exact = a == b
        da, db = view.left("org_domain"), view.right("org_domain")
        sa, sb = _per_record(view, tf, "org_domain_stem",
                             pl.col("org_domain").str.replace(r"\.[a-z.]+$", "").str.replace_all(r"[^a-z]", ""))
        frame = pl.DataFrame({"a": a, "b": b, "da": da, "db": db, "sa": sa, "sb": sb})
        by_domain = frame.select(
            (pl.col("da") == pl.col("db"))
            | ((pl.col("a").str.len_chars() >= 4) & pl.col("sb").str.contains(pl.col("a"), literal=True))
            | ((pl.col("b").str.len_chars() >= 4) & pl.col("sa").str.contains(pl.col("b"), literal=True))
        ).to_series().fill_null(False)
        # a missing company stays neutral unless the other side's work-email domain names the same organization
        level = _levels_from(
            [exact, (tok >= 0.92) | (jw >= 0.94), (tok >= 0.75) | (jw >= 0.88), missing & by_domain],
            missing & ~by_domain,
        )
        return level, tf.of_left(view, "company_key")


@dataclass
class ExactComparison(Comparison):
    """Exact agreement on one feature column (INN, domain, country ...)."""

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        col = self.tf_column or self.name
        a, b, missing = _both(view, col)
        return _levels_from([a == b], missing), tf.of_left(view, col)


@dataclass
class FuzzyTextComparison(Comparison):
    """Exact, then Jaro-Winkler at thresholds (city, job title, addresses)."""

    thresholds: tuple[float, ...] = (0.9,)

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        col = self.tf_column or self.name
        a, b, missing = _both(view, col)
        jw = jaro_winkler(a, b)
        conditions = [a == b] + [jw >= t for t in self.thresholds]
        return _levels_from(conditions, missing), tf.of_left(view, col)


@dataclass
class EditDistanceComparison(Comparison):
    """Exact, then Levenshtein distance at most 1, 2 ... (ids, postcodes, dates of birth as digits)."""

    distances: tuple[int, ...] = (1,)

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        col = self.tf_column or self.name
        a, b, missing = _both(view, col)
        dist = edit_distance(a, b)
        conditions = [a == b] + [dist <= d for d in self.distances]
        return _levels_from(conditions, missing), tf.of_left(view, col)


@dataclass
class DateComparison(Comparison):
    """Dates as digit strings: exact, one typo or day/month swapped, same year, different."""

    def compute(self, view: PairView, tf: TermFrequencies) -> tuple[pl.Series, pl.Series | None]:
        col = self.tf_column or self.name
        a, b, missing = _both(view, col)
        dist = edit_distance(a, b)
        frame = pl.DataFrame({"a": a, "b": b})
        # YYYYMMDD vs YYYYDDMM
        swapped = frame.select(
            (pl.col("a").str.slice(0, 4) + pl.col("a").str.slice(6, 2) + pl.col("a").str.slice(4, 2)) == pl.col("b")
        ).to_series()
        level = _levels_from([a == b, (dist <= 1) | swapped, dist <= 2], missing)
        return level, tf.of_left(view, col)


# ---------------------------------------------------------------- default sets per object

_ORG = "organization"  # company, INN, city, switchboard and shared mailbox all say "same organization"
_NAME = ("first_name", "last_name")  # what a mailbox name like ivan.petrov@ is spelled from


def contacts_comparisons() -> list[Comparison]:
    """People (contacts, leads): names with nicknames/translit, emails, phones, company, INN, city, title."""
    return [
        FirstNameComparison("first_name", "First name", (
            Level("exact", 0.72, 0.02, tf=True, description="same given name"),
            Level("nickname", 0.08, 0.003, description="nickname / diminutive (Bob ~ Robert, Саша ~ Александр)"),
            Level("similar", 0.07, 0.004, description="Jaro-Winkler ≥ 0.92 (typo, transliteration)"),
            Level("initial", 0.06, 0.06, description="one side is only the initial"),
            Level("weak", 0.03, 0.06, description="Jaro-Winkler ≥ 0.80"),
            Level("different", 0.02, 0.85, description="different given names"),
        ), tf_column="fn", display=("fn",), corroborates=False),
        LastNameComparison("last_name", "Last name", (
            Level("exact", 0.80, 0.002, tf=True, description="same surname (after transliteration)"),
            Level("gender_form", 0.002, 0.002, description="male/female form (Иванов / Иванова)"),
            Level("similar", 0.11, 0.002, description="typo or transliteration variant"),
            Level("weak", 0.04, 0.01, description="Jaro-Winkler ≥ 0.85"),
            Level("different", 0.04, 0.985, description="different surnames"),
        ), tf_column="ln", display=("ln",), corroborates=False),
        MiddleNameComparison("middle_name", "Patronymic / middle name", (
            Level("exact", 0.88, 0.03, tf=True, description="same patronymic"),
            Level("similar", 0.05, 0.01, description="typo in patronymic"),
            Level("initial", 0.06, 0.05, description="initial matches"),
            Level("different", 0.01, 0.9, description="different patronymics (father and son, namesakes)"),
        ), tf_column="mn", display=("mn",)),
        EmailComparison("email", "Email", (
            Level("exact", 0.55, 1e-5, tf=True, description="a shared personal address"),
            Level("shared_mailbox", 0.08, 1e-4, tf=True, description="a shared mailbox (info@, a colleague's)",
                  group="organization"),
            Level("same_local_part", 0.12, 1e-5, tf=True,
                  description="same mailbox name at another domain (work vs personal)", subsumed_by=_NAME),
            Level("similar_local_part", 0.03, 1e-4, description="mailbox names differ by a typo",
                  subsumed_by=_NAME),
            Level("different", 0.30, 0.9999, description="different addresses (work vs personal is common)"),
        ), tf_column="emails", display=("emails",)),
        PhoneComparison("phone", "Phone", (
            Level("exact", 0.50, 1e-5, tf=True, description="a shared personal number"),
            Level("shared_line", 0.12, 1e-4, tf=True,
                  description="a shared line several people answer (office switchboard)", group="organization"),
            Level("different", 0.38, 0.9999, description="different numbers (mobile vs office is common)"),
        ), tf_column="phones", display=("phones",)),
        CompanyComparison("company", "Company", (
            Level("exact", 0.68, 0.001, tf=True, description="same company (legal form ignored)", group=_ORG),
            Level("similar", 0.10, 0.002, description="token similarity ≥ 0.92 (typo, word order, transliteration)",
                  group=_ORG),
            Level("weak", 0.05, 0.01, description="token similarity ≥ 0.75", group=_ORG),
            Level("email_domain", 0.10, 0.002, description="one side's work-email domain names the other's company",
                  group=_ORG),
            Level("different", 0.17, 0.987, description="different companies (people change jobs)"),
        ), tf_column="company_key", display=("company_text",)),
        ExactComparison("inn", "INN (company tax id)", (
            Level("exact", 0.85, 0.001, tf=True, description="same INN", group=_ORG),
            Level("different", 0.15, 0.999, description="different INN"),
        ), tf_column="inn", display=("inn",)),
        FuzzyTextComparison("city", "City", (
            Level("exact", 0.80, 0.05, tf=True, description="same city", group=_ORG),
            Level("similar", 0.05, 0.02, description="spelling variant", group=_ORG),
            Level("different", 0.30, 0.93, description="different cities (or spellings the profile did not unify)"),
        ), tf_column="city", display=("city",), thresholds=(0.88,), corroborates=False, max_weight=2.0),
        FuzzyTextComparison("job_title", "Job title", (
            Level("exact", 0.45, 0.05, tf=True, description="same title"),
            Level("similar", 0.10, 0.05, description="similar title"),
            Level("different", 0.45, 0.9, description="different titles (weak evidence)"),
        ), tf_column="title", display=("title",), thresholds=(0.9,), corroborates=False, max_weight=1.5),
    ]


def companies_comparisons() -> list[Comparison]:
    """Companies/accounts: name key, INN (strong both ways), web/email domain, phone, city."""
    return [
        CompanyComparison("company", "Company name", (
            Level("exact", 0.70, 0.001, tf=True, description="same name (legal form ignored)"),
            Level("similar", 0.15, 0.002, description="token similarity ≥ 0.92"),
            Level("weak", 0.07, 0.01, description="token similarity ≥ 0.75"),
            Level("email_domain", 0.05, 0.002, description="one side's email domain names the other company"),
            Level("different", 0.08, 0.987, description="different names"),
        ), tf_column="company_key", display=("company_text",)),
        ExactComparison("inn", "INN", (
            # an INN names one legal entity: two different companies never share it by chance
            Level("exact", 0.95, 1e-6, description="same INN"),
            Level("different", 0.05, 0.99999, description="different INN: different legal entities"),
        ), tf_column="inn", display=("inn",)),
        ExactComparison("domain", "Website / email domain", (
            Level("exact", 0.85, 1e-4, tf=True, description="same domain"),
            Level("different", 0.15, 0.9999, description="different domains"),
        ), tf_column="domain", display=("domain",)),
        PhoneComparison("phone", "Phone", (
            Level("exact", 0.60, 1e-5, tf=True, description="same number"),
            Level("shared_line", 0.30, 1e-4, tf=True, description="a number shared by many records"),
            Level("different", 0.10, 0.9999, description="different numbers"),
        ), tf_column="phones", display=("phones",)),
        EmailComparison("email", "Email", (
            Level("exact", 0.5, 1e-5, tf=True, description="same address"),
            Level("shared_mailbox", 0.3, 1e-4, tf=True, description="same shared mailbox"),
            Level("same_local_part", 0.02, 0.01, tf=True, description="same mailbox name, other domain"),
            Level("similar_local_part", 0.02, 0.01, description="similar mailbox name"),
            Level("different", 0.16, 0.97, description="different addresses"),
        ), tf_column="emails", display=("emails",)),
        FuzzyTextComparison("city", "City", (
            Level("exact", 0.85, 0.05, tf=True, description="same city"),
            Level("similar", 0.05, 0.02, description="spelling variant"),
            Level("different", 0.10, 0.93, description="different cities: another branch or company"),
        ), tf_column="city", display=("city",), thresholds=(0.88,)),
    ]


def generic_comparison(name: str, kind: str, column: str, *, thresholds: Sequence[float] | None = None) -> Comparison:
    """A comparison on any column from the rules file: exact, jaro_winkler, levenshtein, date."""
    if kind == "exact":
        return ExactComparison(name, name, (
            Level("exact", 0.9, 0.01, tf=True, description=f"same {column}"),
            Level("different", 0.1, 0.99, description=f"different {column}"),
        ), tf_column=column, display=(column,))
    if kind in ("jaro_winkler", "token"):
        ts = tuple(thresholds or (0.92, 0.8))
        levels = [Level("exact", 0.8, 0.01, tf=True, description=f"same {column}")]
        m_left = 0.15
        for i, t in enumerate(ts):
            share = m_left / 2 if i < len(ts) - 1 else m_left
            m_left -= share if i < len(ts) - 1 else 0
            levels.append(Level(f"jw_{t:g}", share, 0.01 * (i + 1) * 2, description=f"Jaro-Winkler ≥ {t:g}"))
        levels.append(Level("different", 0.05, 0.95, description=f"different {column}"))
        return FuzzyTextComparison(name, name, tuple(levels), tf_column=column, display=(column,),
                                   thresholds=ts)
    if kind in ("levenshtein", "levenshtein_digits", "exact_digits"):
        ds = tuple(int(t) for t in (thresholds or (1, 2)))
        levels = [Level("exact", 0.85, 0.001, tf=True, description=f"same {column}")]
        levels += [Level(f"edit_{d}", 0.1 / len(ds), 0.002 * (i + 1), description=f"edit distance ≤ {d}")
                   for i, d in enumerate(ds)]
        levels.append(Level("different", 0.05, 0.995, description=f"different {column}"))
        return EditDistanceComparison(name, name, tuple(levels), tf_column=column, display=(column,),
                                      distances=ds)
    if kind == "date":
        return DateComparison(name, name, (
            Level("exact", 0.85, 0.0005, tf=True, description="same date"),
            Level("typo", 0.08, 0.002, description="one digit off or day/month swapped"),
            Level("close", 0.03, 0.01, description="two digits off"),
            Level("different", 0.04, 0.99, description="different dates"),
        ), tf_column=column, display=(column,))
    raise ValueError(f"unknown comparison type {kind!r}")


def comparison_pairs_view(features: pl.DataFrame, pairs: pl.DataFrame,
                          extra: dict[str, pl.Series] | None = None) -> PairView:
    """A PairView over ``pairs`` (columns ``l``, ``r`` = feature row positions)."""
    assert IDX in features.columns
    return PairView(features, pairs, extra)
