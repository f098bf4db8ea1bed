"""Issue 11 end to end: a Bitrix24-style cp1251 ';' export with multi-value cells through `crmclean run`.

Apply writes every value (each phone, extension and address of a cell, normalized, in the cell's own
separator); a second run of the same job on its own output changes nothing.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from crmclean.jobs import run_job
from crmclean.model.multivalue import email_addresses, phone_keys

HEADER = ["ID", "Имя", "Фамилия", "Рабочий телефон", "Мобильный телефон", "Рабочий e-mail", "Компания"]
ROWS = [
    ["1", "Иван", "Петров", "8 (984) 388-32-73, 8 (981) 432-96-66", "+7 916 123-45-67", "Ivan@Mail.RU, petrov@gmail.com",
     "ООО «Ромашка»"],
    ["2", "Анна", "Смирнова", "8 495 123-45-67 доб. 123", "", "anna@romashka.ru", "ООО «Ромашка»"],
    ["3", "Олег", "Кузнецов", "+7 (495) 765-43-21, 8 (495) 765-43-22 доб. 7", "89031234567, 8 903 765-43-21",
     "o.kuz@lutik.ru, OLEG@yandex.ru, kuz@lutik.ru", "ЗАО «Лютик»"],
    ["4", "Мария", "Иванова", "", "8-926-000-11-22", "", "ИП Иванова"],
]

JOB = """\
version: 1
name: bitrix-quarterly
source: data/contacts.csv
source_options:
  id_column: ID
steps: [standardize]
in_place: true
limits:
  max_changes: 1000
report_dir: reports/{{name}}/{{date}}-{{time}}-{run}
log_file: logs/crmclean.log
store: state/runs.duckdb
"""


def _write_export(path: Path) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([HEADER, *ROWS])
    path.write_bytes(buf.getvalue().encode("cp1251"))


def _read(path: Path) -> list[dict[str, str]]:
    text = path.read_bytes().decode("cp1251")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def _values(rows: list[dict[str, str]]) -> tuple[set[str], set[str]]:
    phones: set[str] = set()
    emails: set[str] = set()
    for r in rows:
        for col in ("Рабочий телефон", "Мобильный телефон"):
            phones |= {f"{r['ID']}:{k}" for k in phone_keys(r.get(col))}
        emails |= {f"{r['ID']}:{a}" for a in email_addresses(r.get("Рабочий e-mail"))}
    return phones, emails


def test_bitrix_style_export_keeps_every_value_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    source = tmp_path / "data" / "contacts.csv"
    _write_export(source)
    before = _read(source)
    want_phones, want_emails = _values(before)

    (tmp_path / "job1.yaml").write_text(JOB.format(run="1"), encoding="utf-8")
    first = run_job(tmp_path / "job1.yaml")
    assert first.exit_code == 0, first.message
    after = _read(source)  # still cp1251 with ';'
    got_phones, got_emails = _values(after)
    assert want_phones <= got_phones and want_emails <= got_emails
    by_id = {r["ID"]: r for r in after}
    assert by_id["1"]["Рабочий телефон"] == "+79843883273, +79814329666"
    assert by_id["1"]["Рабочий e-mail"] == "ivan@mail.ru, petrov@gmail.com"
    assert by_id["2"]["Рабочий телефон"] == "+74951234567 доб. 123"
    assert by_id["3"]["Мобильный телефон"] == "+79031234567, +79037654321"

    (tmp_path / "job2.yaml").write_text(JOB.format(run="2"), encoding="utf-8")
    second = run_job(tmp_path / "job2.yaml")
    assert second.exit_code == 0, second.message
    assert _read(source) == after
    assert first.summary["plan"]["updates"] > 0 and first.summary["run"]["counts"]["skipped"] == 0
    assert second.summary["plan"]["updates"] == 0, second.summary
