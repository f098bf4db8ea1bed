"""Review by calibrated score, uncontested names-only merges, and colleagues on one office line (issue 13)."""

from __future__ import annotations

import polars as pl
import pytest
from _match_helpers import table_from_frame, table_from_rows

from crmclean.config import RulesFile
from crmclean.config.dedupe import DedupeSettings
from crmclean.matching import dedupe
from crmclean.matching.calibration import calibrated
from crmclean.matching.engine import explain_pair
from crmclean.testing.generate import generate_contacts


@pytest.fixture(scope="module")
def generated():  # type: ignore[no-untyped-def]
    frame, _ = generate_contacts(1500, seed=31)
    table = table_from_frame(frame, object_type="contacts")
    return table, dedupe(table)


def test_review_queue_reads_the_calibrated_score(generated) -> None:  # type: ignore[no-untyped-def]
    table, _ = generated
    # a lower threshold than the default, so that this small file has a queue
    result = dedupe(table, RulesFile.model_validate({"dedupe": {"thresholds": {"review": 0.3}}}))
    review = result.review
    assert "calibrated_score" in review.columns
    # the queue reads the odds of a pair the clustering left apart (APART), at most its own calibrated score
    pairs = result.pairs.with_columns(
        calibrated(pl.col("match_weight"), "people", apart=True).alias("apart"))
    queued = pairs.join(review.select("left_id", "right_id"), on=["left_id", "right_id"], how="semi")
    assert review.height and queued.height == review.height
    assert (queued.get_column("apart") >= 0.3).all()
    # a pair left apart below the review threshold by those odds is never in review, whatever its model score
    low = pairs.filter((pl.col("apart") < 0.3) & ~pl.col("same_cluster"))
    assert low.height and not low.join(review.select("left_id", "right_id"), on=["left_id", "right_id"],
                                       how="semi").height


def test_pairs_left_apart_are_duplicates_less_often_than_their_score_says() -> None:
    weights = pl.select(pl.lit(pl.Series([0.0, 2.0, 4.0, 6.0]))).to_series()
    for object_type in ("people", "companies"):
        own = pl.select(calibrated(pl.lit(weights), object_type)).to_series()
        apart = pl.select(calibrated(pl.lit(weights), object_type, apart=True)).to_series()
        assert (apart < own).all()
    # an object type without maps of its own reads the people's
    assert pl.select(calibrated(pl.lit(3.0), "deals", apart=True) == calibrated(pl.lit(3.0), "people", apart=True)).item()


def test_review_on_score_keeps_the_old_band(generated) -> None:  # type: ignore[no-untyped-def]
    table, result = generated
    rules = RulesFile.model_validate({"dedupe": {"thresholds": {"review": 0.5, "review_on": "score"}}})
    old = dedupe(table, rules)
    assert (old.review.get_column("score") >= 0.5).all()
    # the model's probability is over-confident in the middle: the score band holds more pairs
    assert old.review.height > result.review.height


def test_old_rules_files_stay_valid() -> None:
    settings = DedupeSettings.model_validate({"thresholds": {"match": 0.95, "review": 0.4}})
    assert settings.thresholds.review_on == "calibrated" and settings.uncontested_names


def _person(rid: str, **values: str) -> dict[str, str]:
    return {"Id": rid, **values}


def test_uncontested_names_merge_and_contested_go_to_review() -> None:
    rows = [_person("1", **{"First Name": "Frederick", "Last Name": "Fairbridgeworth", "City": "Munich"}),
            _person("2", **{"First Name": "Frederick", "Last Name": "Fairbridgeworth", "City": "Munich",
                            "Email": "fairbridge1973@outlook.com"})]
    # filler people so that the names are rare in the file
    rows += [_person(str(10 + i), **{"First Name": f"Name{i}x", "Last Name": f"Surname{i}y", "City": "Berlin"})
             for i in range(60)]
    table = table_from_rows(rows, object_type="contacts")
    result = dedupe(table)
    clusters = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert clusters["1"] == clusters["2"]
    strict = RulesFile.model_validate({"dedupe": {"uncontested_names": False}})
    kept = dedupe(table, strict)
    clusters = dict(zip(kept.clusters["record_id"], kept.clusters["cluster_id"], strict=True))
    assert clusters["1"] != clusters["2"]
    pair = kept.pairs.filter((pl.col("left_id").is_in(["1", "2"])) & (pl.col("right_id").is_in(["1", "2"])))
    assert pair.get_column("reason").to_list() == ["names only"]


def test_colleagues_on_one_office_line_with_own_mobiles() -> None:
    office = "+7 495 123-45-67"
    rows = [_person("1", **{"First Name": "Регина", "Last Name": "Соколовская", "Phone": office,
                            "Mobile": "+7 958 298-40-37", "Company": "ООО Софтмаркет"}),
            _person("2", **{"First Name": "Регина", "Last Name": "Соколовская", "Phone": "8 (495) 1234567",
                            "Mobile": "+7 987 440-94-14", "Company": "Софтмаркет"}),
            _person("3", **{"First Name": "Регина", "Last Name": "Соколовская", "Phone": "8 (495) 1234567",
                            "Mobile": "8 958 2984037", "Company": "Софтмаркет"})]
    # other people answering the same switchboard make it a shared line
    rows += [_person(str(10 + i), **{"First Name": n, "Last Name": s, "Phone": office, "Company": "Софтмаркет"})
             for i, (n, s) in enumerate((("Иван", "Петров"), ("Олег", "Сидоров"), ("Анна", "Кузнецова")))]
    table = table_from_rows(rows, object_type="contacts")
    colleagues = explain_pair(table, "1", "2")
    phone = next(s for s in colleagues.steps if s.field == "phone")
    assert phone.level == "colleagues_own_numbers" and phone.weight < 0
    same = explain_pair(table, "1", "3")
    phone = next(s for s in same.steps if s.field == "phone")
    # the mobile is the most specific shared number: one person's, not the switchboard
    assert phone.level == "exact" and phone.weight > 0
    assert same.calibrated is not None and same.calibrated > 0.5
    # --explain shows what the review reads if the clustering leaves the two apart
    assert same.calibrated_apart is not None and same.calibrated_apart < same.calibrated
    assert "the review reads" in same.to_text() and same.to_dict()["calibrated_apart"] is not None


def test_namesakes_in_two_functions_at_one_company_merge_only_on_something_personal() -> None:
    office = "+7 495 123-45-67"
    base = {"First Name": "Регина", "Last Name": "Соколовская", "Phone": office, "Company": "ООО Софтмаркет",
            "City": "Москва"}
    rows = [_person("1", **base, **{"Job Title": "Главный бухгалтер"}),
            _person("2", **base, **{"Job Title": "Менеджер по продажам"})]
    rows += [_person(str(10 + i), **{"First Name": n, "Last Name": s, "Phone": office, "Company": "Софтмаркет"})
             for i, (n, s) in enumerate((("Иван", "Петров"), ("Олег", "Сидоров"), ("Анна", "Кузнецова")))]
    rows += [_person(str(20 + i), **{"First Name": f"Name{i}x", "Last Name": f"Surname{i}y", "City": "Berlin"})
             for i in range(40)]
    result = dedupe(table_from_rows(rows, object_type="contacts"))
    clusters = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert clusters["1"] != clusters["2"]
    # the company, city and office line two colleagues share are no evidence for the pair
    pair = result.pairs.filter((pl.col("left_id") == "1") & (pl.col("right_id") == "2"))
    assert '"job_title":{"level":"colleague_function"' in pair.get_column("evidence").item()
    # one mobile and one personal mailbox on both: one person who changed function
    for row in rows[:2]:
        row.update({"Mobile": "+7 916 555-44-33", "Email": "regina.sokolovskaya1980@mail.ru"})
    result = dedupe(table_from_rows(rows, object_type="contacts"))
    clusters = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert clusters["1"] == clusters["2"]
