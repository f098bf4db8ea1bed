"""NAME001-004: proper case, salutations, full-name split (ФИО, initials), swapped first/last."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.rules.standardizers.names import (
    parse_full_name,
    proper_case_name,
    split_full_names,
    split_salutation,
)
from tests._std_helpers import column, run

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def test_proper_case_with_exceptions():
    assert proper_case_name("ИВАНОВ ИВАН ИВАНОВИЧ") == "Иванов Иван Иванович"
    assert proper_case_name("JOHN MCDONALD") == "John McDonald"
    assert proper_case_name("o'neil") == "O'Neil"
    assert proper_case_name("JAN VAN DER BERG") == "Jan van der Berg"
    assert proper_case_name("maria de la cruz") == "Maria de la Cruz"
    assert proper_case_name("jean-luc picard") == "Jean-Luc Picard"
    assert proper_case_name("петрова-водкина анна") == "Петрова-Водкина Анна"
    assert proper_case_name("иванов и.и.") == "Иванов И.И."
    assert proper_case_name("DeVito") == "DeVito"
    assert proper_case_name("алиев рашид гусейн оглы") == "Алиев Рашид Гусейн оглы"


def test_salutations_and_suffixes_move_out():
    assert split_salutation("Dr. John Smith Jr.") == ("John Smith", "Dr.", "Jr.")
    assert split_salutation("г-н Иванов Иван") == ("Иванов Иван", "г-н", None)
    assert split_salutation("Петров Пётр, к.т.н.") == ("Петров Пётр", None, "к.т.н.")
    result = run({"Full Name": ["Dr. John Smith", "г-жа Петрова Анна"], "Salutation": [None, "Ms"]}, "NAME002")
    assert column(result, "Full Name") == ["John Smith", "Петрова Анна"]
    assert column(result, "Salutation") == ["Dr.", "Ms"]
    assert column(result, "Full Name__salutation") == [None, "г-жа"]  # the salutation column was taken


def test_full_name_split_handles_fio_initials_and_western_order():
    cases = {
        "Иванов Иван Иванович": ("Иван", "Иванович", "Иванов"),
        "Иван Иванович Иванов": ("Иван", "Иванович", "Иванов"),
        "Иванова Анна Сергеевна": ("Анна", "Сергеевна", "Иванова"),
        "Иванов И.И.": ("И.", "И.", "Иванов"),
        "И. И. Иванов": ("И.", "И.", "Иванов"),
        "Петров Иван": ("Иван", None, "Петров"),
        "Анна Иванова": ("Анна", None, "Иванова"),
        "Smith, John": ("John", None, "Smith"),
        "John F. Kennedy": ("John", "F.", "Kennedy"),
        "Jan van der Berg": ("Jan", None, "van der Berg"),
        "Maria de la Cruz": ("Maria", None, "de la Cruz"),
        "Алиев Рашид Гусейн оглы": ("Рашид", "Гусейн оглы", "Алиев"),
        "Dr. John Smith Jr.": ("John", None, "Smith"),
        "Pierre-Yves Dupont": ("Pierre-Yves", None, "Dupont"),
    }
    for value, expected in cases.items():
        p = parse_full_name(value)
        assert (p.first, p.middle, p.last) == expected, value
    frame = split_full_names(pl.Series(list(cases)))
    got = list(zip(frame["first"], frame["middle"], frame["last"], strict=True))
    assert got == list(cases.values())


def test_split_fills_empty_part_columns_of_the_same_record():
    result = run({"ФИО": ["Сидоров Пётр Петрович", "Smith John"], "Имя": [None, None], "Фамилия": [None, "Smith"]},
                 "NAME003", roles={"Имя": "first_name", "Фамилия": "last_name"})
    assert column(result, "Имя") == ["Пётр", "John"]
    assert column(result, "Фамилия") == ["Сидоров", "Smith"]
    assert set(result.changes.get_column("confidence")) == {"fix"}


def test_swapped_first_and_last_are_proposed():
    result = run({"First Name": ["Иванов", "John", "Smith"], "Last Name": ["Иван", "Smith", "John"]}, "NAME004")
    assert column(result, "First Name") == ["Иванов", "John", "Smith"]  # suggestions only
    sugg = result.changes.filter(pl.col("column") == "First Name")
    assert sugg.get_column("record_id").to_list() == ["1", "3"]
    assert sugg.get_column("after").to_list() == ["Иван", "John"]
    assert set(result.changes.get_column("confidence")) == {"suggest"}


words = st.sampled_from(["Иванов", "иван", "ИВАНОВИЧ", "Петровна", "И.", "john", "SMITH", "van", "der", "Berg",
                         "o'neil", "mcdonald", "Анна", "де", "x", "Jean-Luc", "оглы", "Dr.", "Jr.", "к.т.н."])


@SETTINGS
@given(st.lists(words, min_size=1, max_size=5))
def test_split_never_invents_words_and_vectorized_path_agrees(tokens):
    value = " ".join(tokens)
    p = parse_full_name(value)
    source = {t.lower() for t in re.split(r"[\s.]+", value) if t}
    for part in (p.first, p.middle, p.last):
        if part:
            for word in re.split(r"[\s.]+", part):
                if word:
                    assert word.lower() in source, (value, p)
    frame = split_full_names(pl.Series([value]))
    assert (frame["first"][0], frame["middle"][0], frame["last"][0]) == (p.first, p.middle, p.last), value


@SETTINGS
@given(st.lists(words, min_size=1, max_size=5))
def test_proper_case_is_idempotent_and_keeps_the_words(tokens):
    value = " ".join(tokens)
    once = proper_case_name(value)
    assert proper_case_name(once) == once
    assert once.lower() == value.lower()
