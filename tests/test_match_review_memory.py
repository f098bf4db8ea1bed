"""Review that remembers (issue 13): labels persist in the run store keyed by the source and the two record ids."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching.review_memory import (
    dedupe_remembering,
    label_review,
    recall_labels,
    remember_labels,
)

ROWS = [{"Id": "1", "First Name": "Иван", "Last Name": "Петров", "City": "Москва", "Email": "ivan@x.ru"},
        {"Id": "2", "First Name": "Ivan", "Last Name": "Petrov", "City": "Moscow", "Email": "ipetrov@gmail.com"},
        {"Id": "3", "First Name": "Анна", "Last Name": "Сидорова", "City": "Казань", "Email": "anna@y.ru"}]


def _labels(rows: list[tuple[str, str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"left_id": pl.String, "right_id": pl.String, "accepted": pl.Boolean},
                        orient="row")


def test_labels_are_keyed_by_the_two_ids_in_either_order_and_the_last_wins(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    assert remember_labels("src", _labels([("2", "1", False)]), store) == 1
    assert remember_labels("src", _labels([("1", "2", True), ("5", "4", False)]), store) == 2
    got = recall_labels("src", store).sort("left_id")
    assert got.rows() == [("1", "2", True), ("4", "5", False)]
    assert recall_labels("other", store).height == 0
    assert recall_labels("src", tmp_path / "missing.duckdb").height == 0


def test_a_rejected_pair_comes_back_labelled_and_is_never_merged(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    table = table_from_rows(ROWS)
    first = dedupe_remembering(table, None, store=store)
    assert first.review.height == 1 and first.review["label"][0] == ""
    # the steward rejects it (labels file given once) ...
    labels = tmp_path / "review.csv"
    labels.write_text("left_id,right_id,label\n2,1,reject\n", encoding="utf-8")
    second = dedupe_remembering(table, None, labels=labels, store=store)
    # ... and the next run without --labels still knows it
    third = dedupe_remembering(table_from_rows(ROWS), None, store=store)
    for result in (second, third):
        cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
        assert cl["1"] != cl["2"]
        shown = result.review.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "2"))
        assert shown.height == 0 or shown["label"][0] == "reject"
    assert third.summary["review_memory"]["remembered_labels"] == 1


def test_an_accepted_pair_is_merged_on_later_runs(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    table = table_from_rows(ROWS)
    dedupe_remembering(table, None, labels=_labels([("1", "2", True)]), store=store)
    later = dedupe_remembering(table_from_rows(ROWS), None, store=store)
    cl = dict(zip(later.clusters["record_id"], later.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"] != cl["3"]


def test_label_review_fills_only_labelled_pairs() -> None:
    review = pl.DataFrame({"left_id": ["1", "3"], "right_id": ["2", "4"], "label": ["", ""]})
    out = label_review(review, _labels([("2", "1", False)]))
    assert out["label"].to_list() == ["reject", ""]
