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


def test_branch_named_record_in_another_city_is_never_merged_even_without_inn() -> None:
    # the record says where it is (the branch in Kazan), so Moscow is another place: not merged, and (round 4)
    # no review question either (0 duplicates among such questions on tuning seeds 3-5)
    rows = [{**HEAD, "ИНН": ""},
            {**HEAD, "Id": "2", "ИНН": "", "Наименование": "ООО Ромашка филиал Казань", "Город": "Казань"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] != cl["2"]
    pairs = result.pairs.filter(pl.col("left_id").is_in(["1", "2"]) & pl.col("right_id").is_in(["1", "2"]))
    assert set(pairs.get_column("decision").to_list()) <= {"no-match"}
    assert result.review.height == 0


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


def test_a_record_nothing_places_beside_two_registrations_is_one_question() -> None:
    # head office (KPP 01) and a branch (KPP 43, Kazan), each with a copy; a record with only the INN and the site
    # may be a copy of either: one question (two pairs, one question_id), never merged
    rows = [{**HEAD, "КПП": "770701001"}, {**HEAD, "Id": "2", "КПП": "770701001", "Наименование": "Ромашка"},
            {**HEAD, "Id": "3", "КПП": "770743001", "Город": "Казань", "Телефон": "+7 843 222-33-44"},
            {**HEAD, "Id": "4", "КПП": "770743001", "Город": "Казань", "Телефон": "+7 843 222-33-44",
             "Наименование": "Ромашка ООО"},
            {"Id": "5", "Наименование": "Ромашка", "ИНН": "7707083893", "КПП": "", "Город": "", "Телефон": "",
             "Сайт": "romashka.ru"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"] and cl["3"] == cl["4"] and cl["1"] != cl["3"]
    assert len({cl["5"], cl["1"], cl["3"]}) == 3
    asked = result.review.filter((pl.col("left_id") == "5") | (pl.col("right_id") == "5"))
    others = {cl[b if a == "5" else a] for a, b in asked.select("left_id", "right_id").iter_rows()}
    assert others == {cl["1"], cl["3"]}
    assert asked.get_column("question_id").n_unique() == 1
    assert result.review.columns[0] == "question_id"


def test_review_questions_centre_on_the_record_in_doubt() -> None:
    import numpy as np

    from crmclean.matching.clustering import review_questions

    # clusters: {0, 1} (head), {2, 3} (branch), 4 alone (placeless), 5 and 6 alone (a name-only pair)
    roots = np.array([0, 0, 2, 2, 4, 5, 6])
    left, right = np.array([0, 4, 3, 5]), np.array([4, 2, 4, 6])
    q = review_questions(left, right, roots)
    assert q[0] == q[1] == q[2] and q[3] != q[0]
    assert q.tolist() == [1, 1, 1, 2]
    assert review_questions(np.array([], dtype=np.int64), np.array([], dtype=np.int64), roots).tolist() == []


def test_a_record_with_only_the_inn_beside_branches_alone_is_the_head_office() -> None:
    # no record carries the head office's KPP: the record with the INN alone (no KPP, no branch mark, nothing
    # placing it at a branch) is the legal entity itself — another registration than the Kazan branch, linked as
    # its parent, not merged and not a review question
    rows = [{**HEAD, "Город": "", "Телефон": ""},
            {**HEAD, "Id": "2", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44"},
            {**HEAD, "Id": "3", "КПП": "165543001", "Город": "Казань", "Наименование": "Ромашка"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    parent = dict(zip(result.clusters["record_id"], result.clusters["parent_id"], strict=True))
    assert cl["2"] == cl["3"] and cl["1"] != cl["2"]
    assert parent["2"] == cl["1"]
    assert result.review.height == 0


def test_another_mailbox_in_the_branchs_city_is_another_registration() -> None:
    # two registrations of one entity in one city (a branch with its KPP and office@, another with sales@): the city
    # alone would place the KPP-less record at the branch; its own mailbox says it is another registration
    rows = [{**HEAD, "КПП": "770701001", "Email": "info@romashka.ru"},
            {**HEAD, "Id": "2", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44",
             "Email": "office@romashka.ru"},
            {**HEAD, "Id": "3", "Город": "Казань", "Телефон": "", "Email": "sales@romashka.ru"}]
    result = _result(rows)
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert len(set(cl.values())) == 3
