"""The matcher's vectorized fast paths give the same answers as the plain algorithms they replace."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.fields.dates import parse_dates_expr as parse_dates
from crmclean.matching.clustering import cluster_pairs, connected_components

# the formats survivorship tried before it shared crmclean.fields.dates: the one parser must agree with them
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M:%S",
                 "%d.%m.%Y %H:%M", "%d.%m.%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d/%m/%Y")


def _naive_components(n: int, edges: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(n)]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))))
def test_connected_components_match_union_find(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    assert connected_components(n, left, right).tolist() == _naive_components(n, edges)


def _edges(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64}, orient="row")


def test_two_record_clusters_merge_refuse_and_respect_labels() -> None:
    # Иванов Иван ~ Иван Иванов (0-1) merges; 2-3 carries net evidence against itself; 4-5 a steward rejected;
    # 6-7-8 is a chain checked by the full loop: 6~8 contradicts, so 8 stays out
    edges = _edges([(0, 1, 0.99), (2, 3, 0.95), (4, 5, 0.97), (6, 7, 0.99), (7, 8, 0.93)])
    evidence = {(2, 3): -8.0, (6, 8): -9.0, (6, 7): 10.0, (7, 8): 6.0}
    result = cluster_pairs(9, edges, evidence, lambda pairs: {}, cannot_link=[(5, 4)])
    assert result.labels == [0, 0, 2, 3, 4, 5, 6, 6, 8]
    assert result.refused == {(4, 5): "rejected", (2, 3): "conflict", (7, 8): "conflict"}


def test_must_link_forces_a_two_record_cluster() -> None:
    result = cluster_pairs(4, _edges([]), {(1, 2): -20.0}, lambda pairs: {}, must_link=[(2, 1)])
    assert result.labels == [0, 1, 1, 3]


def test_size_limit_one_refuses_pairs() -> None:
    result = cluster_pairs(2, _edges([(0, 1, 0.99)]), {}, lambda pairs: {}, max_cluster_size=1)
    assert result.labels == [0, 1]
    assert result.refused == {(0, 1): "size"}


def test_parse_dates_equals_trying_every_format() -> None:
    values = ["2024-03-01 10:00:00", "31.12.2024", "12/31/2024", "2024-01-02T10:00:00Z", " 01.02.2023 10:11",
              "2024-01-02T10:00:00.123+03:00", "вчера", None, "", "05/06/2020 10:00", "2024-02-30", "2020-01-27"]
    frame = pl.DataFrame({"Дата создания": values})
    cleaned = pl.col("Дата создания").str.strip_chars().str.replace(r"(\.\d+)?(Z|[+-]\d\d:?\d\d)$", "")
    every_format = pl.coalesce([cleaned.str.to_datetime(f, strict=False, time_unit="us") for f in _DATE_FORMATS])
    expected = frame.select(every_format).to_series()
    got = frame.select(parse_dates(pl.col("Дата создания"))).to_series()
    assert got.to_list() == expected.to_list()
    assert got.null_count() == 4  # вчера, None, "", 30 February


_NAME_PART = st.sampled_from(["ivan", "vania", "i", "v", "a", "aleksandr", "sasha", "s", ""])
_NAME_GROUPS = st.one_of(st.none(), st.lists(_NAME_PART, min_size=1, max_size=3).map("|".join))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_NAME_GROUPS, _NAME_GROUPS, _NAME_GROUPS, _NAME_GROUPS), min_size=1, max_size=30))
def test_name_group_predicates_equal_their_definition(rows: list[tuple[str | None, ...]]) -> None:
    """groups_overlap and first_initial read the name groups only where they can decide (the sides differ and hold
    several groups / a side is one letter): on any names and groups they equal the set definitions."""
    from crmclean.matching.backends.polars.compare import _first_initial, _groups_overlap

    class _View:
        def __init__(self) -> None:
            self.cols = {"fn": ([r[0] for r in rows], [r[1] for r in rows]),
                         "fn_groups": ([r[2] for r in rows], [r[3] for r in rows])}

        def left(self, c: str) -> pl.Series:
            return pl.Series(self.cols[c][0], dtype=pl.String)

        def right(self, c: str) -> pl.Series:
            return pl.Series(self.cols[c][1], dtype=pl.String)

    class _Ev:
        view = _View()

    overlap = _groups_overlap(_View().left("fn_groups"), _View().right("fn_groups")).fill_null(False).to_list()
    initial = _first_initial(_Ev(), "fn", "fn_groups").fill_null(False).to_list()  # type: ignore[arg-type]
    for k, (a, b, ga, gb) in enumerate(rows):
        want = ga is not None and gb is not None and bool(set(ga.split("|")) & set(gb.split("|")))
        assert overlap[k] == want, (ga, gb)

        def starts(x: str | None, y: str | None, groups: str | None) -> bool:
            return (x is not None and len(x) == 1
                    and ((y is not None and x == y[:1])
                         or (groups is not None and x in {g[:1] for g in groups.split("|")})))
        assert initial[k] == (starts(a, b, gb) or starts(b, a, ga)), (a, b, ga, gb)


_WORDS = st.sampled_from([None, "ivanov", "ivanova", "ivanof", "petrov", "i.petrov", "ivan", "a"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_WORDS, _WORDS, _WORDS), min_size=2, max_size=25),
       st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), min_size=1, max_size=40),
       st.sampled_from([("jaro_winkler", 0.9), ("levenshtein", 1.0), ("token_set", 0.8)]))
def test_all_of_scores_a_new_similarity_only_where_the_other_parts_hold(
        records: list[tuple[str | None, ...]], pairs: list[tuple[int, int]], metric: tuple[str, float]) -> None:
    """AllOf scores a similarity no condition asked for yet only on the pairs where its other parts hold: the same
    answer as scoring every pair first."""
    from crmclean.matching.backends.polars.compare import ChunkEvaluator
    from crmclean.matching.backends.polars.view import PairView, TermFrequencies
    from crmclean.matching.library import AllOf, Exact, Fuzzy, MinLength, Not

    features = pl.DataFrame({"a": [r[0] for r in records], "b": [r[1] for r in records],
                             "c": [r[2] for r in records]}, schema={"a": pl.String, "b": pl.String, "c": pl.String})
    n = features.height
    frame = pl.DataFrame({"l": [x % n for x, _ in pairs], "r": [y % n for _, y in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    fuzzy = Fuzzy("a", metric[0], metric[1])
    cond = AllOf((fuzzy, MinLength("b", 5), Not(Exact("c"))))
    tf = TermFrequencies(features)
    lazy = ChunkEvaluator(PairView(features, frame), tf).condition(cond)
    every = ChunkEvaluator(PairView(features, frame), tf)
    every.condition(fuzzy)  # scored on every pair first: AllOf reads it
    assert lazy.to_list() == every.condition(cond).to_list()


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(_WORDS, _WORDS, _WORDS), min_size=2, max_size=25),
       st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), min_size=1, max_size=40),
       st.integers(0, 40))
def test_codes_score_as_the_values_across_chunks(records: list[tuple[str | None, ...]],
                                                  pairs: list[tuple[int, int]], cut: int) -> None:
    """A similarity or a two-value predicate computed on dictionary codes (once per distinct pair of values,
    remembered from chunk to chunk) equals it computed on the strings of each pair; first and last names share a
    dictionary, so a crossed (swapped) pair scores like a straight one."""
    from crmclean.matching.backends.polars.compare import ChunkEvaluator, _gender_form, pair_metric
    from crmclean.matching.backends.polars.similarity import METRICS
    from crmclean.matching.backends.polars.view import PairView, TermFrequencies

    features = pl.DataFrame({"fn": [r[0] for r in records], "ln": [r[1] for r in records],
                             "x": [r[2] for r in records]}, schema={"fn": pl.String, "ln": pl.String, "x": pl.String})
    n = features.height
    frame = pl.DataFrame({"l": [x % n for x, _ in pairs], "r": [y % n for _, y in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    tf = TermFrequencies(features)
    for chunk in (frame.head(cut), frame.slice(cut)):
        view = PairView(features, chunk, encoding=tf.encoding())
        for left, right in (("fn", "fn"), ("x", "x"), ("fn", "ln")):
            for metric, score in METRICS.items():
                want = score(view.left(left), view.right(right))
                assert pair_metric(view, left, right, metric).to_list() == want.to_list(), (left, right, metric)
        want = _gender_form(view.left("x"), view.right("x")).fill_null(False)
        assert ChunkEvaluator(view, tf).by_values("x", "gender", _gender_form).to_list() == want.to_list()


_PHONE = st.sampled_from(["74951234567", "4951234567", "79161234567", "9161234567", "12025550123"])


@settings(max_examples=10, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_PHONE, max_size=3)), min_size=2, max_size=20),
       st.lists(st.tuples(st.integers(0, 19), st.integers(0, 19)), min_size=1, max_size=30))
def test_list_slots_equal_the_list_operations(records: list[list[str] | None], pairs: list[tuple[int, int]]) -> None:
    """A list column kept as slots of codes (empty, null and repeated elements included) answers Shares, Missing,
    the first (rarest) shared value and own numbers/lines as the list operations do."""
    from crmclean.matching.backends.polars import view as view_module
    from crmclean.matching.backends.polars.compare import ChunkEvaluator, _own_lines, _own_numbers
    from crmclean.matching.backends.polars.view import Encoding, PairView, TermFrequencies
    from crmclean.matching.library import Missing, Shares

    features = pl.DataFrame({"p": records}, schema={"p": pl.List(pl.String)})
    n = features.height
    frame = pl.DataFrame({"l": [x % n for x, _ in pairs], "r": [y % n for _, y in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    tf = TermFrequencies(features)
    slotted = Encoding(features)
    assert "p" in slotted.slots
    limit, view_module.LIST_SLOTS = view_module.LIST_SLOTS, -1
    try:
        as_lists = Encoding(features)
    finally:
        view_module.LIST_SLOTS = limit
    assert not as_lists.slots
    answers = []
    for encoding in (slotted, as_lists):
        ev = ChunkEvaluator(PairView(features, frame, encoding=encoding), tf)
        answers.append([ev.condition(Shares("p")).to_list(), ev.condition(Missing("p")).to_list(),
                        ev.first_shared("p").to_list(), _own_numbers(ev, "p").to_list(), _own_lines(ev, "p").to_list()])
    assert answers[0] == answers[1]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="abcchkstxz019.-_ё Щ", max_size=14), max_size=12))
def test_company_tokens_plain_path_is_the_full_one(stems: list[str]) -> None:
    """A lower-case ASCII domain stem skips _company_tokens' phrase and quote passes: the same key."""
    from crmclean.matching.features import _company_tokens, _latin_words, _without_legal_phrases

    fixed = ["blue-ridge-llc", "ooo-romashka", "123", "co.uk", "x..y", "-", "vector2", "acme.co", "ab_c", "чайка"]
    for value in [*fixed, *stems]:
        assert _company_tokens(value) == _latin_words(_without_legal_phrases(value)), value


def test_a_few_pairs_against_a_large_memo_are_computed_afresh() -> None:
    """per_value_pair reads the memo only for a share of it worth the pass: a few pairs asked against a large memo
    (clustering's score_missing) are computed afresh — the same values — and leave the memo as it was."""
    from crmclean.matching.backends.polars.similarity import MEMO_READ_SHARE, per_value_pair

    values = pl.Series("v", [f"w{i}" for i in range(40)], dtype=pl.String)
    calls: list[int] = []

    def fn(a: pl.Series, b: pl.Series) -> pl.Series:
        calls.append(len(a))
        return a.str.len_chars() + b.str.len_chars()

    codes = pl.Series(range(40), dtype=pl.UInt32)
    memo: dict[str, pl.DataFrame] = {}
    big = per_value_pair(codes, codes.reverse(), values, "len", memo, fn, pl.UInt32())
    assert memo["len"].height == 40
    few_a, few_b = pl.Series([3, 5, None], dtype=pl.UInt32), pl.Series([7, 5, 1], dtype=pl.UInt32)
    assert 2 * MEMO_READ_SHARE < 40  # two distinct pairs asked: under the share of the memo, it is not read
    got = per_value_pair(few_a, few_b, values, "len", memo, fn, pl.UInt32())
    want = [len(f"w{a}") + len(f"w{b}") if a is not None else None for a, b in zip([3, 5, None], [7, 5, 1], strict=True)]
    assert got.to_list() == want
    assert memo["len"].height == 40 and calls == [40, 2]
    assert big.to_list() == [len(f"w{i}") + len(f"w{39 - i}") for i in range(40)]


def test_term_frequencies_of_a_dictionary_by_code_equal_the_text_join() -> None:
    """u of a coded column's own dictionary is read by code (counts of the codes, no texts joined): equal to the join
    of the texts on the column's table, a value of a shared dictionary the column does not hold (a name swap's first
    and last names) included, and list elements counted one by one."""
    from crmclean.matching.backends.polars.view import TermFrequencies

    features = pl.DataFrame({
        "fn": ["ivan", "ivan", None, "petr", "anna", "ivan"],
        "ln": ["petrov", "ivanov", "ivanov", None, "petrov", "smith"],
        "phones": [["1", "2"], ["2"], [], None, ["3", "1", "2"], ["9"]],
    })
    tf = TermFrequencies(features)
    enc = tf.encoding(["fn", "ln", "phones"])
    for column in ("fn", "ln", "phones"):
        values = enc.values[column]
        assert tf.code_counts(column, values.clone()) is None  # another series than the dictionary: by text
        assert tf.lookup(column, values).to_list() == tf.lookup(column, values.clone()).to_list(), column
        counts = tf.code_counts(column, values)
        assert counts is not None
        by_text = values.to_frame("value").join(tf.table(column), on="value", how="left", maintain_order="left")
        assert counts.to_list() == by_text.get_column("count").fill_null(0).to_list()
