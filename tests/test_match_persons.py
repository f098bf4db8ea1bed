"""Person files without e-mail, phone or company (FEBRL-like): columns recognized and compared, zero config."""

from __future__ import annotations

import polars as pl
from _match_helpers import table_from_rows

from crmclean.fields.dates import date_digits_from_parts
from crmclean.matching import dedupe
from crmclean.matching.engine import prepare
from crmclean.roles import detect_roles


def test_febrl_and_record_linkage_headers_are_recognized() -> None:
    roles = detect_roles(["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                          "postcode", "state", "date_of_birth", "soc_sec_id"])
    assert roles == {"rec_id": "id", "given_name": "first_name", "surname": "last_name",
                     "street_number": "street_number", "address_1": "address", "address_2": "address2",
                     "suburb": "city", "postcode": "zip", "state": "region", "date_of_birth": "birthdate",
                     "soc_sec_id": "national_id"}


def test_id_columns_of_linkage_sets_and_crm_reports_are_ids() -> None:
    roles = detect_roles(["unique_id", "first_and_surname", "dob"])
    assert roles == {"unique_id": "id", "first_and_surname": "full_name", "dob": "birthdate"}
    assert detect_roles(["Contact ID", "First Name"])["Contact ID"] == "id"
    # a site's name is a place, not a web address; a site's URL still is one
    assert detect_roles(["Site name", "Site URL", "Website"]) == {"Site URL": "website", "Website": "website"}


def _people() -> list[dict[str, str]]:
    base = [
        ("a1", "lachlan", "berry", "69", "giblin street", "bittern", "4814", "19990219", "7364009"),
        ("a2", "lachlan", "bery", "69", "giblin st", "bittern", "4814", "19.02.1999", "7364009"),
        ("b1", "sarah", "waller", "6", "tullaroop street", "st james", "4011", "1981-09-12", "6988048"),
        ("b2", "sara", "waller", "6", "tullaroop street", "st james", "4011", "12 Sep 1981", "6988084"),
        ("c1", "sarah", "waller", "14", "kent road", "perth", "6000", "19650303", "1234567"),
        ("d1", "james", "smith", "3", "main road", "hobart", "7000", "19700101", "5550001"),
        ("e1", "james", "smith", "88", "ocean drive", "cairns", "4870", "19881130", "9990002"),
    ]
    return [{"rec_id": r[0], "given_name": r[1], "surname": r[2], "street_number": r[3], "address_1": r[4],
             "suburb": r[5], "postcode": r[6], "date_of_birth": r[7], "soc_sec_id": r[8]} for r in base]


def test_person_file_columns_are_compared_and_birth_dates_read_in_any_spelling() -> None:
    table = table_from_rows(_people(), id_column="rec_id", object_type="contacts")
    setup = prepare(table)
    names = {c.name for c in setup.comparisons}
    assert {"birthdate", "zip", "address", "national_id", "street_number"} <= names
    dob = setup.features.get_column("x__birthdate").to_list()
    assert dob[:4] == ["19990219", "19990219", "19810912", "19810912"]


def test_person_file_zero_config_merges_the_same_people_only() -> None:
    table = table_from_rows(_people(), id_column="rec_id", object_type="contacts")
    result = dedupe(table)
    cl = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cl["a1"] == cl["a2"]
    assert cl["b1"] == cl["b2"]
    # a namesake at another address with another birth date and id, and two John Smiths, stay apart
    assert cl["c1"] not in (cl["b1"],)
    assert cl["d1"] != cl["e1"]
    keys = {b["key"] for b in result.blocking_stats}
    assert {"birthdate_initial", "zip_surname", "national_id"} <= keys
    assert isinstance(result.pairs, pl.DataFrame)


def test_a_birth_date_in_three_columns_is_compared_as_one_date() -> None:
    """R RecordLinkage's RLdata: fname_c1/fname_c2/lname_c1/lname_c2 and the birth date as by, bm, bd."""
    headers = ["rec_id", "fname_c1", "fname_c2", "lname_c1", "lname_c2", "by", "bm", "bd"]
    roles = detect_roles(headers)
    assert roles["fname_c1"] == "first_name" and roles["fname_c2"] == "middle_name"
    assert roles["lname_c1"] == "last_name"
    assert [roles[h] for h in ("by", "bm", "bd")] == ["birth_year", "birth_month", "birth_day"]
    # two letters alone say nothing: "bd" without its year and month is no birth day
    assert "bd" not in detect_roles(["Name", "bd", "Phone"])
    rows = [dict(zip(headers, r, strict=True)) for r in [
        ("1", "FRANK", "", "MUELLER", "", "1967", "9", "27"),
        ("2", "FRANK", "", "MUELLER", "", "1967", "9", ""),
        ("3", "MARTIN", "", "SCHWARZ", "", "1967", "02", "17")]]
    setup = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    assert "birthdate" in {c.name for c in setup.comparisons}
    assert setup.features.get_column("x__birthdate").to_list() == ["19670927", None, "19670217"]


def _register(n: int = 400, seed: int = 5) -> tuple[list[dict[str, str]], set[tuple[str, str]]]:
    """An RLdata-like register: common names, birth dates, 10 % duplicates with an error in one field."""
    import random

    rng = random.Random(seed)
    firsts = ["HANS", "PETER", "UWE", "KLAUS", "JUERGEN", "ANNA", "MARIA", "PETRA", "SABINE", "MONIKA", "FRANK",
              "DIETER", "THOMAS", "MICHAEL", "KARIN", "URSULA"]
    lasts = ["MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER", "MEYER", "WAGNER", "BECKER", "SCHULZ",
             "HOFFMANN", "KOCH", "RICHTER", "KLEIN", "WOLF", "NEUMANN", "BRAUN"]
    rows, truth = [], set()
    for i in range(n):
        rows.append({"rec_id": f"r{i}", "fname_c1": rng.choice(firsts), "lname_c1": rng.choice(lasts),
                     "by": str(rng.randint(1930, 2005)), "bm": str(rng.randint(1, 12)), "bd": str(rng.randint(1, 28))})
    for i in range(0, n, 10):
        dup = dict(rows[i], rec_id=f"d{i}")
        part = rng.choice(["by", "bm", "bd", "lname_c1"])
        dup[part] = (dup[part][:-1] + "X") if part == "lname_c1" else str(int(dup[part]) % 9 + 1) + dup[part][1:]
        rows.append(dup)
        truth.add((f"d{i}", f"r{i}"))
    return rows, truth


def test_a_person_file_fits_its_own_m_by_em_and_a_crm_export_keeps_the_built_in_values() -> None:
    rows, truth = _register()
    result = dedupe(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    assert "m:em" in result.model.trained  # train: auto, and no pair has an e-mail, phone, company or INN
    cl = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    found = sum(cl[a] == cl[b] for a, b in truth)
    assert found >= 0.8 * len(truth)
    crm = [dict(r, email=f"{r['fname_c1'].lower()}.{i}@gmx.de") for i, r in enumerate(rows)]
    assert "m:em" not in dedupe(table_from_rows(crm, id_column="rec_id", object_type="contacts")).model.trained


def _date_levels(dates: list[str]) -> list[str]:
    """The birthdate level of the first record's pair with each of the others."""
    rows = [{"rec_id": str(i), "given_name": "anna", "surname": "berg", "date_of_birth": d}
            for i, d in enumerate(dates)]
    setup = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    names = [lv.name for lv in next(c for c in setup.comparisons if c.name == "birthdate").levels]
    pairs = pl.DataFrame({"l": [0] * (len(dates) - 1), "r": list(range(1, len(dates)))},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    return [names[i] for i in setup.levels(pairs).get_column("lvl__birthdate").to_list()]


def test_a_register_typed_with_one_error_per_record_fits_how_many_fields_disagree() -> None:
    rows, truth = _register(n=1000)
    result = dedupe(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    bits = result.model.disagreement_weights
    # one field wrong is what a duplicate of this register looks like; two fields wrong is not
    assert bits[1] > 0 > bits[2]
    assert "disagreements_adjustment" in result.pairs.get_column("evidence")[0]
    cl = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert sum(cl[a] == cl[b] for a, b in truth) >= 0.8 * len(truth)
    crm = [dict(r, email=f"{r['fname_c1'].lower()}.{i}@gmx.de") for i, r in enumerate(rows[:300])]
    crm_result = dedupe(table_from_rows(crm, id_column="rec_id", object_type="contacts"))
    assert crm_result.model.disagreement_weights == []  # a CRM export keeps the fields' own m
    assert "disagreements_adjustment" not in crm_result.pairs.get_column("evidence")[0]


def test_a_date_wrong_in_one_part_has_a_level_per_part() -> None:
    assert _date_levels(["1967-09-27", "1967-09-03", "1984-09-27", "1967-12-27", "1984-11-03"]) == [
        "other_day", "other_year", "other_month", "different"]


def test_two_digits_transposed_are_a_typo() -> None:
    assert _date_levels(["1940-05-02", "1490-05-02", "1940-05-20", "1904-05-02"]) == ["typo", "typo", "typo"]


def test_an_impossible_date_in_parts_keeps_each_part_in_its_place() -> None:
    got = date_digits_from_parts(pl.Series(["1960", "1950", "1992", "1967", "1967", None]),
                                 pl.Series(["6", "19", "0", "9", "x", "1"]), pl.Series(["50", "5", "8", "27", "1", "1"]))
    # month 19 and day 50 are digits mistyped: the parts stay where they were, one digit away from the true date
    assert got.to_list() == ["19600650", "19501905", "19920008", "19670927", "19671", None]


def test_a_composed_role_is_read_from_its_parts_by_auto_and_rules_file_comparisons() -> None:
    from crmclean.config import RulesFile

    rows = [{"rec_id": "a", "fname_c1": "ANNA", "lname_c1": "BERG", "by": "1960", "bm": "6", "bd": "50"},
            {"rec_id": "b", "fname_c1": "ANNA", "lname_c1": "BERG", "by": "1960", "bm": "6", "bd": "30"}]
    auto = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    assert auto.features.get_column("x__birthdate").to_list() == ["19600650", "19600630"]
    rules = RulesFile.model_validate({"dedupe": {"comparisons": {"dob": {"column": "birthdate", "type": "date"}}}})
    custom = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"), rules)
    assert custom.features.get_column("x__dob").to_list() == ["19600650", "19600630"]
    # the rules file's comparison reads the birth date: the automatic one does not count it a second time
    assert [c.name for c in custom.comparisons].count("dob") == 1
    assert "birthdate" not in {c.name for c in custom.comparisons}
    by_column = {"dedupe": {"comparisons": {"year": {"column": "by", "type": "exact"}}}}
    by_part = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"),
                      RulesFile.model_validate(by_column))
    assert "birthdate" not in {c.name for c in by_part.comparisons}


def test_two_spellings_many_records_hold_are_two_names_and_a_rare_one_is_a_typo() -> None:
    # Schmidt and Schmitt are each a surname several people of the file carry; Schnidt is typed once: a slip
    given = ["anna", "bernd", "clara", "dieter", "eva", "frank"]
    rows = [{"rec_id": f"d{i}", "given_name": g, "surname": "schmidt"} for i, g in enumerate(given)]
    rows += [{"rec_id": f"t{i}", "given_name": g, "surname": "schmitt"} for i, g in enumerate(given)]
    rows += [{"rec_id": "x", "given_name": "anna", "surname": "schnidt"}]
    setup = prepare(table_from_rows(rows, id_column="rec_id", object_type="contacts"))
    names = [lv.name for lv in next(c for c in setup.comparisons if c.name == "last_name").levels]
    pairs = pl.DataFrame({"l": [0, 0], "r": [6, 12]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    got = [names[i] for i in setup.levels(pairs).get_column("lvl__last_name").to_list()]
    assert got[0] == "two_names" and got[1] != "two_names"
