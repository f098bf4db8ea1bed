"""Probe round (session 10): contact files a steward brings, read pair by pair. A team mailbox and a switchboard
two colleagues share are no evidence of one person; the same person typed differently still merges."""

from __future__ import annotations

from typing import Any

import polars as pl
from _match_helpers import table_from_rows

from crmclean.matching import dedupe
from crmclean.matching.engine import prepare


def _levels(rows: list[dict[str, Any]], pairs: list[tuple[int, int]], fields: tuple[str, ...]
            ) -> dict[str, list[str | None]]:
    """Each field's level name for each pair, from one prepare."""
    setup = prepare(table_from_rows(rows, id_column="Contact ID", object_type="contacts"))
    frame = pl.DataFrame({"l": [a for a, _ in pairs], "r": [b for _, b in pairs]},
                         schema={"l": pl.UInt32, "r": pl.UInt32})
    levels = setup.levels(frame)
    out = {}
    for field in fields:
        names = [lv.name for lv in next(c for c in setup.comparisons if c.name == field).levels]
        out[field] = [None if i is None else names[i] for i in levels.get_column(f"lvl__{field}").to_list()]
    return out


_INITECH = {"Last Name": "Johnson", "Email": "sales@initech.com", "Title": "Account Executive",
            "Account Name": "Initech", "Mailing City": "Austin", "Mailing Country": "USA"}


def _initech() -> list[dict[str, Any]]:
    return [
        {"Contact ID": "003A06", "First Name": "Mary", **_INITECH, "Phone": "+1 (512) 555-0100 ext. 201"},
        {"Contact ID": "003A07", "First Name": "Mark", **_INITECH, "Phone": "+1 (512) 555-0100 ext. 202"},
        # one person typed twice: the same desk, a nickname, the extension written another way
        {"Contact ID": "003A08", "First Name": "Robert", "Last Name": "Brown", "Email": "sales@initech.com",
         "Account Name": "Initech", "Phone": "+1 (512) 555-0100 x305", "Mailing City": "Austin"},
        {"Contact ID": "003A09", "First Name": "Bob", "Last Name": "Brown", "Email": "sales@initech.com",
         "Account Name": "Initech", "Phone": "512-555-0100 доб. 305", "Mailing City": "Austin"},
        # one person whose two records show two extensions: the names decide
        {"Contact ID": "003A10", "First Name": "Elizabeth", "Last Name": "Morales", "Account Name": "Initech",
         "Phone": "+1 (512) 555-0100 ext. 144"},
        {"Contact ID": "003A11", "First Name": "Elizabeth", "Last Name": "Morales", "Account Name": "Initech",
         "Phone": "512.555.0100 #102"},
    ]


def test_a_team_mailbox_is_no_ones_address_and_two_extensions_of_one_switchboard_are_two_desks() -> None:
    got = _levels(_initech(), [(0, 1), (2, 3), (4, 5)], ("email", "phone"))
    # sales@ held by two records only (no "several people" to count) was read as a shared personal address
    assert got["email"][:2] == ["shared_mailbox", "shared_mailbox"]
    assert got["phone"][0] == "colleagues_own_numbers"  # Mary / Mark: ext. 201 / ext. 202
    # the switchboard six records hold is a shared line; what matters is that it does not say "two people"
    assert got["phone"][1] == "shared_line"  # Robert / Bob, one desk (x305 = доб. 305)
    assert got["phone"][2] == "shared_line"  # Elizabeth Morales twice: a desk moved or a digit mistyped; names decide


def test_colleagues_sharing_sales_mailbox_and_switchboard_are_not_merged() -> None:
    # Mary and Mark Johnson, Account Executives at Initech: merged at 16 bits (p 1.0) before
    result = dedupe(table_from_rows(_initech(), id_column="Contact ID", object_type="contacts"))
    cluster = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cluster["003A06"] != cluster["003A07"]
    assert cluster["003A08"] == cluster["003A09"]


def test_one_woman_before_and_after_marriage_shares_her_personal_mailbox_and_mobile() -> None:
    # the same given name and patronymic under two surnames, with her own gmail (spelled from the old surname) and
    # mobile: read as a shared mailbox and a shared line (two surnames = two people), p 0.66, not even asked
    rows = [
        {"Contact ID": "16", "ФИО": "Новикова Екатерина Андреевна", "Email": "e.novikova@gmail.com",
         "Мобильный": "+7 915 222-33-44", "Компания": "ООО «Медиа Плюс»", "Должность": "Маркетолог", "Город": "Москва"},
        {"Contact ID": "17", "ФИО": "Сидорова Екатерина Андреевна", "Email": "e.novikova@gmail.com",
         "Мобильный": "+7 915 222-33-44", "Компания": "ООО «Брендлаб»", "Должность": "Директор по маркетингу",
         "Город": "Москва"},
        # spouses: one family mailbox and home line, two given names
        {"Contact ID": "3", "ФИО": "Иванов Сергей Александрович", "Email": "ivanovy.family@yandex.ru",
         "Мобильный": "+7 916 987-65-43", "Город": "Москва"},
        {"Contact ID": "4", "ФИО": "Иванова Светлана Викторовна", "Email": "ivanovy.family@yandex.ru",
         "Мобильный": "+7 916 987-65-43", "Город": "Москва"},
        # two Annas at one company sharing a work mailbox: a surname change lifts only a free-mail address's veto
        {"Contact ID": "5", "ФИО": "Кузнецова Анна Сергеевна", "Email": "anna@vektor.ru", "Компания": "ООО «Вектор»"},
        {"Contact ID": "6", "ФИО": "Смирнова Анна Сергеевна", "Email": "anna@vektor.ru", "Компания": "ООО «Вектор»"},
    ]
    got = _levels(rows, [(0, 1), (4, 5)], ("email", "phone"))
    assert got["email"] == ["exact", "shared_mailbox"]
    assert got["phone"][0] == "exact"
    result = dedupe(table_from_rows(rows, id_column="Contact ID", object_type="contacts"))
    cluster = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cluster["16"] == cluster["17"]
    assert cluster["3"] != cluster["4"]


def test_father_and_son_sr_and_jr_are_never_one_record_nor_joined_through_a_name_without_suffix() -> None:
    # one family business, one phone: merged all four before (the parsed name drops the suffix, the surname column's
    # "Smith Sr." / "Smith Jr." keyed alike)
    phone, company = "+1 (617) 555-0100", "Smith Hardware"
    rows = [
        {"Contact ID": "1", "Full Name": "John Smith Sr.", "Phone": phone, "Company": company},
        {"Contact ID": "2", "Full Name": "John Smith Jr.", "Phone": phone, "Company": company},
        {"Contact ID": "3", "Full Name": "Mr. John Smith", "Phone": phone, "Company": company},
        {"Contact ID": "4", "Full Name": "Smith, John Jr.", "Phone": phone, "Company": company},
        {"Contact ID": "5", "Full Name": "Robert Miller II", "Phone": "+1 (212) 555-0101", "Company": "Miller & Sons"},
        {"Contact ID": "6", "Full Name": "Robert Miller III", "Phone": "+1 (212) 555-0101", "Company": "Miller & Sons"},
    ]
    result = dedupe(table_from_rows(rows, id_column="Contact ID", object_type="contacts"))
    cluster = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cluster["1"] != cluster["2"] and cluster["2"] == cluster["4"]
    assert cluster["5"] != cluster["6"]
    setup = result.setup
    assert setup is not None
    assert setup.features.get_column("generation").to_list() == ["Sr.", "Jr.", None, "Jr.", "Jr.", "III"]


def test_two_names_of_the_russian_name_list_are_different_given_names_however_alike() -> None:
    # twins (one birthday, family mailbox and home line, each their own mobile) and a conference list's two women at
    # one bank: Александр / Алексей read as a weak match (-1 bit), Мария / Марина as a typo (+4.1): both merged
    rows = [
        {"Contact ID": "1", "Фамилия": "Иванов", "Имя": "Александр", "Отчество": "Сергеевич", "Email": "ivanovy@mail.ru",
         "Телефон": "+7 495 111-22-33", "Мобильный": "+7 916 100-00-01", "Город": "Москва"},
        {"Contact ID": "2", "Фамилия": "Иванов", "Имя": "Алексей", "Отчество": "Сергеевич", "Email": "ivanovy@mail.ru",
         "Телефон": "+7 495 111-22-33", "Мобильный": "+7 916 100-00-02", "Город": "Москва"},
        {"Contact ID": "3", "Фамилия": "Кузнецова", "Имя": "Мария", "Компания": "ВТБ"},
        {"Contact ID": "4", "Фамилия": "Кузнецова", "Имя": "Марина", "Компания": "ВТБ"},
        # one name typed two ways stays alike: a transliteration, a typo, a nickname
        {"Contact ID": "5", "Фамилия": "Смирнов", "Имя": "Yury", "Компания": "Нефтегаз"},
        {"Contact ID": "6", "Фамилия": "Смирнов", "Имя": "Юрий", "Компания": "Нефтегаз"},
        {"Contact ID": "7", "Фамилия": "Смирнов", "Имя": "Юрй", "Компания": "Нефтегаз"},
    ]
    got = _levels(rows, [(0, 1), (2, 3), (4, 5), (5, 6)], ("first_name",))["first_name"]
    assert got[:2] == ["different", "different"]
    assert got[2] == "exact" and got[3] != "different"
    result = dedupe(table_from_rows(rows, id_column="Contact ID", object_type="contacts"))
    cluster = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cluster["1"] != cluster["2"] and cluster["3"] != cluster["4"]


def test_spouses_joint_mailbox_and_home_line_are_the_familys_not_one_persons() -> None:
    # John and Jane Smith, one gmail and one home number: read as one person's address and number, merged at p 0.97
    rows = [
        {"Contact ID": "1", "First Name": "John", "Last Name": "Smith", "Email": "thesmiths@gmail.com",
         "Phone": "(617) 555-0190", "Mailing City": "Boston"},
        {"Contact ID": "2", "First Name": "Jane", "Last Name": "Smith", "Email": "thesmiths@gmail.com",
         "Phone": "(617) 555-0190", "Mailing City": "Boston"},
        # one person: a nickname beside a misspelled full name, a typo the name lists do not know
        {"Contact ID": "3", "First Name": "Tony", "Last Name": "Gibson", "Email": "gibson1978@yahoo.com",
         "Phone": "617-327-2103"},
        {"Contact ID": "4", "First Name": "Anthoy", "Last Name": "Gibson", "Email": "gibson1978@yahoo.com",
         "Phone": "+1 (617) 327-2103"},
    ]
    got = _levels(rows, [(0, 1), (2, 3)], ("email", "phone"))
    assert got["email"] == ["shared_mailbox", "exact"]
    assert got["phone"] == ["shared_line", "exact"]
    result = dedupe(table_from_rows(rows, id_column="Contact ID", object_type="contacts"))
    cluster = dict(zip(result.clusters["record_id"].to_list(), result.clusters["cluster_id"].to_list(), strict=True))
    assert cluster["1"] != cluster["2"] and cluster["3"] == cluster["4"]
