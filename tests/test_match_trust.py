"""Matching stewards can trust (issue 13): branches, legal types, evidence counted once, pair vs cluster columns."""

from __future__ import annotations

import polars as pl
from _match_helpers import table_from_frame, table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.clustering import cluster_pairs
from crmclean.matching.engine import prepare
from crmclean.testing.generate import cluster_pairs as same_cluster_pairs
from crmclean.testing.generate import generate_companies, pairwise_scores, true_pairs

HEAD = {"Id": "1", "Наименование": "ООО «Ромашка»", "ИНН": "7707083893", "КПП": "770701001", "Город": "Москва",
        "Телефон": "+7 495 111-22-33", "Сайт": "romashka.ru"}


def _companies(rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return table_from_rows(rows, object_type="companies")


def test_same_inn_different_kpp_is_a_branch_never_merged_and_linked_as_parent() -> None:
    rows = [
        HEAD,
        {**HEAD, "Id": "2", "Наименование": "Ромашка ООО"},  # a duplicate of the head office
        {**HEAD, "Id": "3", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44"},  # a branch
        {**HEAD, "Id": "4", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44",
         "Наименование": "Ромашка"},  # the branch entered twice
    ]
    result = dedupe(_companies(rows), object_type="companies")
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"] and cl["3"] == cl["4"] and cl["1"] != cl["3"]
    parent = dict(zip(result.clusters["record_id"], result.clusters["parent_id"], strict=True))
    assert parent["3"] == parent["4"] == cl["1"] and parent["1"] is None
    pair = result.pairs.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "3"))
    assert pair.height == 0 or pair["decision"][0] == "no-match"
    assert "parent_id" in result.annotated(_companies(rows).frame).columns


def test_an_organization_and_a_sole_trader_never_merge_on_a_shared_inn() -> None:
    rows = [
        {"Id": "1", "Наименование": "ООО «Вектор»", "ИНН": "7707083893", "Телефон": "+7 495 111-22-33"},
        {"Id": "2", "Наименование": "ИП Векторов Иван Петрович", "ИНН": "7707083893",
         "Телефон": "+7 495 111-22-33"},
    ]
    setup = prepare(_companies(rows), object_type="companies")
    assert setup.features["entity_type"].to_list() == ["ul", "ip"]
    assert setup.features["inn"].to_list()[1] is None  # an ИП's 10-digit INN is somebody else's: no evidence
    pairs = pl.DataFrame({"l": [0], "r": [1]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    scored = setup.score(pairs)
    assert scored["vetoed"][0] and scored["probability"][0] < 1e-6


def test_mailbox_name_at_another_company_is_not_corroboration() -> None:
    base = {"First Name": "Carlos", "Last Name": "Reyes"}
    rows = [{"Id": "1", **base, "Email": "c.reyes@acme.com", "Company": "Acme"},
            {"Id": "2", **base, "Email": "c.reyes@globex.com", "Company": "Globex"},
            {"Id": "3", **base, "Email": "c.reyes@gmail.com"}]
    setup = prepare(table_from_rows(rows, object_type="contacts"), object_type="contacts")
    pairs = pl.DataFrame({"l": [0, 0], "r": [1, 2]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    scored = setup.score(pairs)
    email = next(c for c in setup.comparisons if c.name == "email")
    names = [email.levels[k].name for k in scored["lvl__email"].to_list()]
    assert names == ["local_part_other_company", "same_local_part"]
    assert scored["w__email"][0] == 0.0 and scored["w__email"][1] > 0


def test_swapped_names_weigh_the_same_whichever_record_is_swapped() -> None:
    rows = [{"Id": "1", "First Name": "Иван", "Last Name": "Петров"},
            {"Id": "2", "First Name": "Петров", "Last Name": "Иван"},
            {"Id": "3", "First Name": "Иван", "Last Name": "Петров"}]
    rows += [{"Id": str(10 + i), "First Name": n, "Last Name": s}
             for i, (n, s) in enumerate([("Иван", "Сидоров"), ("Иван", "Козлов"), ("Анна", "Петрова"),
                                         ("Олег", "Петров"), ("Мария", "Смирнова")])]
    setup = prepare(table_from_rows(rows, object_type="contacts"), object_type="contacts")
    pairs = pl.DataFrame({"l": [0, 1], "r": [1, 2]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    scored = setup.score(pairs)
    assert scored["swapped"].to_list() == [True, True]
    w = (scored["w__first_name"] + scored["w__last_name"]).to_list()
    assert abs(w[0] - w[1]) < 1e-6


def test_pairs_say_the_pairs_own_decision_and_the_cluster_separately() -> None:
    frame, _ = generate_companies(300, seed=9, branch_rate=0.1)
    result = dedupe(table_from_frame(frame, object_type="companies"), object_type="companies")
    p = result.pairs
    assert {"score", "decision", "same_cluster", "left_cluster_id", "right_cluster_id"} <= set(p.columns)
    assert (p.filter(pl.col("decision") == "match")["score"] >= 0.9).all()
    assert (p["same_cluster"] == (p["left_cluster_id"] == p["right_cluster_id"])).all()


def test_generated_branches_are_never_merged() -> None:
    frame, truth = generate_companies(1500, seed=404, branch_rate=0.08, inn_clash_rate=0.02)
    assert truth["parent_id"].drop_nulls().len() > 0
    result = dedupe(table_from_frame(frame, object_type="companies"), object_type="companies")
    predicted = same_cluster_pairs(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list())
    ent = dict(zip(truth["record_id"], truth["entity_id"], strict=True))
    kpp = dict(zip(frame["Id"], frame["КПП"], strict=True))
    # a branch and its head office both carrying their KPPs are never one cluster
    assert not [(a, b) for a, b in predicted if ent[a] != ent[b] and kpp[a] and kpp[b] and kpp[a] != kpp[b]]
    assert pairwise_scores(predicted, true_pairs(truth))["f1"] >= 0.9


def test_chain_refusal_keeps_disagreeing_end_records_apart() -> None:
    edges = pl.DataFrame({"l": [0, 1], "r": [1, 2], "probability": [0.99, 0.98]},
                         schema={"l": pl.UInt32, "r": pl.UInt32, "probability": pl.Float64})
    evidence = {(0, 1): 8.0, (1, 2): 7.0, (0, 2): -1.0}
    loose = cluster_pairs(3, edges, evidence, lambda p: {}, min_cross_weight=-5.0)
    assert len(set(loose.labels)) == 1
    strict = cluster_pairs(3, edges, evidence, lambda p: {}, min_cross_weight=-5.0, min_chain_weight=3.0)
    assert len(set(strict.labels)) == 2 and "chain" in strict.refused.values()
