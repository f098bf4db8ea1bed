"""The engine end to end: accuracy on generated data, review/labels round trip, linking, explain, companies."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from _match_helpers import table_from_frame

from crmclean.config import parse_rules
from crmclean.matching import dedupe, explain_pair, link, read_labels
from crmclean.testing.generate import cluster_pairs, generate_companies, generate_contacts, pairwise_scores, true_pairs


@pytest.fixture(scope="module")
def contacts() -> tuple[pl.DataFrame, pl.DataFrame]:
    return generate_contacts(1500, seed=21)


@pytest.fixture(scope="module")
def result(contacts):  # type: ignore[no-untyped-def]
    frame, _ = contacts
    return dedupe(table_from_frame(frame))


def test_zero_config_accuracy_on_generated_contacts(contacts, result) -> None:  # type: ignore[no-untyped-def]
    _, truth = contacts
    clusters = result.clusters
    assert clusters.get_column("record_id").to_list() == truth.get_column("record_id").to_list()
    predicted = cluster_pairs(clusters["record_id"].to_list(), clusters["cluster_id"].to_list())
    scores = pairwise_scores(predicted, true_pairs(truth))
    assert scores["precision"] >= 0.95, scores
    assert scores["f1"] >= 0.92, scores


def test_cluster_roles_and_ids_are_consistent(result) -> None:  # type: ignore[no-untyped-def]
    c = result.clusters
    assert set(c["cluster_role"].unique()) == {"master", "duplicate", "single"}
    masters = c.filter(pl.col("cluster_role") == "master")
    assert (masters["cluster_id"] == masters["record_id"]).all()  # a cluster is named after its master
    singles = c.filter(pl.col("cluster_role") == "single")
    assert (singles["cluster_id"] == singles["record_id"]).all() and singles["match_score"].null_count() == len(
        singles)
    dups = c.filter(pl.col("cluster_role") == "duplicate")
    assert dups["match_score"].min() >= 0.5
    assert result.golden.height == masters.height
    assert {"email", "phone", "name"} <= {b["key"] for b in result.blocking_stats}
    assert set(result.pairs["decision"].unique()) <= {"match", "review", "no-match"}


def test_review_labels_round_trip(contacts, result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame, truth = contacts
    review = result.review
    assert review.height > 0 and "label" in review.columns
    entity = dict(zip(truth["record_id"], truth["entity_id"], strict=True))
    rows = review.select("left_id", "right_id").rows()
    path = tmp_path / "review.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["left_id", "right_id", "score", "label"])
        for a, b in rows:
            w.writerow([a, b, "0.7", "accept" if entity[a] == entity[b] else "reject"])
    labels = read_labels(path)
    assert labels.height == len(rows)
    again = dedupe(table_from_frame(frame), labels=path)
    cl = dict(zip(again.clusters["record_id"], again.clusters["cluster_id"], strict=True))
    for a, b, accepted in labels.iter_rows():
        assert (cl[a] == cl[b]) == accepted, (a, b, accepted)
    assert "labels" in again.model.trained or labels.height < 10


def test_bad_label_is_reported_with_line(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("left_id,right_id,label\n1,2,accept\n3,4,maybe\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"r\.csv:3.*maybe"):
        read_labels(path)


def test_link_finds_rows_that_already_exist(contacts) -> None:  # type: ignore[no-untyped-def]
    frame, truth = contacts
    joined = frame.with_columns(truth["entity_id"]).with_row_index("pos")
    first = joined.group_by("entity_id").agg(pl.col("pos").min())
    in_crm = joined.join(first, on=["entity_id", "pos"], how="semi")
    incoming = joined.join(first, on=["entity_id", "pos"], how="anti")  # later copies of known entities
    known = set(in_crm["entity_id"])
    crm = table_from_frame(in_crm.drop("pos", "entity_id"))
    new = table_from_frame(incoming.drop("pos", "entity_id"))
    result = link(new, crm)
    matches = result.matches.filter(pl.col("decision") == "match")
    ent = dict(zip(joined["Id"], joined["entity_id"], strict=True))
    correct = sum(ent[a] == ent[b] for a, b in matches.select("source_id", "other_id").rows())
    assert correct / max(matches.height, 1) >= 0.95
    assert matches.height / incoming.height >= 0.8  # every incoming row is a copy of a known entity
    assert all(ent[a] in known for a in matches["source_id"])
    annotated = result.annotated(new.frame, new.id_column)
    assert annotated.height == new.frame.height
    assert set(annotated["match_decision"].unique()) <= {"exists", "review", "new"}


def test_explain_waterfall(contacts, result) -> None:  # type: ignore[no-untyped-def]
    frame, _ = contacts
    a, b = result.pairs.filter(pl.col("decision") == "match").select("left_id", "right_id").row(0)
    expl = explain_pair(table_from_frame(frame), a, b)
    text = expl.to_text()
    assert "prior" in text and "last_name" in text and "match weight" in text
    assert expl.decision == "match"
    assert abs(expl.steps[-1].cumulative - expl.match_weight) < 1e-6
    html = expl.to_html()
    assert "<table" in html and "last_name" in html
    with pytest.raises(Exception, match="not found"):
        explain_pair(table_from_frame(frame), a, "no-such-id")


def test_companies_use_inn_and_name() -> None:
    frame, truth = generate_companies(800, seed=5)
    result = dedupe(table_from_frame(frame, object_type="companies"))
    assert result.summary["object"] == "companies"
    predicted = cluster_pairs(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list())
    scores = pairwise_scores(predicted, true_pairs(truth))
    assert scores["precision"] >= 0.9 and scores["recall"] >= 0.8, scores


def test_rules_file_tunes_thresholds_and_survivorship(contacts) -> None:  # type: ignore[no-untyped-def]
    frame, _ = contacts
    rules = parse_rules(
        "dedupe:\n  thresholds: {match: 0.99, review: 0.9}\n  comparisons:\n    job_title: {enabled: false}\n"
        "  survivorship:\n    master: [newest]\n    fields: {Комментарий: concat_unique}\n"
    )
    strict = dedupe(table_from_frame(frame), rules)
    assert "job_title" not in {c.name for c in strict.setup.comparisons}
    assert strict.summary["thresholds"] == {"match": 0.99, "review": 0.9}
    assert "Комментарий" in strict.golden.columns
