"""Review queue and --explain show the values as typed beside the match keys (issue 13)."""

from __future__ import annotations

from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.engine import explain_pair

ROWS = [{"Id": "1", "First Name": "Иван", "Last Name": "Петров", "City": "Москва", "Email": "ivan@x.ru"},
        {"Id": "2", "First Name": "Ivan", "Last Name": "Petrov", "City": "Moscow", "Email": "ipetrov@gmail.com"}]


def test_review_csv_shows_typed_values_and_match_keys() -> None:
    result = dedupe(table_from_rows(ROWS))
    review = result.review
    assert review.height == 1
    row = review.row(0, named=True)
    assert row["left_city"] == "Москва" and row["right_city"] == "Moscow"
    assert row["left_city_key"] == row["right_city_key"] == "moskva"
    assert row["left_name"] == "Петров Иван" and row["right_name"] == "Petrov Ivan"
    assert row["label"] == ""


def test_explain_shows_typed_values_beside_keys() -> None:
    exp = explain_pair(table_from_rows(ROWS), "1", "2")
    city = next(s for s in exp.steps if s.field == "city")
    assert (city.left_original, city.right_original) == ("Москва", "Moscow")
    assert city.left == "moskva"
    text = exp.to_text()
    assert "Москва | Moscow" in text and "keys: moskva | moskva" in text
    assert exp.to_dict()["steps"][1]["left_original"] == "Иван"


def test_pairs_carry_a_calibrated_score_monotone_in_the_match_weight() -> None:
    from crmclean.matching.calibration import fit_platt

    pairs = dedupe(table_from_rows(ROWS)).pairs
    assert "calibrated_score" in pairs.columns
    ordered = pairs.sort("match_weight")
    assert ordered["calibrated_score"].to_list() == sorted(ordered["calibrated_score"].to_list())
    a, _b = fit_platt([-5.0, -3.0, 0.0, 2.0, 4.0, 8.0, 10.0], [False, False, False, True, False, True, True])
    assert a > 0
