"""Pair views and term-frequency lookups: the polars backend's per-chunk state.

A :class:`PairView` gathers left/right feature columns of a pair frame lazily (or all at once
for big chunks); :class:`TermFrequencies` holds per-column value frequencies (u of a tf level)
and per-record derived values, computed once per table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import polars as pl

from crmclean.matching.library import NAME_SWAP

# feature columns only blocking, display or explanations read: gathered lazily when asked for, never in bulk
_NOT_COMPARED = frozenset({"record_id", "name_display", "fn_canon", "fn_canon_ph", "mi", "email", "email_domain",
                           "company_ph", "website_domain", "fn_is_initial"})


LIST_SLOTS = 4  # a list column is kept as slots of codes when no record holds more distinct elements than this


class Encoding:
    """A feature table's compared string columns as UInt32 codes into dictionaries of their distinct values.

    Built once per table. A list column whose records hold at most ``LIST_SLOTS`` distinct elements becomes that
    many code columns (slots, in list order, null past a record's last element): set operations on two records'
    lists are comparisons of a few code columns. A pair view gathers 4-byte codes instead of strings, equality is equality of codes and a
    similarity is scored once per distinct pair of values (``memo``: per dictionary, kept across chunks). Columns a
    name swap exchanges (``shared``) have one dictionary between them, so a swapped pair's codes move between them.
    """

    def __init__(self, features: pl.DataFrame, extra: dict[str, pl.Series] | None = None,
                 shared: tuple[tuple[str, str], ...] = NAME_SWAP.swap_columns,
                 columns: Collection[str] | None = None) -> None:
        source = {c: features.get_column(c) for c in features.columns} | (extra or {})
        if columns is not None:  # the columns comparisons read, and the columns a swap exchanges with them
            wanted = set(columns) | {c for g in shared if set(g) & set(columns) for c in g}
            source = {c: s for c, s in source.items() if c in wanted}
        strings = {c: s for c, s in source.items() if s.dtype == pl.String and c not in _NOT_COMPARED}
        groups = [g for g in shared if all(c in strings for c in g)]
        grouped = {c for g in groups for c in g}
        self.values: dict[str, pl.Series] = {}
        self.codes: dict[str, pl.Series] = {}
        self.memo: dict[str, dict[str, pl.DataFrame]] = {}  # per column: metric -> scored code pairs
        self._derived: dict[tuple[int, str], pl.Series] = {}
        # list columns of at most LIST_SLOTS elements per record: one code column per slot ("emails#0" ...)
        self.slots: dict[str, list[str]] = {}
        for c, s in source.items():
            if s.dtype == pl.List(pl.String) and c not in _NOT_COMPARED:
                self._slot(c, s)
        for group in [*groups, *((c,) for c in strings if c not in grouped)]:
            # a fresh categorical dictionary per group: one hashing pass per column gives dense codes
            categories = pl.Categories.random()
            coded = {c: strings[c].cast(pl.Categorical(categories)) for c in group}
            values = _dictionary([coded[c] for c in group], [strings[c] for c in group])
            memo: dict[str, pl.DataFrame] = {}
            for c in group:
                self.values[c] = values
                self.memo[c] = memo
                self.codes[c] = coded[c].to_physical().alias(c)

    def _slot(self, column: str, lists: pl.Series) -> None:
        """Slots of a list column (one categorical cast for all of them, a slot is its i-th element's code); long
        lists or null elements stay lists. A repeated element takes two slots (every slot operation reads them as a set)."""
        width = int(lists.list.len().max() or 0)  # type: ignore[arg-type]
        if width > LIST_SLOTS:
            return
        if lists.list.eval(pl.element().is_null().any()).list.first().fill_null(False).any():
            return  # null elements: kept as lists
        coded = lists.cast(pl.List(pl.Categorical(pl.Categories.random())))
        values = _dictionary([coded.explode()], [lists.explode()])
        self.slots[column] = [f"{column}#{i}" for i in range(max(width, 1))]
        self.values[column] = values
        self.memo[column] = {}
        for i, name in enumerate(self.slots[column]):
            self.values[name] = values
            self.codes[name] = coded.list.get(i, null_on_oob=True).to_physical().alias(name)

    def derived(self, column: str, name: str, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
        """``fn`` of each value of ``column``'s dictionary (aligned with its codes), computed once per table: texts as
        codes (equal where ``fn``'s results are; one dictionary, one coding), anything else (numbers, booleans) as
        it is."""
        key = (id(self.values[column]), name)
        if key not in self._derived:
            values = fn(self.values[column]).alias("v")
            if values.dtype == pl.String:
                lookup = values.drop_nulls().unique().to_frame().with_row_index("code")
                values = values.to_frame().join(lookup, on="v", how="left", maintain_order="left").get_column("code")
            # chunks run in threads (compare.COMPARE_THREADS): the first stored coding wins, so a chunk that built it
            # too reads the same one (a string column's codes follow unique()'s order, which differs per call)
            return self._derived.setdefault(key, values)
        return self._derived[key]


def _dictionary(categoricals: list[pl.Series], texts: list[pl.Series]) -> pl.Series:
    """The texts of categoricals sharing one fresh ``pl.Categories`` at their codes, from each code's first holder
    (``Categories.to_series`` walks the categories in Python): each code's first row found by one numpy assignment
    in reverse row order (the first holder written last), not by hashing the codes; a code no row holds is null."""
    codes = pl.concat([c.to_physical() for c in categoricals])
    held = codes.is_not_null()
    rows = held.arg_true().to_numpy()
    if len(rows) == 0:
        return pl.Series("v", [], dtype=pl.String)
    code = codes.filter(held).to_numpy()
    first = np.full(int(code.max()) + 1, -1, dtype=np.int64)
    first[code[::-1]] = rows[::-1]
    at = pl.Series(first)
    return pl.concat(texts).gather(at if first.min() >= 0 else at.replace(-1, None)).alias("v")


class PairView:
    """Left/right feature columns of a pair frame, gathered lazily and cached (string columns as codes)."""

    def __init__(self, features: pl.DataFrame, pairs: pl.DataFrame, extra: dict[str, pl.Series] | None = None,
                 encoding: Encoding | None = None, columns: Collection[str] | None = None):
        self.features = features
        self.pairs = pairs
        self.extra = extra or {}
        self.encoding = encoding if encoding is not None else Encoding(features, extra)
        self._cache: dict[tuple[str, str], pl.Series] = {}
        self._codes: dict[tuple[str, str], pl.Series] = {}
        self.left_idx = pairs.get_column("l")
        self.right_idx = pairs.get_column("r")
        if pairs.height > 10_000:
            # one parallel gather per side of every compared column beats dozens of single-column gathers
            # (``columns``: the columns the comparisons read; the rest are gathered when asked for)
            codes = pl.DataFrame(self.encoding.codes)
            cols = [c for c in features.columns if c not in _NOT_COMPARED and c not in self.encoding.codes
                    and c not in self.encoding.slots and (columns is None or c in columns)]
            for which, idx in (("l", self.left_idx), ("r", self.right_idx)):
                if codes.width:
                    for c, s in codes[idx].to_dict().items():
                        self._codes[(c, which)] = s
                if cols:
                    gathered = features.select(cols)[idx]
                    for c in cols:
                        self._cache[(c, which)] = gathered.get_column(c).alias(f"{c}_{which}")

    def __len__(self) -> int:
        return self.pairs.height

    def code(self, column: str, which: str) -> pl.Series | None:
        """The side's codes of a string column (None for a column kept as values: lists, numbers)."""
        key = (column, which)
        if key not in self._codes:
            if column not in self.encoding.codes:
                return None
            idx = self.left_idx if which == "l" else self.right_idx
            self._codes[key] = self.encoding.codes[column].gather(idx)
        return self._codes[key]

    def slots(self, column: str, which: str) -> list[pl.Series] | None:
        """The side's slot codes of a list column (:class:`Encoding`), or None where it is kept as lists."""
        names = self.encoding.slots.get(column)
        return None if names is None else [self.code(n, which) for n in names]  # type: ignore[misc]

    def comparable(self, column: str) -> tuple[pl.Series, pl.Series]:
        """(left, right) as codes where the column has them, else values: equal exactly where the values are."""
        a, b = self.code(column, "l"), self.code(column, "r")
        if a is None or b is None:
            return self.left(column), self.right(column)
        return a, b

    def derived(self, column: str, which: str, name: str, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
        """``fn`` of the side's values of ``column`` (booleans, or anything compared by equality): computed once per
        distinct value where the column has codes (:meth:`Encoding.derived`), else on the values."""
        codes = self.code(column, which)
        if codes is None:
            return fn(self.side(column, which))
        return self.encoding.derived(column, name, fn).gather(codes)

    def side(self, column: str, which: str) -> pl.Series:
        key = (column, which)
        if key not in self._cache:
            codes = self.code(column, which)
            if codes is not None:
                self._cache[key] = self.encoding.values[column].gather(codes).alias(f"{column}_{which}")
            else:
                source = self.extra[column] if column in self.extra else self.features.get_column(column)
                idx = self.left_idx if which == "l" else self.right_idx
                self._cache[key] = source.gather(idx).alias(f"{column}_{which}")
        return self._cache[key]

    def side_at(self, column: str, which: str, rows: pl.Series) -> pl.Series:
        """The side's values of ``column`` at ``rows`` of the pairs only (a coded column decoded there alone)."""
        codes = self.code(column, which)
        if codes is not None and (column, which) not in self._cache:
            return self.encoding.values[column].gather(codes.gather(rows)).alias(f"{column}_{which}")
        return self.side(column, which).gather(rows)

    def left(self, column: str) -> pl.Series:
        return self.side(column, "l")

    def right(self, column: str) -> pl.Series:
        return self.side(column, "r")

    def swap(self, a: str, b: str, which: str, rows: pl.Series) -> None:
        """Exchange the values of columns ``a`` and ``b`` of one side at ``rows``."""
        ca, cb = self.code(a, which), self.code(b, which)
        if ca is not None and cb is not None:
            if self.encoding.values[a] is not self.encoding.values[b]:
                raise ValueError(f"columns {a!r} and {b!r} are swapped but do not share a dictionary")
            self._codes[(a, which)] = ca.clone().scatter(rows, cb.gather(rows))
            self._codes[(b, which)] = cb.clone().scatter(rows, ca.gather(rows))
            self._cache.pop((a, which), None)
            self._cache.pop((b, which), None)
            return
        if ca is not None or cb is not None:
            raise ValueError(f"columns {a!r} and {b!r} are swapped but only one has codes")
        va, vb = self.side(a, which), self.side(b, which)
        self._cache[(a, which)] = va.clone().scatter(rows, vb.gather(rows)).alias(f"{a}_{which}")
        self._cache[(b, which)] = vb.clone().scatter(rows, va.gather(rows)).alias(f"{b}_{which}")


class TermFrequencies:
    """How often a random other record holds each value of a feature column (lists counted per element).

    u of a value held by ``c`` of ``T`` records is the leave-one-out share (c - 1) / (T - 1),
    smoothed with a few pseudo-records so a value seen twice in a tiny table is not "common".
    """

    SMOOTHING_RECORDS = 30.0
    SMOOTHING_U = 0.001

    def _smoothed_u(self, held: pl.Expr, total: float) -> pl.Expr:
        """u of a value ``held`` times among ``total``: its share, pulled toward SMOOTHING_U as if SMOOTHING_RECORDS
        more records held it (one formula for every term-frequency table)."""
        k, u0 = self.SMOOTHING_RECORDS, self.SMOOTHING_U
        return (held - 1 + k * u0) / (total - 1 + k)

    def __init__(self, features: pl.DataFrame, extra: dict[str, pl.Series] | None = None) -> None:
        self.features = features
        self.extra = extra or {}
        self._tables: dict[str, pl.DataFrame] = {}
        self._encodings: dict[frozenset[str] | None, Encoding] = {}

    def encoding(self, columns: Collection[str] | None = None) -> Encoding:
        """The features' string columns (those of ``columns``) as codes: built on first use, shared by every chunk's
        pair view."""
        key = None if columns is None else frozenset(columns)
        if key not in self._encodings:  # two threads may build it: the first stored wins, both read that one
            return self._encodings.setdefault(key, Encoding(self.features, self.extra, columns=columns))
        return self._encodings[key]

    def table(self, column: str) -> pl.DataFrame:
        if column not in self._tables:
            coded = self._coded(column)
            if coded is not None:  # counted by code (a built encoding's: code_counts), the texts gathered once per value
                per_code = self.code_counts(column, coded[0])
                assert per_code is not None
                total = float(per_code.sum())
                held = per_code.to_frame("len").with_row_index("code").filter(pl.col("len") > 0)
                frame = pl.DataFrame({"value": coded[0].gather(held.get_column("code")),
                                      "len": held.get_column("len").cast(pl.UInt32)})
            else:
                s = self.extra[column] if column in self.extra else self.features.get_column(column)
                if s.dtype == pl.List(pl.String):
                    s = s.explode()
                s = s.drop_nulls()
                total = float(len(s))
                frame = s.alias("value").to_frame().group_by("value").len()
            self._tables[column] = (
                frame.with_columns(self._smoothed_u(pl.col("len"), total).alias("tf"))
                .select("value", "tf", pl.col("len").alias("count"))
            )
        return self._tables[column]

    def _coded(self, column: str) -> tuple[pl.Series, list[pl.Series]] | None:
        """(dictionary, code columns) of ``column`` in an encoding built already (its slots for a list column)."""
        for enc in self._encodings.values():
            if column in enc.slots:
                return enc.values[column], [enc.codes[name] for name in enc.slots[column]]
            if column in enc.codes:
                return enc.values[column], [enc.codes[column]]
        return None

    def distinct(self, view: PairView, column: str, by: str) -> pl.Series:
        """u of each pair's left value of ``column`` counting distinct ``by`` values among its holders."""
        key = f"__distinct_{column}_{by}"
        if key not in self._tables:
            feats = self.features
            s = self.extra[column] if column in self.extra else feats.get_column(column)
            sig = (self.extra[by] if by in self.extra else feats.get_column(by)).cast(pl.String)
            frame = pl.DataFrame({"value": s, "sig": sig}).drop_nulls("value")
            total = float(frame.height)
            counts = frame.group_by("value").agg(
                pl.col("sig").drop_nulls().n_unique().alias("orgs"), pl.len().alias("rows"))
            # organizations, not rows: distinct signatures, but at least a quarter of the rows
            counts = counts.with_columns(
                pl.max_horizontal(pl.col("orgs").cast(pl.Float64), pl.col("rows").cast(pl.Float64) / 4,
                                  pl.lit(1.0)).alias("eff"))
            table = counts.select("value", self._smoothed_u(pl.col("eff"), total).alias("tf"))
            per_record = pl.DataFrame({"value": s}).join(table, on="value", how="left", maintain_order="left")
            self._tables[key] = per_record.select("tf")
        return self._tables[key].get_column("tf").gather(view.left_idx)

    def of_left_in(self, view: PairView, column: str, other: str) -> pl.Series:
        """u of each pair's left value of ``column`` looked up among the values of ``other``."""
        key = f"__record_{column}_in_{other}"
        if key not in self._tables:
            s = self.extra[column] if column in self.extra else self.features.get_column(column)
            self._tables[key] = self.lookup(other, s).to_frame("tf")
        return self._tables[key].get_column("tf").gather(view.left_idx)

    def shared_by_several(self, features: pl.DataFrame, column: str, values: pl.Series) -> pl.Series:
        """True where the value is held by records of two or more different surnames (a shared line/mailbox)."""
        key = f"__shared_{column}"
        if key not in self._tables:
            # several people: two or more surname sounds AND two or more given names among the holders, so a
            # typo in one record's surname (or a nickname) does not turn one person's mobile into a switchboard
            coded = self._coded(column) if features is self.features else None
            if coded is not None:
                # by code (a built encoding's; a list column's slots): a value one record holds has one surname, so
                # only codes held twice or more are counted, their holders' names gathered by row
                values, parts = coded
                rows = pl.int_range(0, features.height, dtype=pl.UInt32, eager=True)
                # sorted by code: the window and the group-by below read sorted keys (cheaper than hashing them)
                frame = pl.concat([pl.DataFrame({"code": p, "row": rows}) for p in parts]).drop_nulls("code").sort(
                    "code")
                frame = frame.filter(pl.len().over("code") >= 2)
                frame = frame.with_columns(features.get_column("ln_ph").gather(frame.get_column("row")).alias("ln_ph"),
                                           features.get_column("fn_canon").gather(frame.get_column("row"))
                                           .alias("fn_canon"))
                by = "code"
            else:
                frame = features.select(pl.col(column).alias("value"), "ln_ph", "fn_canon").explode(
                    "value").drop_nulls("value")
                # a value one record holds has one surname: only values held twice or more are counted
                if features is self.features:
                    held = self.table(column).filter(pl.col("count") >= 2).select("value")
                    frame = frame.join(held, on="value", how="semi")
                by = "value"
            shared = (
                frame.group_by(by, maintain_order=coded is not None).agg(
                    pl.col("ln_ph").drop_nulls().n_unique().alias("surnames"),
                    pl.col("fn_canon").drop_nulls().n_unique().alias("names"))
                .filter((pl.col("surnames") >= 2) & (pl.col("names") >= 2))
            )
            if coded is not None:
                shared = shared.select(coded[0].gather(shared.get_column("code")).alias("value"))
            self._tables[key] = shared.select("value", pl.lit(True).alias("shared"))
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
            enc = view.encoding
            if view.features is self.features and not view.extra and column in enc.codes:
                # once per distinct value (the column's dictionary), gathered by the records' codes
                per_record = self.lookup(column, enc.values[column]).gather(enc.codes[column])
            else:
                s = self.extra[column] if column in self.extra else self.features.get_column(column)
                per_record = self.lookup(column, s)
            self._tables[key] = per_record.to_frame("tf")
        return self._tables[key].get_column("tf").gather(view.left_idx)

    def code_counts(self, column: str, values: pl.Series) -> pl.Series | None:
        """How many records hold each value of ``values`` (Int64; list elements one by one, 0 for a value the column
        does not hold, as a name swap's shared dictionary has), where ``values`` is the dictionary ``column`` is coded
        against in a built encoding: the counts of :meth:`table` by code, no text joined. None otherwise."""
        coded = self._coded(column)
        if coded is None or coded[0] is not values:
            return None
        key = f"__code_counts_{column}"
        if key not in self._tables:
            flat = pl.concat(coded[1]).drop_nulls().to_numpy()
            self._tables[key] = pl.DataFrame({"count": np.bincount(flat, minlength=len(values)).astype(np.int64)})
        return self._tables[key].get_column("count")

    def lookup(self, column: str, values: pl.Series) -> pl.Series:
        counts = self.code_counts(column, values)
        if counts is not None:  # the column's own dictionary: u by code, as the join below gives it
            return pl.DataFrame({"len": counts}).select(
                pl.when(pl.col("len") > 0).then(self._smoothed_u(pl.col("len").cast(pl.UInt32), float(counts.sum())))
                .alias("tf")).to_series()
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


def per_record(view: PairView, tf: TermFrequencies, name: str, expr: pl.Expr) -> pl.Series:
    """A per-record expression's value for every record of the features (not per pair): computed once per table."""
    key = f"__derived_{name}"
    if view.features is tf.features:
        if key not in tf._tables:
            tf._tables[key] = view.features.select(expr.alias(name))
        return tf._tables[key].get_column(name)
    return view.features.select(expr.alias(name)).to_series()
