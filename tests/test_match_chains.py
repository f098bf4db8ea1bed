"""Company chains abroad (issue 13): the same registration number (VAT number, EIN), or the same name at the same
site, at two places is two locations of one entity, never one record. A copy of a location (same city, the same
phone written another way) still merges; the other location is linked by parent_id, like a Russian branch."""

from __future__ import annotations

from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.engine import explain_pair

_H = ("Account ID", "Account Name", "VAT Number", "Billing City", "Phone", "Website")
CHAIN = [dict(zip(_H, row, strict=True)) for row in (
    ("1", "Pret A Manger (Europe) Ltd", "GB 980 4586 04", "London", "+44 20 7827 8000", "pret.co.uk"),
    ("2", "Pret A Manger (Europe) Ltd", "GB980458604", "Manchester", "+44 161 832 4567", "pret.co.uk"),
    ("3", "Pret a Manger (Europe) Limited", "GB980458604", "London", "020 7827 8000", "www.pret.co.uk"),
    ("4", "Siemens AG", "DE129273398", "Munich", "+49 89 636 00", "siemens.com"),
    ("5", "Siemens AG", "DE 129273398", "Berlin", "+49 30 386 0", "siemens.com"),
    ("6", "Siemens Aktiengesellschaft", "DE129273398", "München", "+49 89 63600", "https://www.siemens.com"),
    ("7", "Starbucks Corporation", "91-1325671", "Seattle", "+1 206 447 1575", "starbucks.com"),
    ("8", "Starbucks Corp", "91-1325671", "Chicago", "+1 312 555 0199", "starbucks.com"),
)]


def _result(rows: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return dedupe(table_from_rows(rows, id_column="Account ID", object_type="companies"), object_type="companies")


def _maps(result) -> tuple[dict[str, str], dict[str, str | None]]:  # type: ignore[no-untyped-def]
    c = result.clusters
    return (dict(zip(c["record_id"], c["cluster_id"], strict=True)),
            dict(zip(c["record_id"], c["parent_id"], strict=True)))


def _reviewed(result) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(p) for p in result.review.select("left_id", "right_id").iter_rows()}


def test_a_chains_locations_are_linked_its_copies_merged() -> None:
    result = _result(CHAIN)
    cl, parent = _maps(result)
    # a copy at the same place (the phone written nationally, München = Munich) is one record
    assert cl["1"] == cl["3"] and cl["4"] == cl["6"]
    # another city / main phone is another location of the entity: never merged, linked to the first location
    assert len({cl["1"], cl["2"]}) == 2 and parent["2"] == cl["1"]
    assert len({cl["4"], cl["5"]}) == 2 and parent["5"] == cl["4"]
    assert cl["7"] != cl["8"] and parent["8"] == cl["7"]
    assert parent["1"] is None and parent["4"] is None and parent["7"] is None
    # two placed locations are a hierarchy link, not a steward's question
    assert not _reviewed(result) & {frozenset(p) for p in (("1", "2"), ("4", "5"), ("7", "8"))}


def test_a_chain_without_any_number_is_known_by_name_and_site() -> None:
    rows = [{**r, "VAT Number": ""} for r in CHAIN if r["Account ID"] in ("1", "2", "3")]
    cl, parent = _maps(_result(rows))
    assert cl["1"] == cl["3"] != cl["2"] and parent["2"] == cl["1"]


def test_the_same_phone_written_with_the_trunk_zero_is_one_location() -> None:
    # +49 (89) 1731615 and 089 1731615: the last ten digits differ (9891731615 / 0891731615), the number does not
    rows = [{"Account ID": "1", "Account Name": "Keystone Software GmbH", "Billing City": "München",
             "Phone": "+49 (89) 1731615", "Website": "keystonesoftware.de"},
            {"Account ID": "2", "Account Name": "Keystone Software GmbH", "Billing City": "München",
             "Phone": "089 1731615", "Website": "http://keystonesoftware.de"},
            {"Account ID": "3", "Account Name": "Keystone Software GmbH", "Billing City": "Hamburg",
             "Phone": "040 5550199", "Website": "keystonesoftware.de"}]
    cl, parent = _maps(_result(rows))
    assert cl["1"] == cl["2"] != cl["3"] and parent["3"] == cl["1"]


def test_a_placeless_record_of_a_chain_is_asked_never_merged() -> None:
    bare = {"Account ID": "9", "Account Name": "Starbucks Corporation", "VAT Number": "91-1325671",
            "Website": "starbucks.com"}
    result = _result([r for r in CHAIN if r["Account ID"] in ("7", "8")] + [bare])
    cl, _ = _maps(result)
    assert cl["9"] not in (cl["7"], cl["8"])
    assert _reviewed(result) & {frozenset(("7", "9")), frozenset(("8", "9"))}


def test_two_valid_numbers_of_one_country_are_two_companies_two_countries_no_evidence() -> None:
    base = {"Account Name": "Nordlicht GmbH", "Billing City": "Hamburg", "Website": "nordlicht.de"}
    rows = [{**base, "Account ID": "1", "VAT Number": "DE136695976"},
            {**base, "Account ID": "2", "VAT Number": "DE111111125"},
            {**base, "Account ID": "3", "VAT Number": "7707083893"}]  # a Russian INN
    table = table_from_rows(rows, id_column="Account ID", object_type="companies")
    result = dedupe(table, object_type="companies")
    cl, _ = _maps(result)
    # the same name, site and city: a typo the checksum missed, or two legal entities — never merged, asked
    assert cl["1"] != cl["2"] and frozenset(("1", "2")) in _reviewed(result)

    def inn(a: str, b: str) -> tuple[str | None, float]:
        steps = explain_pair(table, a, b, object_type="companies", setup=result.setup).steps
        step = next(s for s in steps if s.field == "inn")
        return step.level, step.weight

    level, weight = inn("1", "2")
    assert level == "different" and weight < -4
    assert inn("1", "3") == ("other_country", 0.0)


def test_a_location_abroad_is_an_address_not_a_phone_line() -> None:
    # one office with two lines (switchboard, sales) is one record; a city spelled two ways is one place; only
    # another city makes another location (no number at all: the entity is the name at its site)
    rows = [{"Account ID": "1", "Account Name": "Acme Inc", "Billing City": "Boston", "Phone": "+1 617 555 0100",
             "Website": "acme.com"},
            {"Account ID": "2", "Account Name": "ACME Inc.", "Billing City": "Boston", "Phone": "+1 617 555 0142",
             "Website": "acme.com"},
            {"Account ID": "3", "Account Name": "Vektor", "Billing City": "Санкт-Петербург",
             "Phone": "+7 812 111-22-33", "Website": "vektor.ru"},
            {"Account ID": "4", "Account Name": "Vektor", "Billing City": "Петербург", "Website": "vektor.ru"},
            {"Account ID": "5", "Account Name": "Vektor", "Billing City": "Москва", "Phone": "+7 495 765-43-21",
             "Website": "vektor.ru"}]
    cl, parent = _maps(_result(rows))
    assert cl["1"] == cl["2"] and parent["1"] is None
    assert cl["3"] == cl["4"] != cl["5"] and parent["5"] == cl["3"]
