"""Field comparisons read normalized features: nicknames, transliteration, swapped names, phones, companies."""

from __future__ import annotations

import polars as pl
import pytest
from _match_helpers import table_from_rows

from crmclean.matching.backends.polars import TermFrequencies, compute_levels
from crmclean.matching.engine import prepare
from crmclean.matching.library import contacts_comparisons

ROWS = [
    {"Id": "1", "Фамилия": "Иванов", "Имя": "Александр", "Отчество": "Петрович", "Email": "a.ivanov@romashka.ru",
     "Телефон": "+7 (495) 123-45-67", "Компания": "ООО «Ромашка»"},
    {"Id": "2", "Фамилия": "Iwanow", "Имя": "Sascha", "Email": "A.Ivanov@gmail.com",
     "Телефон": "8 495 1234567", "Компания": "Romashka LLC"},
    {"Id": "3", "Фамилия": "Александр", "Имя": "Иванов", "Email": "", "Телефон": "", "Компания": "Ромашка"},
    {"Id": "4", "Фамилия": "Иванова", "Имя": "Мария", "Отчество": "Петровна", "Email": "m.ivanova@vector.ru",
     "Телефон": "+7 495 765-43-21", "Компания": "АО Вектор"},
    {"Id": "5", "Фамилия": "Smith", "Имя": "Bob", "Email": "bob.smith@acme.com", "Телефон": "+1 212-736-5000",
     "Компания": "Acme Systems, Inc.", "Страна": "USA"},
    {"Id": "6", "Фамилия": "Smith", "Имя": "Robert", "Email": "", "Телефон": "+1 (212) 736 5000",
     "Компания": "ACME SYSTEMS", "Страна": "United States"},
]


def _levels(pairs: list[tuple[int, int]]) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    setup = prepare(table_from_rows(ROWS))
    frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, _ = compute_levels(setup.features, frame, setup.comparisons, TermFrequencies(setup.features))
    names = {c.name: [lv.name for lv in c.levels] for c in setup.comparisons}
    return levels, names


def _level(levels: pl.DataFrame, names: dict[str, list[str]], row: int, field: str) -> str | None:
    code = levels.get_column(f"lvl__{field}")[row]
    return None if code is None else names[field][code]


def test_translit_and_diminutive_agree() -> None:
    levels, names = _levels([(0, 1)])
    assert _level(levels, names, 0, "last_name") == "exact"  # Иванов ~ Iwanow
    assert _level(levels, names, 0, "first_name") == "nickname"  # Александр ~ Sascha
    # +7 (495) 123-45-67 ~ 8 495 1234567: one number; a Moscow landline, so an office line, not one person's
    assert _level(levels, names, 0, "phone") == "shared_line"
    assert _level(levels, names, 0, "company") in ("exact", "similar")  # ООО «Ромашка» ~ Romashka LLC
    assert _level(levels, names, 0, "email") == "same_local_part"  # a.ivanov@ work and gmail
    assert _level(levels, names, 0, "middle_name") is None  # missing on one side: neutral


def test_swapped_first_and_last_name() -> None:
    levels, names = _levels([(0, 2)])
    assert levels.get_column("swapped")[0]
    assert _level(levels, names, 0, "last_name") == "exact"
    assert _level(levels, names, 0, "first_name") == "exact"


def test_husband_and_wife_surnames_are_a_gender_form_not_a_match() -> None:
    levels, names = _levels([(0, 3)])
    assert _level(levels, names, 0, "last_name") == "gender_form"
    assert _level(levels, names, 0, "middle_name") == "different"


def test_english_nickname_and_phone_formats() -> None:
    levels, names = _levels([(4, 5)])
    assert _level(levels, names, 0, "first_name") == "nickname"
    assert _level(levels, names, 0, "phone") == "exact"
    assert _level(levels, names, 0, "company") == "exact"


def test_every_default_comparison_has_valid_probabilities() -> None:
    for comp in contacts_comparisons():
        assert comp.levels
        for lv in comp.levels:
            assert 0 < lv.m <= 1 and 0 < lv.u <= 1, (comp.name, lv.name)


def _pair_levels(rows: list[dict[str, str]]) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    setup = prepare(table_from_rows(rows))
    frame = pl.DataFrame({"l": [0], "r": [1]}, schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, _ = compute_levels(setup.features, frame, setup.comparisons, TermFrequencies(setup.features))
    return levels, {c.name: [lv.name for lv in c.levels] for c in setup.comparisons}


def _person(i: str, email: str, phone: str, mobile: str = "") -> dict[str, str]:
    return {"Id": i, "Фамилия": "Петров", "Имя": "Илья", "Email": email, "Телефон": phone, "Мобильный": mobile,
            "Компания": "ООО Ромашка"}


def test_a_shared_mobile_is_personal_and_a_shared_landline_an_office_line() -> None:
    levels, names = _pair_levels([_person("1", "", "+7 916 123-45-67"), _person("2", "", "8 916 1234567")])
    assert _level(levels, names, 0, "phone") == "exact"
    levels, names = _pair_levels([_person("1", "", "+7 495 123-45-67"), _person("2", "", "8 495 1234567")])
    assert _level(levels, names, 0, "phone") == "shared_line"


def test_own_mobiles_or_two_numbers_each_and_none_in_common_are_other_lines() -> None:
    levels, names = _pair_levels([_person("1", "", "+7 495 123-45-67", "+7 916 111-22-33"),
                                  _person("2", "", "+7 812 765-43-21", "+7 926 444-55-66")])
    assert _level(levels, names, 0, "phone") == "other_lines"
    levels, names = _pair_levels([_person("1", "", "+7 495 123-45-67", "+7 916 111-22-33"),
                                  _person("2", "", "+7 812 765-43-21")])
    assert _level(levels, names, 0, "phone") == "different"
    # a mobile each (by the numbering plan) and none shared: a person keeps the mobile
    levels, names = _pair_levels([_person("1", "", "+7 916 111-22-33"), _person("2", "", "+7 926 444-55-66")])
    assert _level(levels, names, 0, "phone") == "other_lines"


def test_mailbox_names_differing_only_by_separators_at_one_domain_are_no_evidence() -> None:
    levels, names = _pair_levels([_person("1", "i.petrov@romashka.ru", ""), _person("2", "ipetrov@romashka.ru", "")])
    assert _level(levels, names, 0, "email") == "separators_same_domain"
    levels, names = _pair_levels([_person("1", "i.petrov@romashka.ru", ""), _person("2", "i.pertov@romashka.ru", "")])
    assert _level(levels, names, 0, "email") == "similar_local_part"


def test_a_mailbox_typo_at_one_domain_is_not_a_second_mailbox() -> None:
    # ilya@ / ilay@: one mailbox typed twice (too short for the Jaro-Winkler typo level) — weak evidence against
    levels, names = _pair_levels([_person("1", "ilya@romashka.ru", ""), _person("2", "ilay@romashka.ru", "")])
    assert _level(levels, names, 0, "email") == "mailbox_typo_same_domain"
    # two spellings of the name (ipetrov@ / ilya.petrov@) or a numbered second mailbox (ipetrov2@): two mailboxes
    for other in ("ilya.petrov@romashka.ru", "ipetrov2@romashka.ru"):
        levels, names = _pair_levels([_person("1", "ipetrov@romashka.ru", ""), _person("2", other, "")])
        assert _level(levels, names, 0, "email") == "other_mailbox_same_domain"
    # another given name's initial (l.petrov@ / i.petrov@ of Leonid and Ilya): two mailboxes, whatever the distance
    rows = [_person("1", "l.petrov@romashka.ru", ""), _person("2", "i.petrov@romashka.ru", "")]
    rows[0]["Имя"] = "Леонид"
    levels, names = _pair_levels(rows)
    assert _level(levels, names, 0, "email") == "other_mailbox_same_domain"


def test_two_mailboxes_at_one_domain_explain_the_organization_agreeing() -> None:
    # Илья Петров twice at ООО Ромашка with two mailboxes there: two colleagues agree on the company by definition,
    # so the company (and anything else of the organization group) adds nothing to such a pair
    rows = [_person("1", "ipetrov@romashka.ru", ""), _person("2", "ilya.petrov@romashka.ru", "")]
    setup = prepare(table_from_rows(rows))
    scored = setup.score(pl.DataFrame({"l": [0], "r": [1]}, schema={"l": pl.UInt32, "r": pl.UInt32}))
    names = {c.name: [lv.name for lv in c.levels] for c in setup.comparisons}
    assert names["email"][scored["lvl__email"][0]] == "other_mailbox_same_domain"
    assert names["company"][scored["lvl__company"][0]] == "exact" and scored["w__company"][0] > 0
    assert scored["group_adjust"][0] == -scored["w__company"][0]


def _levels_of(rows: list[dict[str, str]], pairs: list[tuple[int, int]]) -> list[dict[str, str | None]]:
    """The level of every comparison for each pair of ``rows`` (one prepare for all of them)."""
    setup = prepare(table_from_rows(rows))
    frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    levels, _ = compute_levels(setup.features, frame, setup.comparisons, TermFrequencies(setup.features))
    names = {c.name: [lv.name for lv in c.levels] for c in setup.comparisons}
    return [{f: _level(levels, names, k, f) for f in names} for k in range(len(pairs))]


def test_alike_mailboxes_of_alike_names_at_one_domain_are_two_colleagues() -> None:
    # v.fyodorov@ / v.fyodorova@ (Фёдоров / Фёдорова), ekaterina.smelovskaya@ / ekaterina.svetlovskaya@ of two
    # surnames beyond a typo: the mailboxes are alike because the names are — two mailboxes at one domain; the same
    # mailboxes at a free-mail domain are one person's typo (nothing says two mailboxes)
    rows = []
    for last, first, mail in (("Фёдоров", "Виктор", "v.fyodorov"), ("Фёдорова", "Виктор", "v.fyodorova"),
                              ("Смеловская", "Екатерина", "ekaterina.smelovskaya"),
                              ("Светловская", "Екатерина", "ekaterina.svetlovskaya")):
        for domain in ("romashka.ru", "mail.ru"):
            rows.append({**_person(str(len(rows)), f"{mail}@{domain}", ""), "Фамилия": last, "Имя": first})
    # one name's mailbox typed twice at one domain
    rows += [{**_person(str(len(rows) + k), mail, ""), "Фамилия": "Смеловская", "Имя": "Екатерина"}
             for k, mail in enumerate(("ekaterina.smelovskaya@romashka.ru", "ekaterina.smelovskya@romashka.ru"))]
    found = [lv["email"] for lv in _levels_of(rows, [(0, 2), (1, 3), (4, 6), (5, 7), (8, 9)])]
    assert found[0] != "similar_local_part" and found[2] != "similar_local_part"
    assert found[1] == found[3] == found[4] == "similar_local_part"


@pytest.mark.parametrize(("field", "column", "values", "at_one_company", "elsewhere"), [
    # Илья Петров, chief accountant, and Илья Петров, sales manager, at ООО Ромашка on one office line: what two
    # colleagues look like; at another company (a job change) the titles keep their own level
    ("job_title", "Должность", ("Главный бухгалтер", "Менеджер по продажам"), "colleague_function", "other_function"),
    # Петрович and Иванович there: father and son, or namesakes
    ("middle_name", "Отчество", ("Петрович", "Иванович"), "colleague_patronymic", "different"),
])
def test_what_two_colleagues_at_one_company_differ_in(field: str, column: str, values: tuple[str, str],
                                                      at_one_company: str, elsewhere: str) -> None:
    rows = [_person("1", "", "+7 495 123-45-67"), _person("2", "", "8 495 1234567"), _person("3", "", "")]
    rows[0][column], rows[1][column], rows[2][column] = values[0], values[1], values[1]
    rows[2]["Компания"] = "АО Вектор"
    found = [lv[field] for lv in _levels_of(rows, [(0, 1), (0, 2)])]
    assert found == [at_one_company, elsewhere]


def test_gender_form_and_transposition_skip_only_pairs_that_cannot_hold() -> None:
    """_gender_form and _digits_transposed test only the value pairs whose lengths allow them; every pair gives what
    the full rewrite of both values gives (equal values not ending in "ski" are a gender form of each other)."""
    from crmclean.matching.backends.polars.compare import _digits_transposed, _gender_form

    a = ["ivanov", "ivanova", "pokrovski", "ivanov", "kovalski", "kovalski", "1940", "hall", "ab", "", None, "abc"]
    b = ["ivanova", "ivanov", "pokrovskaia", "ivanov", "kovalski", "kovalskaia", "1490", "hlal", "ba", "", "x", "abcd"]

    def gender(x: str | None, y: str | None) -> bool:
        if x is None or y is None:
            return False
        ski = lambda v: v[:-3] + "skaia" if v.endswith("ski") else v  # noqa: E731
        return x + "a" == y or y + "a" == x or ski(x) == y or ski(y) == x

    def transposed(x: str | None, y: str | None) -> bool:
        if x is None or y is None or x == y or len(x) != len(y):
            return False
        return any(x[:i] + x[i + 1] + x[i] + x[i + 2:] == y for i in range(len(x) - 1))

    left, right = pl.Series(a, dtype=pl.String), pl.Series(b, dtype=pl.String)
    assert _gender_form(left, right).to_list() == [gender(x, y) for x, y in zip(a, b, strict=True)]
    assert _digits_transposed(left, right).to_list() == [transposed(x, y) for x, y in zip(a, b, strict=True)]
