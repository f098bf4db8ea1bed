"""Comparison levels that say "the same value, typed differently" (issue 13): a Cyrillic initial, a surname one slip
apart, a swapped pair's two spellings, and which kind of mailboxes two records hold when they share none."""

from __future__ import annotations

from typing import Any

import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching.engine import prepare


def _levels(rows: list[dict[str, Any]], pairs: list[tuple[int, int]], field: str) -> list[str | None]:
    setup = prepare(table_from_rows(rows, object_type="contacts"))
    names = [lv.name for lv in next(c for c in setup.comparisons if c.name == field).levels]
    frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    return [None if i is None else names[i] for i in setup.levels(frame).get_column(f"lvl__{field}").to_list()]


def test_a_cyrillic_initial_that_romanizes_to_two_letters_is_still_an_initial() -> None:
    # Ю. romanizes to "iu", Ж. to "zh": one letter typed, two letters of key
    rows = [
        {"Id": "1", "Фамилия": "Волкова", "Имя": "Юлия", "Отчество": "Юрьевна"},
        {"Id": "2", "Фамилия": "Волкова", "Имя": "Ю.", "Отчество": "Ю."},
        {"Id": "3", "Фамилия": "Злская", "Имя": "Жанна", "Отчество": "Александровна"},
        {"Id": "4", "Фамилия": "Злская", "Имя": "Ж.", "Отчество": "А."},
        {"Id": "5", "Фамилия": "Волкова", "Имя": "Я.", "Отчество": "Ж."},
    ]
    assert _levels(rows, [(0, 1), (2, 3), (0, 4)], "first_name") == ["initial", "initial", "different"]
    assert _levels(rows, [(0, 1), (2, 3), (0, 4)], "middle_name")[:2] == ["initial", "initial"]
    assert _levels(rows, [(0, 4)], "middle_name") != ["initial"]


def test_a_surname_one_slip_apart_is_a_typo_unless_both_are_surnames_the_file_holds() -> None:
    given = ["Anna", "Brian", "Clara", "David", "Emma", "Frank"]
    rows = [{"Id": f"a{i}", "First Name": g, "Last Name": "Hall"} for i, g in enumerate(given)]
    rows += [{"Id": f"b{i}", "First Name": g, "Last Name": "Hill"} for i, g in enumerate(given)]
    rows += [{"Id": "x", "First Name": "Anna", "Last Name": "Hlal"},  # two neighbours swapped
             {"Id": "y", "First Name": "Anna", "Last Name": "Hal"}]  # Hall, one letter dropped (a double: Hal)
    got = _levels(rows, [(0, 12), (0, 6), (13, 12)], "last_name")
    assert got[0] == "similar"  # Hall / Hlal: a slip
    assert got[1] == "different"  # Hall / Hill: six records each, two surnames
    assert got[2] == "similar"  # Hal / Hlal: one letter apart


def test_two_spellings_reads_a_swapped_pair_after_the_swap() -> None:
    # Stefan and Stefanie are each a given name six records hold; the right record holds its names swapped
    surnames = ["Bauer", "Koch", "Wolf", "Braun", "Zimmer", "Hahn"]
    rows = [{"Id": f"s{i}", "First Name": "Stefan", "Last Name": s} for i, s in enumerate(surnames)]
    rows += [{"Id": f"t{i}", "First Name": "Stefanie", "Last Name": s} for i, s in enumerate(surnames)]
    rows += [{"Id": "x", "First Name": "Stefan", "Last Name": "Mueller"},
             {"Id": "y", "First Name": "Mueller", "Last Name": "Stefanie"}]
    # read unswapped, the right record's given-name field holds "Mueller" (no record's given name): not two names
    assert _levels(rows, [(12, 13)], "first_name") == ["two_names"]


def test_mailboxes_in_common_none_which_kind_each_side_holds() -> None:
    base = {"Фамилия": "Петров", "Имя": "Иван"}
    rows = [
        {"Id": "1", **base, "Email": "ipetrov@gmail.com"},
        {"Id": "2", **base, "Email": "petrov.ivan@mail.ru"},
        {"Id": "3", **base, "Email": "ivan.p@romashka.ru"},
        {"Id": "4", **base, "Email": "petrov@vektor.ru"},
    ]
    got = _levels(rows, [(0, 1), (2, 3), (0, 2)], "email")
    assert got == ["other_personal_mailbox", "other_employer_mailbox", "different"]


def test_two_countries_count_against_only_where_a_city_is_missing() -> None:
    base = {"First Name": "Anna", "Last Name": "Novak"}
    rows = [
        {"Id": "1", **base, "Country": "Germany"},
        {"Id": "2", **base, "Country": "USA"},
        {"Id": "3", **base, "Country": "Deutschland"},
        {"Id": "4", **base, "Country": "USA", "City": "Boston"},
        {"Id": "5", **base, "Country": "Germany", "City": "Berlin"},
    ]
    assert _levels(rows, [(0, 1), (0, 2), (3, 4)], "country") == ["different", "exact", None]
