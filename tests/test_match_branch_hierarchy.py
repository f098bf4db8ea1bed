"""Two placed registrations of one legal entity are a hierarchy link, not a review question (issue 13, round 3):
a record without KPP that its city and phone place at a branch, vs the head office, is linked by parent_id and
kept out of the review queue; a record nothing places stays a steward's question."""

from __future__ import annotations

from _match_helpers import table_from_rows

from crmclean.matching import dedupe

HEAD = {"Id": "1", "Наименование": "ООО «Ромашка»", "ИНН": "7707083893", "КПП": "770701001", "Город": "Москва",
        "Телефон": "+7 495 111-22-33", "Сайт": "romashka.ru"}
BRANCH = {**HEAD, "Id": "2", "КПП": "165543001", "Город": "Казань", "Телефон": "+7 843 222-33-44"}


def _result(rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return dedupe(table_from_rows(rows, object_type="companies"), object_type="companies")


def _reviewed(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(p) for p in result.review.select("left_id", "right_id").iter_rows()}


def test_a_record_placed_at_a_branch_is_linked_to_the_head_office_not_reviewed() -> None:
    placed = {**BRANCH, "Id": "3", "КПП": "", "Наименование": "Ромашка"}  # the branch's city and phone, no KPP
    result = _result([HEAD, BRANCH, placed])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    parent = dict(zip(result.clusters["record_id"], result.clusters["parent_id"], strict=True))
    assert cl["1"] != cl["3"] and cl["1"] != cl["2"]
    assert frozenset(("1", "3")) not in _reviewed(result)
    assert parent["3"] == cl["1"] and parent["2"] == cl["1"]


def test_a_branch_record_without_inn_on_the_entity_domain_gets_the_head_office_as_parent() -> None:
    lost_inn = {**BRANCH, "Id": "3", "ИНН": "", "Наименование": "Ромашка филиал Казань"}
    result = _result([HEAD, BRANCH, lost_inn])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    parent = dict(zip(result.clusters["record_id"], result.clusters["parent_id"], strict=True))
    assert cl["1"] != cl["3"]
    assert parent["3"] == cl["1"]  # its INN is the family's, found by the domain
    assert frozenset(("1", "3")) not in _reviewed(result)


def test_a_record_nothing_places_is_still_a_stewards_question() -> None:
    placeless = {**HEAD, "Id": "3", "КПП": "", "Город": "", "Телефон": "", "Наименование": "Ромашка"}
    result = _result([HEAD, BRANCH, placeless])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["3"] != cl["1"] and cl["3"] != cl["2"]
    assert _reviewed(result) & {frozenset(("1", "3")), frozenset(("2", "3"))}


def test_a_record_without_the_branch_name_is_not_placed_by_the_city_alone() -> None:
    # the Kazan registration calls itself "филиал Казань"; a plain "Ромашка" in Kazan without KPP or phone may be
    # its copy or a second registration there that the file shows once: asked, never merged
    named = {**BRANCH, "Наименование": "ООО Ромашка филиал Казань"}
    named_copy = {**named, "Id": "4", "Телефон": ""}
    plain = {**BRANCH, "Id": "3", "КПП": "", "Телефон": "", "Наименование": "ООО «Ромашка»"}
    # with the registration's own phone it is that registration's copy
    plain_phone = {**plain, "Id": "5", "Телефон": BRANCH["Телефон"]}
    result = _result([HEAD, named, named_copy, plain, plain_phone])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["2"] == cl["4"] == cl["5"] and cl["3"] != cl["2"] and cl["3"] != cl["1"]
    assert _reviewed(result) & {frozenset(("2", "3")), frozenset(("3", "4")), frozenset(("3", "5"))}


def test_a_sole_trader_carrying_the_organizations_inn_is_no_registration_of_it() -> None:
    # an ИП's record carries the ООО's INN by mistake (its legal form after the name is not read as one), and
    # the ИП's own site joins its other copies to that INN: an ИП has no KPP and no branches, so its copies are
    # not asked which registration of the ООО they are
    ip = {"Id": "5", "Наименование": "Панов Николай Николаевич ИП", "ИНН": HEAD["ИНН"], "Сайт": "panov.ru",
          "Город": "Новосибирск", "Телефон": "+7 383 964-57-87"}
    ip_b = {"Id": "6", "Наименование": "ИП Панов Николай Николаевич", "Сайт": "panov.ru"}
    ip_c = {**ip_b, "Id": "7", "Город": "Новосибирск"}
    result = _result([HEAD, BRANCH, ip, ip_b, ip_c])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["6"] == cl["7"] and cl["6"] != cl["1"]
    assert frozenset(("6", "7")) not in _reviewed(result)


def test_a_record_with_a_place_no_branch_shares_is_the_head_office() -> None:
    # the head office's record shows only its head-office KPP; a KPP-less copy in Moscow with a Moscow line that
    # no branch record holds is the head office (one per legal entity): merged with it, not asked
    head_kpp_only = {**HEAD, "Город": "", "Телефон": ""}
    moscow = {**HEAD, "Id": "3", "КПП": "", "Наименование": "Ромашка"}
    # a copy with nothing but the INN and site may be either registration's: still a steward's question
    bare = {**moscow, "Id": "4", "Город": "", "Телефон": ""}
    result = _result([head_kpp_only, BRANCH, moscow, bare])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["3"] == cl["1"] and cl["2"] != cl["1"]
    assert frozenset(("1", "3")) not in _reviewed(result)
    assert cl["4"] != cl["1"] and cl["4"] != cl["2"]


def test_a_head_office_kpp_without_inn_joins_the_entity_its_tax_office_issued_the_inn_of() -> None:
    # two copies of the head office carry only its KPP (7707 01 001: registered at tax office 7707), a record of
    # the same name carries the INN that office issued (7707…) in Kazan: one legal entity in two cities, so the
    # Kazan record is another registration or a question — never merged through the head's site-only copy
    head_a = {"Id": "1", "Наименование": "ООО «Ромашка»", "КПП": "770701001", "Город": "Москва",
              "Телефон": "+7 495 111-22-33"}
    head_b = {"Id": "2", "Наименование": "Ромашка", "КПП": "770701001", "Сайт": "romashka.ru"}
    kazan = {"Id": "3", "Наименование": "ООО Ромашка", "ИНН": "7707083893", "Город": "Казань"}
    result = _result([head_a, head_b, kazan])
    cl = dict(zip(result.clusters["record_id"], result.clusters["cluster_id"], strict=True))
    assert cl["1"] == cl["2"] and cl["3"] != cl["1"]
