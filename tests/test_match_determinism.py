"""Run-to-run determinism of dedupe: float sums in a fixed order, total sort orders of what is written."""

from __future__ import annotations

import numpy as np
import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.backends.polars import weigh_levels
from crmclean.matching.engine import _label_positions, prepare
from crmclean.matching.scoring import fixed_sum


def _left_fold(columns: list[np.ndarray]) -> np.ndarray:
    acc = columns[0].copy()
    for c in columns[1:]:
        acc = acc + c
    return acc


def test_fixed_sum_adds_left_to_right_nulls_as_zero() -> None:
    rng = np.random.default_rng(3)
    cols = {f"c{i}": rng.normal(size=2_000) * 10.0 ** rng.integers(-3, 4, size=2_000) for i in range(12)}
    frame = pl.DataFrame(cols).with_columns(pl.when(pl.col("c5") > 0).then(pl.col("c5")).alias("c5"))  # nulls
    got = frame.select(fixed_sum([pl.col(c) for c in cols]).alias("s")).get_column("s").to_numpy()
    want = _left_fold([frame.get_column(c).fill_null(0.0).to_numpy() for c in cols])
    assert np.array_equal(got, want)  # bit for bit: pl.sum_horizontal groups the additions by its thread pool


def test_pair_weight_is_the_field_weights_added_in_comparison_order() -> None:
    """A pair's evidence is its field weights added left to right (then the group adjustment): the same bits on
    every run and machine, whatever polars' threads do (pl.sum_horizontal gave ulp differences between runs)."""
    setup = prepare(table_from_rows([
        {"Id": "1", "First Name": "Olga", "Last Name": "Sokolova", "Email": "olga@vector.ru", "City": "Москва",
         "Phone": "+7 495 100-00-00", "Company": "Vector", "Title": "CFO"},
        {"Id": "2", "First Name": "Ivan", "Last Name": "Petrov", "Email": "ivan@vector.ru", "City": "Казань"},
    ]))
    rng = np.random.default_rng(5)
    n = 3_000
    data: dict[str, pl.Series] = {"l": pl.Series(np.zeros(n, dtype=np.uint32)),
                                  "r": pl.Series(np.ones(n, dtype=np.uint32)),
                                  "swapped": pl.Series(np.zeros(n, dtype=bool))}
    for comp in setup.comparisons:
        codes = rng.integers(-1, len(comp.levels), size=n)
        data[f"lvl__{comp.name}"] = pl.Series([None if c < 0 else int(c) for c in codes], dtype=pl.Int8)
        data[f"tfu__{comp.name}"] = pl.Series(rng.uniform(1e-5, 0.2, size=n), dtype=pl.Float32)
    scored = weigh_levels(pl.DataFrame(data), setup.model).filter(~pl.col("vetoed"))
    assert scored.height > 100
    fields = [scored.get_column(f"w__{c.name}").to_numpy() for c in setup.comparisons]
    want = _left_fold(fields) + scored.get_column("group_adjust").to_numpy()
    assert np.array_equal(scored.get_column("evidence").to_numpy(), want)


def test_tied_pairs_are_written_in_record_order() -> None:
    same = {"First Name": "Olga", "Last Name": "Sokolova", "Email": "olga.sokolova@vector.ru",
            "Phone": "+7 495 123-45-67", "City": "Москва"}
    rows = [{"Id": f"r{i}", **same} for i in range(5)]
    rows += [{"Id": f"x{i}", "First Name": f, "Last Name": s, "Email": f"{f}.{s}@mail.ru".lower()}
             for i, (f, s) in enumerate([("Ivan", "Petrov"), ("Anna", "Kuznetsova"), ("Pavel", "Orlov")])]
    result = dedupe(table_from_rows(rows))
    pairs = result.pairs
    tied = pairs.filter(pl.col("left_id").str.starts_with("r") & pl.col("right_id").str.starts_with("r"))
    assert tied.height == 10 and tied.get_column("score").n_unique() == 1
    # all ten equal: strongest first, ties by the left record's then the right record's position in the file
    assert list(tied.select("left_id", "right_id").iter_rows()) == [
        (f"r{a}", f"r{b}") for a in range(5) for b in range(a + 1, 5)]
    assert pairs.get_column("score").is_sorted(descending=True)


def test_a_pair_labelled_twice_keeps_its_last_label() -> None:
    ids = pl.Series("record_id", [f"id{i}" for i in range(50)])
    labels = pl.DataFrame({"left_id": ["id7", "id3", "id9", "id4", "id3"],
                           "right_id": ["id2", "id4", "id1", "id3", "id5"],
                           "accepted": [True, True, False, False, True]})
    out = _label_positions(labels, ids)
    # one row per pair, where its last label stands, with that label
    assert out.rows() == [(2, 7, True), (1, 9, False), (3, 4, False), (3, 5, True)]
