"""A small messy Russian/English contacts table for the validation, scoring and audit tests.

Each row carries one or two known problems (named in the trailing comment), so tests can assert
exactly which checks fire on which record.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

HEADERS = ["Id", "ФИО", "Email", "Телефон", "Должность", "Компания", "ИНН", "Город", "Страна", "Ответственный",
           "Дата создания", "Дата изменения", "Сайт"]

XSS = "<script>alert(1)</script>"

ROWS: list[tuple[str | None, ...]] = [
    # id, name, email, phone, title, company, inn, city, country, owner, created, modified, site
    ("C01", XSS, "xss@romashka.ru", "8 (495) 123-45", "CEO", "ООО «Ромашка»", "7707083893", "Москва", "Россия",
     "Петрова А.", "2024-01-10", "2026-10-01", "romashka.ru"),                      # XSS name; invalid phone
    ("C02", "Иванов Иван Иванович", "ivanov@romashka.ru", "+7 (495) 123-45-67", "Генеральный директор",
     "ООО «Ромашка»", "7707083893", "москва", "Россия", "Петрова А.", "2024-01-10", "2026-09-01", "romashka.ru"),  # clean
    ("C03", "Петров Пётр", "petrov@romashka", "8 (916) 123-45-67", "Менеджер", "ООО «Ромашка»", "7707083893",
     "г. Москва", "РФ", "Сидоров К.", "2024-02-01", "2026-08-01", "romashka.ru"),   # invalid email
    ("C04", "Сидорова Анна", "anna@gmial.com", "8 916 765 43 21", "Бухгалтер", "ООО «Вектор»", "7707083894",
     "Moscow", "Russia", "Сидоров К.", "2023-05-05", "2026-07-07", "vector.ru"),    # domain typo; bad INN
    ("C05", "John Smith", "john.smith@acme.com", "+1 212 555 4517", "VP Sales", "Acme LLC", None,
     "New York", "USA", "j.smith", "2022-03-03", "2026-10-10", "acme.com"),        # clean
    ("C06", "Mary Johnson", "info@acme.com", "+49 30 1234567", "Marketing Manager", "Acme LLC", None,
     "New York", "United States", "j.smith", "2022-03-03", "2026-10-10", "acme.com"),  # role email; phone country
    ("C07", "Кузнецов Олег", "-", "-", "Инженер", None, None, "Казань", "Россия", None, "2020-01-01",
     "2021-01-01", None),                                                            # placeholders; orphan; unowned; stale
    ("C08", "Смирнова Е.В.", None, None, "Юрист", "ИП Смирнова Е.В.", "7707083893", "Казань", "Россия",
     "Петрова А.", "2024-04-04", "давно", None),                                    # no contact; ИП 10-digit INN
    ("C09", "Волков Дмитрий", "d.volkov@vector.ru", "+7 916 000 11 22", "Директор", "ООО «Вектор»",
     "500100732259", "Новосибирск", "Россия", "Иванова Е.", "2024-06-06", "2026-06-06", "vector.ru"),  # LLC 12-digit INN
    ("C10", "Морозов Павел", "p.morozov@granit.ru", "+7 (383) 222-33-44", "Директор", "ООО «Гранит»", "274062111",
     "Новосибриск", "Атлантида", "Иванова Е.", "2025-01-01", None, "granit.ru"),   # lost zero; unknown country; never
    ("C11", "Anna Schmidt", "a.schmidt@siemens.de", "+49 30 1234567", "Engineer", "Siemens GmbH", None,
     "Berlin", "Germany", "j.smith", "2024-05-05", "2026-11-01", "siemens.de"),    # clean
    ("C12", "Новикова Елена", "e.novikova@other.ru", "+7 (812) 111-22-33", "Менеджер", "ООО «Ромашка»", "7707083893",
     "Санкт-Петербург", "Россия", "Петрова А.", "2025-05-05", "2026-10-20", "romashka.ru"),  # email domain ≠ site
]


def contacts_frame() -> pl.DataFrame:
    return pl.DataFrame([list(r) for r in ROWS], schema=dict.fromkeys(HEADERS, pl.String), orient="row")


def write_contacts_csv(path: Path) -> Path:
    contacts_frame().write_csv(path)
    return path
