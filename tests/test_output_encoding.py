"""Every CSV crmclean writes opens in Excel: a cp1251 ';' spreadsheet export gets cp1251 ';' back (Cyrillic
intact in a cp1251 reader), anything else UTF-8 with a BOM; --output-encoding chooses; outputs read back as input."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.sources import SourceOptions, open_source

HEADER = "ID;Имя;Фамилия;Компания;Мобильный телефон;Рабочий e-mail;Город"
ROWS = [
    "1;Иван;Петров;ООО «Ромашка»;8 (916) 123-45-67;ivan.petrov@mail.ru;Москва",
    "2;Иван;Петров;ООО Ромашка;+7 916 123 45 67;ivan.petrov@mail.ru;москва",
    "3;Мария;Сидорова;АО Вектор;89161112233;maria@yandex.ru;Санкт-Петербург",
    "4;Мария;Сидорова;АО «Вектор»;8-916-111-22-33;Maria@Yandex.ru ;Санкт-Петербург",
    "5;Пётр;Иванов;ИП Иванов;+7 (495) 765-43-21;petr@ivanov.ru;Казань",
]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        from crmclean.errors import CrmcleanError  # CliRunner bypasses main(): map errors as main() does

        assert isinstance(exc, CrmcleanError), f"unexpected {exc!r}"
        return int(exc.exit_code), str(exc)
    return result.exit_code, result.output


@pytest.fixture()
def cp1251_export(tmp_path: Path) -> Path:
    path = tmp_path / "contacts_excel.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1251"))
    return path


def _read_cp1251(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has a UTF-8 BOM"
    text = raw.decode("cp1251")  # strict: a UTF-8 file with Cyrillic would show as mojibake, not fail, so check below
    assert "Р\u0098" not in text and "Рђ" not in text, f"{path.name}: UTF-8 read as cp1251"
    return list(csv.reader(text.splitlines(), delimiter=";"))


def _all_outputs(src: Path, out: Path, *extra: str) -> dict[str, Path]:
    files = {name: out / f"{name}.csv" for name in ("out", "pairs", "review", "golden", "changes", "std", "scored")}
    code, text = run("dedupe", str(src), "--out", str(files["out"]), "--pairs", str(files["pairs"]),
                     "--review", str(files["review"]), "--golden", str(files["golden"]), *extra)
    assert code == 0, text
    code, text = run("standardize", str(src), "--out", str(files["std"]), "--changes", str(files["changes"]), *extra)
    assert code in (0, 1), text
    code, text = run("score", str(src), "--out", str(files["scored"]), *extra)
    assert code in (0, 1), text
    code, text = run("audit", str(src), "--out", str(out / "report"), "--fail-on", "never", *extra)
    assert code == 0, text
    for name in ("findings", "changes", "duplicates"):
        files[f"report_{name}"] = out / "report" / f"{name}.csv"
    return files


def test_every_csv_written_for_a_cp1251_input_opens_in_a_cp1251_reader(cp1251_export: Path, tmp_path: Path) -> None:
    files = _all_outputs(cp1251_export, tmp_path / "o")
    for name, path in files.items():
        assert path.exists(), name
        rows = _read_cp1251(path)
        assert rows and len(rows[0]) > 1, f"{name}: not ';'-separated: {rows[:1]}"
    joined = "\n".join(";".join(r) for r in _read_cp1251(files["out"]))
    assert "Иван" in joined and "Петров" in joined and "Ромашка" in joined
    assert any("Петров" in ";".join(r) or "Сидорова" in ";".join(r) for r in _read_cp1251(files["golden"])[1:])
    assert len(_read_cp1251(files["changes"])) > 1  # phones were reformatted: the change log has rows
    assert "Москва" in "\n".join(";".join(r) for r in _read_cp1251(files["std"]))


def test_outputs_read_back_as_input(cp1251_export: Path, tmp_path: Path) -> None:
    files = _all_outputs(cp1251_export, tmp_path / "o")
    source, _, _ = open_source(str(cp1251_export))
    for name in ("out", "std", "scored"):
        table, _, connector = open_source(str(files[name]))
        assert connector.encoding == "cp1251" and connector.delimiter == ";"  # type: ignore[attr-defined]
        assert table.frame.height == source.frame.height
        for column in source.data_columns:  # every input column comes back, with its values
            assert column in table.frame.columns, (name, column)
        assert table.output_encoding == "cp1251" and table.output_delimiter == ";"
    from crmclean.connectors import open_connector
    from crmclean.table import read_table

    for name, path in files.items():  # every output, read back by crmclean as it reads any input
        raw_rows = _read_cp1251(path)
        back_table = read_table(open_connector(str(path)))
        assert back_table.data_columns[:len(raw_rows[0])] == [c for c in raw_rows[0] if c], name
        assert back_table.frame.height == len([r for r in raw_rows[1:] if any(r)]), name
    back, _, _ = open_source(str(files["out"]))
    assert back.frame.get_column("Фамилия").to_list() == source.frame.get_column("Фамилия").to_list()
    assert back.frame.get_column("Компания").to_list() == source.frame.get_column("Компания").to_list()


def test_utf8_input_gets_utf8_with_bom(tmp_path: Path) -> None:
    src = tmp_path / "contacts.csv"
    src.write_text("\n".join([HEADER.replace(";", ","), *(r.replace(";", ",") for r in ROWS)]) + "\n",
                   encoding="utf-8")
    files = _all_outputs(src, tmp_path / "o")
    for name, path in files.items():
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        raw.decode("utf-8-sig")
    assert "Петров" in files["out"].read_text(encoding="utf-8-sig")


def test_output_encoding_option_chooses(cp1251_export: Path, tmp_path: Path) -> None:
    files = _all_outputs(cp1251_export, tmp_path / "o", "--output-encoding", "utf-8-sig")
    for name, path in files.items():
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), name
    assert "Петров" in files["golden"].read_text(encoding="utf-8-sig") or \
        "Сидорова" in files["golden"].read_text(encoding="utf-8-sig")


def test_unknown_output_encoding_is_a_usage_error(cp1251_export: Path, tmp_path: Path) -> None:
    code, text = run("score", str(cp1251_export), "--out", str(tmp_path / "s.csv"), "--output-encoding", "klingon")
    assert code == 2 and "klingon" in text


def test_source_options_carry_output_encoding(cp1251_export: Path) -> None:
    table, _, _ = open_source(str(cp1251_export), None, SourceOptions(output_encoding="utf-8"))
    assert table.output_encoding == "utf-8"


def test_crmclean_symbols_get_ascii_stand_ins_in_cp1251(cp1251_export: Path, tmp_path: Path) -> None:
    changes = tmp_path / "changes.csv"
    code, text = run("standardize", str(cp1251_export), "--out", str(tmp_path / "s.csv"), "--changes", str(changes))
    assert code in (0, 1), text
    rows = _read_cp1251(changes)
    reasons = [dict(zip(rows[0], r, strict=False)).get("reason", "") for r in rows[1:]]
    assert "phone -> E164" in reasons  # the reason's arrow, which cp1251 has not, as "->" rather than "?"
    assert not any("?" in r for r in reasons)


def test_a_value_cp1251_cannot_hold_makes_the_file_utf8_with_bom(tmp_path: Path) -> None:
    src = tmp_path / "contacts_excel.csv"
    src.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("cp1251"))
    from crmclean.connectors.files import lossless_encoding, write_output

    table, _, _ = open_source(str(src))
    frame = table.frame.with_columns(pl.lit("李雷").alias("Город"))
    assert lossless_encoding(frame, "cp1251") == "utf-8-sig"
    out = tmp_path / "out.csv"
    write_output(frame, out, encoding=table.output_encoding, delimiter=table.output_delimiter)
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "李雷" in text.decode("utf-8-sig")  # never a silent "?"
    assert lossless_encoding(table.frame, "cp1251") == "cp1251"
