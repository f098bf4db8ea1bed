"""Companies with branches (issue 13): which registration a record is, decided on evidence, and cannot-link rules
that keep a head office and its branches apart whatever path links them."""

from __future__ import annotations

import numpy as np
import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.clustering import cluster_pairs
from crmclean.matching.engine import prepare

HEAD = {"Id": "1", "Наименование": "ООО «Ромашка»", "ИНН": "7707083893", "КПП": "770701001", "Город": "Москва",
        "Телефон": "+7 495 111-22-33", "Сайт": "romashka.ru"}
BRANCH = {**HEAD, "Id": "3", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44"}


def _clusters(rows: list[dict[str, str]]) -> dict[str, str]:
    result = dedupe(table_from_rows(rows, object_type="companies"), object_type="companies")
    return dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))


def test_cannot_link_keys_refuse_a_chain_whatever_the_scores() -> None:
    # 0 ~ 1 ~ 2 all score high, but 0 and 2 are two KPPs of one INN: never one cluster
    edges = pl.DataFrame({"l": [0, 1], "r": [1, 2], "probability": [0.99, 0.98]})
    inn = np.array([7, 7, 7], dtype=np.int64)
    kpp = np.array([1, -1, 2], dtype=np.int64)
    result = cluster_pairs(3, edges, {}, lambda pairs: {p: 20.0 for p in pairs}, conflict_keys=[(inn, kpp)])
    assert result.labels[0] != result.labels[2]
    assert "cannot-link" in result.refused.values()
    # the same records without the rule chain into one cluster
    assert len(set(cluster_pairs(3, edges, {}, lambda pairs: {p: 20.0 for p in pairs}).labels)) == 1


def test_a_record_without_kpp_joins_the_registration_its_phone_and_city_name() -> None:
    rows = [HEAD, BRANCH,
            # the head office again, without KPP: the head's phone and city
            {**HEAD, "Id": "2", "КПП": "", "Наименование": "Ромашка"},
            # the branch again, without KPP: the branch's phone and city
            {**BRANCH, "Id": "4", "КПП": "", "Наименование": "Ромашка ООО"}]
    cl = _clusters(rows)
    assert cl["1"] == cl["2"] and cl["3"] == cl["4"] and cl["1"] != cl["3"]


def test_a_record_without_kpp_and_another_phone_is_never_merged_into_the_family() -> None:
    rows = [HEAD, BRANCH,
            # no KPP, no city, a third number: which registration? a steward says
            {**HEAD, "Id": "5", "КПП": "", "Город": "", "Телефон": "+7 812 555-66-77"}]
    result = dedupe(table_from_rows(rows, object_type="companies"), object_type="companies")
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert len({cl["1"], cl["3"], cl["5"]}) == 3
    decided = result.pairs.filter(pl.col("left_id").is_in(["5"]) | pl.col("right_id").is_in(["5"]))
    assert set(decided["decision"]) <= {"review", "no-match"}


def test_a_record_without_inn_on_the_family_domain_is_placed_by_its_phone() -> None:
    rows = [HEAD, BRANCH,
            {**HEAD, "Id": "6", "ИНН": "", "КПП": "", "Наименование": "Ромашка", "Город": "",
             "Телефон": "+7 843 222-33-44"}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["family"].to_list() == ["7707083893"] * 3
    cl = _clusters(rows)
    assert cl["6"] == cl["3"] != cl["1"]


def test_no_family_no_registration_question() -> None:
    rows = [{**HEAD, "КПП": ""}, {**HEAD, "Id": "2", "КПП": "", "Наименование": "Ромашка ООО", "Телефон": ""}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["family"].to_list() == [None, None]
    cl = _clusters(rows)
    assert cl["1"] == cl["2"]


def test_kpp_reason_code_says_head_office_or_branch() -> None:
    from crmclean.fields.taxid import branch_kpps, is_branch_kpp, kpp_reason, kpp_reasons

    assert kpp_reason("770101001") == "01" and kpp_reason("12") is None
    assert not is_branch_kpp("770101001")  # the head office
    assert not is_branch_kpp("773150001")  # a largest taxpayer
    assert is_branch_kpp("165543001") and is_branch_kpp("770202001")  # a branch, a separate subdivision
    values = pl.Series(["770101001", "165543001", None, "77010A001"])
    assert kpp_reasons(values).to_list() == ["01", "43", None, "0A"]
    assert branch_kpps(values).to_list() == [False, True, False, False]


def test_copies_of_one_company_with_different_identifiers_are_one_holder_of_its_name() -> None:
    from crmclean.matching.companies import organization_ids

    rows = [{"Id": "1", "Наименование": "Quantum Holdings Ltd", "Телефон": "+44 20 7525 8876"},
            {"Id": "2", "Наименование": "Quantum Holdings", "Сайт": "quantumholdings.co.uk", "Город": "London"},
            # a namesake: another site and another city
            {"Id": "3", "Наименование": "Quantum Holdings", "Сайт": "quantum.de", "Город": "Berlin"}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    sig = organization_ids(setup.features).to_list()
    assert sig[0] == sig[1] != sig[2]


def test_a_kpp_and_an_inn_of_one_tax_office_are_evidence() -> None:
    # one record carries only the head-office KPP, the other only the INN: the same tax office (7707) registered both
    rows = [{"Id": "1", "Наименование": "Вега", "КПП": "770701001", "Город": "Москва"},
            {"Id": "2", "Наименование": "ООО Вега", "ИНН": "7707083893", "Город": "Москва", "Телефон": "+7 495 123-45-67"},
            {"Id": "3", "Наименование": "Вега", "ИНН": "7812014560", "Город": "Москва"}]
    result = dedupe(table_from_rows(rows, object_type="companies"), object_type="companies")
    level = {(a, b): lv for a, b, lv in zip(result.pairs["left_id"], result.pairs["right_id"],
                                            result.pairs["evidence"].str.json_path_match("$.tax_office.level"),
                                            strict=True)}
    assert level.get(("1", "2")) == "same_office"
    assert level.get(("1", "3")) == "different"


def test_a_branch_placed_only_by_its_area_code_is_never_merged_with_the_head() -> None:
    # the head office shows its city, the branch only a Kazan landline: two places, a family with branches (the
    # file's other Moscow records call from Moscow numbers: that is how a city's region is known)
    rows = [{**HEAD, "Id": "1", "Телефон": "", "Сайт": ""},
            {**HEAD, "Id": "2", "КПП": "", "Город": "", "Телефон": "+7 843 222-33-44", "Сайт": ""},
            {"Id": "3", "Наименование": "ООО Лотос", "Город": "Москва", "Телефон": "+7 499 765-43-21"}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["family"].to_list()[:2] == ["7707083893"] * 2
    assert setup.features["region"][1] == "Republic of Tatarstan"
    cl = _clusters(rows)
    assert cl["1"] != cl["2"]


def test_a_branch_mailbox_or_city_subdomain_makes_a_family() -> None:
    rows = [{**HEAD, "КПП": "", "Город": "", "Телефон": ""},
            {**HEAD, "Id": "2", "КПП": "", "Город": "", "Телефон": "", "Сайт": "kazan.romashka.ru"},
            {**HEAD, "Id": "3", "ИНН": "7812014560", "КПП": "", "Город": "", "Телефон": "", "Сайт": "",
             "Email": "filial@lotos.ru"}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["family"].to_list()[:2] == ["7707083893"] * 2
    assert setup.features["branch_mark"].to_list() == [None, None, "1"]


def test_a_head_office_kpp_never_joins_a_record_named_as_its_branch() -> None:
    # the head office's KPP (reason 01) vs a copy that calls itself the Kazan branch: never one cluster, and two
    # copies of the branch's own name are one registration
    rows = [{**HEAD, "Телефон": "", "Сайт": ""},
            {**HEAD, "Id": "2", "КПП": "", "Наименование": "ООО «Ромашка» филиал Казань", "Город": "", "Телефон": "",
             "Сайт": ""},
            {**HEAD, "Id": "3", "КПП": "", "ИНН": "", "Наименование": "Ромашка филиал Казань", "Город": "",
             "Телефон": "", "Сайт": ""}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["reg_role"].to_list()[:2] == ["head", "branch"]
    cl = _clusters(rows)
    assert cl["1"] != cl["2"]


def test_a_chain_through_a_placed_copy_never_joins_head_and_branch() -> None:
    # 2 has no KPP, but its phone is the branch's only: it counts as the branch's registration in the cannot-link
    # rules, so a cluster never holds it with the head office's KPP
    from crmclean.matching.companies import conflict_keys

    rows = [HEAD, BRANCH, {**BRANCH, "Id": "2", "КПП": "", "Город": ""}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["reg_kpp"].to_list() == ["770701001", "165543001", "165543001"]
    edges = pl.DataFrame({"l": [0, 2], "r": [2, 1], "probability": [0.99, 0.99]})
    result = cluster_pairs(3, edges, {}, lambda pairs: {p: 20.0 for p in pairs},
                           conflict_keys=conflict_keys(setup.features))
    assert result.labels[0] != result.labels[2]


def test_a_branch_city_subdomain_places_a_record_without_kpp() -> None:
    rows = [HEAD, {**BRANCH, "Сайт": "kazan.romashka.ru"},
            {**BRANCH, "Id": "7", "КПП": "", "Город": "", "Телефон": "", "Сайт": "https://kazan.romashka.ru/"}]
    setup = prepare(table_from_rows(rows, object_type="companies"), object_type="companies")
    assert setup.features["reg_site"].to_list() == [None, "kazan.romashka.ru", "kazan.romashka.ru"]
    assert setup.features["reg_kpp"].to_list()[2] == "165543001"
    cl = _clusters(rows)
    assert cl["7"] == cl["3"] != cl["1"]


def test_a_city_whose_records_call_from_abroad_gets_no_russian_region_from_one_number() -> None:
    from crmclean.matching.companies import _regions

    # an ИП in San Francisco whose US number was read as +7 415 (Kamchatka) does not place every other record in
    # San Francisco in Kamchatka; Kazan's records still place a Kazan record without a phone
    feats = pl.DataFrame({
        "city": ["sanfrancisco"] * 4 + ["kazan", "kazan"],
        "phone_e164": ["+74152802672", "+14152954606", "+14152094531", None, "+78432223344", None]})
    regions = _regions(feats).to_list()
    assert regions[1:4] == [None, None, None]
    assert regions[0] == "Kamchatka Region" and regions[4] == regions[5] == "Republic of Tatarstan"
