"""Nicknames and diminutives: Robert ~ Bob, Александр ~ Саша ~ Шура ~ Alex, Екатерина ~ Катя."""

from __future__ import annotations

import pytest

from crmclean.matching.nicknames import are_nicknames, canonical_first_name, canonical_forms


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Александр", "Саша"), ("Александр", "Шура"), ("Саша", "Sasha"), ("Alex", "Александр"),
        ("Екатерина", "Катя"), ("Катя", "Kate"), ("Robert", "Bob"), ("William", "Bill"), ("Margaret", "Peggy"),
        ("Дмитрий", "Дима"), ("Dmitry", "Дима"), ("Елизавета", "Лиза"), ("Elizabeth", "Beth"),
    ],
)
def test_nickname_pairs(a: str, b: str) -> None:
    assert are_nicknames(a, b)


@pytest.mark.parametrize(("a", "b"), [("Иван", "Пётр"), ("Robert", "William"), ("Мария", "Марина")])
def test_different_names_are_not_nicknames(a: str, b: str) -> None:
    assert not are_nicknames(a, b)


def test_ambiguous_diminutive_belongs_to_both_genders() -> None:
    forms = canonical_forms("Саша")
    assert "aleksandr" in forms and "aleksandra" in forms
    assert canonical_first_name("Александр") == "aleksandr"
    assert canonical_first_name("Bob") == "robert"


def test_unknown_name_is_its_own_canonical_form() -> None:
    assert canonical_forms("Zebulon") == ("zebulon",)
    assert canonical_forms("") == ()
