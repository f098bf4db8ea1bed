"""Branch questions a score cannot settle go to review (issue 13): a record without KPP of an INN with branches,
a record named as a branch ("филиал", a subdivision KPP) vs one that is not, in another city."""

from __future__ import annotations

import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching import dedupe

HEAD = {"Id": "1", "Наименование": "ООО «Ромашка»", "ИНН": "7707083893", "КПП": "", "Город": "Москва",
        "Телефон": "+7 495 111-22-33", "Сайт": "romashka.ru"}


def _result(rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return dedupe(table_from_rows(rows, object_type="companies"), object_type="companies")


def _pair(result, a: str, b: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    p = result.pairs.filter((pl.col("left_id") == a) & (pl.col("right_id") == b)
                            | (pl.col("left_id") == b) & (pl.col("right_id") == a))
    return p.row(0, named=True)


def test_record_without_kpp_vs_a_branch_kpp_of_the_same_inn_is_reviewed_not_merged() -> None:
    rows = [HEAD, {**HEAD, "Id": "2", "КПП": "165543001", "Наименование": "Ромашка"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] != cl["2"]
    pair = _pair(result, "1", "2")
    assert pair["decision"] == "review" and not pair["same_cluster"]
    assert result.review.height >= 1


def test_branch_named_record_in_another_city_is_reviewed_even_without_inn() -> None:
    rows = [{**HEAD, "ИНН": ""},
            {**HEAD, "Id": "2", "ИНН": "", "Наименование": "ООО Ромашка филиал Казань", "Город": "Казань"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] != cl["2"]
    assert _pair(result, "1", "2")["decision"] in ("review", "no-match")


def test_plain_duplicates_without_kpp_still_merge() -> None:
    rows = [HEAD, {**HEAD, "Id": "2", "Наименование": "Ромашка ООО"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"]


def test_a_chain_does_not_join_what_only_a_steward_may_join() -> None:
    rows = [HEAD,
            {**HEAD, "Id": "2", "КПП": "770701001"},  # the head office with its KPP: a duplicate of 1
            {**HEAD, "Id": "3", "КПП": "165543001", "Город": "Казань"},  # a branch: vetoed against 2
            {**HEAD, "Id": "4", "КПП": "", "Город": "Казань", "Наименование": "Ромашка филиал Казань"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] != cl["3"] and cl["2"] != cl["3"] and cl["1"] != cl["4"]
