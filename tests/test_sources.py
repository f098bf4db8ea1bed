"""File sources: encodings, delimiters, ragged rows, XLSX quirks and every kind of bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.connectors.files import detect_delimiter, detect_encoding, neutralize_formula, write_frame
from crmclean.errors import SourceError, UsageError
from crmclean.sources import SourceOptions, open_source
from crmclean.table import ROW_ID, read_table

runner = CliRunner()

RU_EXPORT = (
    "ID;Фамилия;Имя;Отчество;Телефон;E-mail;Должность;Организация;ИНН;Ответственный;Дата создания\n"
    "001;Иванов;Иван;Иванович;8 (495) 123-45-67;ivanov@romashka.ru;Ген. директор;ООО «Ромашка»;"
    "7707083893;Петрова А.;01.02.2024\n"
    "002;Петрова;Анна;Сергеевна;+7 916 555-44-33;anna@mail.ru;главбух;АО \"Лютик\";0274062111;Сидоров;"
    "15.03.2024\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=True)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        # CliRunner bypasses main(); map errors the way main() does
        from crmclean.errors import CrmcleanError

        assert isinstance(exc, CrmcleanError), f"unexpected {exc!r}"
        return int(exc.exit_code), str(exc)
    return result.exit_code, result.output


# ---------------------------------------------------------------- encodings and delimiters


def test_cp1251_semicolon_export_with_cyrillic_headers(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", RU_EXPORT, "cp1251")
    table, _, conn = open_source(str(path))
    assert conn.encoding == "cp1251" and conn.delimiter == ";"  # type: ignore[attr-defined]
    assert table.data_columns[:3] == ["ID", "Фамилия", "Имя"]
    assert table.id_column == "ID"
    assert table.frame["ID"].to_list() == ["001", "002"]  # leading zeros kept
    assert table.frame["ИНН"].to_list() == ["7707083893", "0274062111"]
    assert table.roles["Фамилия"] == "last_name"
    assert table.roles["Организация"] == "company"
    assert table.roles["Ответственный"] == "owner"
    assert table.roles["Дата создания"] == "created_at"


def test_utf8_bom_is_not_part_of_first_header(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "Email,Name\nA@B.RU,Анна\n", "utf-8-sig")
    table = read_table(open_connector(str(path)))
    assert table.data_columns == ["Email", "Name"]
    assert table.roles["Email"] == "email"


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_detected(tmp_path: Path, delim: str) -> None:
    rows = [["id", "name", "phone"], ["1", "Smith, John", "+1 (212) 555-0100"], ["2", "Анна; Ли", "8 916 1"]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim).writerows(rows)
    path = write(tmp_path / "d.csv", buf.getvalue())
    table = read_table(open_connector(str(path)))
    assert table.frame.select("id", "name", "phone").rows() == [tuple(r) for r in rows[1:]]


def test_latin1_detected(tmp_path: Path) -> None:
    path = write(tmp_path / "l1.csv", "name,city\nJosé Müller,Zürich\nFrançois,Besançon\n", "latin-1")
    table = read_table(open_connector(str(path)))
    assert table.frame["name"].to_list() == ["José Müller", "François"]


def test_detect_encoding_units() -> None:
    assert detect_encoding("Привет, мир".encode("cp1251")) == "cp1251"
    assert detect_encoding("Привет".encode()) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbfa,b") == "utf-8-sig"
    assert detect_encoding("Müller".encode("latin-1")) == "latin-1"
    assert detect_delimiter("a;b;c\n1;2;3\n") == ";"


def test_quoted_multiline_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", 'id,notes\n1,"line one\nline two"\n2,plain\n')
    table = read_table(open_connector(str(path)))
    assert table.frame["notes"].to_list() == ["line one\nline two", "plain"]


def test_ragged_rows_reported_by_line_and_kept(tmp_path: Path) -> None:
    text = 'id,name,phone\n1,Ann,111\n2,Bob\n"3","multi\nline",333,EXTRA\n4,Dan,444\n'
    path = write(tmp_path / "r.csv", text)
    table = read_table(open_connector(str(path)))
    assert table.frame.height == 4  # nothing dropped
    by_line = {i.line: i.message for i in table.issues}
    assert 3 in by_line and "missing values" in by_line[3]
    assert 4 in by_line and "EXTRA" in by_line[4]
    assert table.frame.filter(pl.col("id") == "2")["phone"].to_list() == [None]


def test_duplicate_headers_renamed_and_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "Email,Email,Телефон\na@x.ru,b@y.ru,8 999\n")
    table = read_table(open_connector(str(path)))
    assert table.data_columns == ["Email", "Email_2", "Телефон"]
    assert table.frame.row(0)[:2] == ("a@x.ru", "b@y.ru")
    assert any("duplicate header" in i.message for i in table.issues)
    assert table.roles["Email_2"] == "email2"


def test_one_megabyte_cell(tmp_path: Path) -> None:
    big = "я" * 1_000_000
    path = write(tmp_path / "big.csv", f'id,notes\n1,"{big}"\n2,small\n')
    table = read_table(open_connector(str(path)))
    assert len(table.frame["notes"][0]) == 1_000_000


def test_rows_without_id_column_get_row_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "noid.csv", "Name,Email\nA,a@x.ru\nB,b@x.ru\n")
    table = read_table(open_connector(str(path)))
    assert table.id_column == ROW_ID
    assert table.ids.to_list() == ["1", "2"]


def test_explicit_id_column_and_duplicate_ids(tmp_path: Path) -> None:
    path = write(tmp_path / "ids.csv", "code,name\nA1,x\nA1,y\n")
    with pytest.raises(SourceError, match="duplicate value 'A1'"):
        open_source(str(path), None, SourceOptions(id_column="code"))


# ---------------------------------------------------------------- bad input


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.csv", "")
    code, out = cli("rules", "infer", str(path))
    assert code == 3 and "empty" in out and "empty.csv" in out


def test_header_only_file(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", "Имя;Фамилия;Телефон\n")
    table = read_table(open_connector(str(path)))
    assert table.frame.height == 0
    assert table.data_columns == ["Имя", "Фамилия", "Телефон"]


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(bytes(range(256)) * 10)
    code, out = cli("rules", "infer", str(path))
    assert code == 3 and "binary" in out


def test_xlsx_renamed_as_csv_is_reported_as_binary(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["a"])
    wb.save(tmp_path / "real.xlsx")
    fake = tmp_path / "fake.csv"
    fake.write_bytes((tmp_path / "real.xlsx").read_bytes())
    with pytest.raises(SourceError, match="binary"):
        read_table(open_connector(str(fake)))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    code, out = cli("rules", "infer", str(tmp_path / "nope.csv"))
    assert code == 3 and "not found" in out
    d = tmp_path / "dir.csv"
    d.mkdir()
    code, out = cli("rules", "infer", str(d))
    assert code == 3 and "directory" in out


def test_unknown_extension_needs_format(tmp_path: Path) -> None:
    path = write(tmp_path / "data.dat", "a,b\n1,2\n")
    with pytest.raises(UsageError, match="--format"):
        open_connector(str(path))
    table = read_table(open_connector(str(path), ConnectorOptions(format="csv")))
    assert table.frame.height == 1


def test_xlsx_merged_cells_and_empty_first_sheet(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Пусто"
    ws = wb.create_sheet("Контакты")
    ws.append(["ФИО", "Телефон", "ИНН"])
    ws.append(["Иванов Иван Иванович", "+7 495 123-45-67", "007707083893"])
    ws.append(["Petrov Petr", None, None])
    ws.merge_cells("B3:C3")
    ws["B3"] = "8 916 000-00-00"
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    table = read_table(open_connector(str(path)))
    assert table.frame.height == 2
    assert table.frame["ИНН"].to_list() == ["007707083893", None]
    assert table.frame["Телефон"].to_list() == ["+7 495 123-45-67", "8 916 000-00-00"]
    assert any("first sheet empty" in i.message for i in table.issues)
    assert table.roles["ФИО"] == "full_name"
    sheet = read_table(open_connector(str(path), ConnectorOptions(sheet="Контакты")))
    assert sheet.frame.height == 2


def test_parquet_and_jsonl_sources(tmp_path: Path) -> None:
    frame = pl.DataFrame({"Id": ["a", "b"], "Email": ["x@y.ru", None], "n": [1, 2]})
    frame.write_parquet(tmp_path / "s.parquet")
    frame.write_ndjson(tmp_path / "s.jsonl")
    for name in ("s.parquet", "s.jsonl"):
        table = read_table(open_connector(str(tmp_path / name)))
        assert table.id_column == "Id"
        assert table.frame["n"].to_list() == ["1", "2"]  # everything is text


def test_yaml_tab_indentation_error(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules.yaml", "version: 1\ncolumns:\n\tEmail: email\n")
    code, out = cli("rules", "check", str(rules))
    assert code == 2
    assert "rules.yaml:3:1" in out and "tab" in out


# ---------------------------------------------------------------- writing


def test_formula_values_neutralized_on_csv_output(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["=HYPERLINK(\"x\")", "+7 495 123-45-67", "@SUM(A1)", "-1+2", "ok"]})
    out = tmp_path / "o.csv"
    write_frame(frame, out, "csv")
    values = [r[0] for r in csv.reader(out.read_text().splitlines()[1:])]
    assert values == ["'=HYPERLINK(\"x\")", "+7 495 123-45-67", "'@SUM(A1)", "'-1+2", "ok"]
    assert neutralize_formula("=1") == "'=1"


def test_file_target_refuses_to_overwrite_input(tmp_path: Path) -> None:
    path = write(tmp_path / "in.csv", "id,name\n1,a\n")
    conn = open_connector(str(path))
    read_table(conn)
    with pytest.raises(UsageError, match="refusing to write"):
        conn.update([])  # type: ignore[attr-defined]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
                     max_size=12),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=8,
    )
)
def test_csv_round_trip_keeps_every_value(tmp_path: Path, rows: list[list[str]]) -> None:
    """Whatever text we write (Cyrillic, quotes, delimiters), reading gives it back (empty -> missing)."""
    rows = [[v for v in r] for r in rows]
    frame = pl.DataFrame({"a": [r[0] for r in rows], "b": [r[1] for r in rows], "c": [r[2] for r in rows]})
    safe = frame.with_columns(pl.all().map_elements(lambda v: v if v[:1] not in "=+-@\t\r" else "x" + v,
                                                    return_dtype=pl.String))
    path = tmp_path / "rt.csv"
    write_frame(safe, path, "csv")
    back = read_table(open_connector(str(path), ConnectorOptions(delimiter=","))).frame
    expected = safe.with_columns(pl.when(pl.all() == "").then(None).otherwise(pl.all()).name.keep())
    assert back.select("a", "b", "c").rows() == expected.rows()


def test_the_column_wise_csv_scan_claims_regular_only_what_the_csv_module_reads_so() -> None:
    """_regular_records (numpy over the bytes) counts the records only of a file the csv module reads with the
    header's width everywhere, no blank line and no issue (then with the same count); quotes inside unquoted
    fields, text after a closing quote, NUL, blank lines, ragged records and open quotes leave it to _scan_ragged."""
    import random

    from crmclean.connectors.files.csvfile import _BARE_CR, _regular_records, _scan_ragged

    rng = random.Random(13)
    pieces = ["a", "Ж", ",", ";", '"', "\n", "\r\n", " ", '""', "x\"y", "\x00", "\t"]
    claimed = 0
    for _ in range(1000):
        delim, width = rng.choice([",", ";", "\t"]), rng.randint(1, 4)
        lines = []
        for _ in range(rng.randint(1, 5)):
            fields = []
            for _ in range(width if rng.random() < 0.85 else rng.randint(0, 5)):
                body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
                if rng.random() < 0.4:
                    fields.append('"' + (body.replace('"', '""') if rng.random() < 0.9 else body) + '"')
                else:
                    fields.append("".join(rng.choice("ab Ж" + ('"' if rng.random() < 0.1 else ""))
                                          for _ in range(rng.randint(0, 3))))
            lines.append(delim.join(fields))
        text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n", "\r\n", "\n\n"])
        if _BARE_CR.search(text):
            continue
        got = _regular_records(text.encode(), delim, width)
        if got is None:
            continue
        claimed += 1
        issues: list = []
        counted: list[int] = []
        assert _scan_ragged(text, delim, width, Path("x.csv"), issues, counted) == 0, repr(text)
        assert not issues and counted == [got], repr(text)
    assert claimed > 60


def test_a_long_csv_is_trimmed_from_its_two_ends_as_from_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """trim_csv_text reads a long text's title rows and footer from its two ends (_edge_lines) instead of
    splitting every line: on texts with titles, footers, any line endings and lengths around the scanned ends it
    gives the text, the lines cut on top, the titles and the issues of the full split."""
    import random

    from crmclean.connectors import exports

    rng = random.Random(3)
    for _ in range(30):
        end = rng.choice(["\n", "\r\n", "\r", "\n\r\n"])
        rows = [f"{rng.randint(1, 9999)};Иванов {k};+7495{k:07d}" for k in range(rng.choice([20, 45, 900, 3000]))]
        titles = ["Отчёт: контакты", "Дата: 01.02.2024", ""][:rng.randint(0, 3)]
        footer = ["Итого: 3000", "Сформировано 1С"][:rng.choice([0, 0, 1, 2])]
        lines = [*titles, "id;name;phone", *rows, *footer]
        text = end.join(lines) + rng.choice(["", end])
        for header_row, skip_footer in [(None, None), (None, 0), (rng.randint(1, 4), None)]:
            got_issues: list = []
            got_titles: list = []
            got = exports.trim_csv_text(text, ";", header_row=header_row, skip_footer=skip_footer,
                                        issues=got_issues, titles=got_titles)
            want_issues: list = []
            want_titles: list = []
            with monkeypatch.context() as m:
                m.setattr(exports, "_edge_lines", lambda *a: None)
                want = exports.trim_csv_text(text, ";", header_row=header_row, skip_footer=skip_footer,
                                             issues=want_issues, titles=want_titles)
            assert got == want
            assert (got_titles, [(i.line, i.message) for i in got_issues]) == (
                want_titles, [(i.line, i.message) for i in want_issues])
