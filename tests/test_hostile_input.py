"""Hostile and odd input ends in a clear error with exit 2/3, never a wrong answer or exit 4 (issue 17)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmclean.config import parse_rules
from crmclean.connectors.files import read_csv_file
from crmclean.errors import ConfigError, SourceError

ROWS = ["name,phone"] + [f"n{i},+7900{i:07d}" for i in range(199)]


def cli(*args: str, cwd: Path | None = None, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os
    env = dict(os.environ)
    if store is not None:
        env["CRMCLEAN_STORE"] = str(store)
    return subprocess.run([sys.executable, "-m", "crmclean", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=env)


# ---------------------------------------------------------------- item 4: line endings


@pytest.mark.parametrize("ending", ["\r", "mixed", "\r\n", "\n"])
def test_every_line_ending_reads_every_record(tmp_path: Path, ending: str) -> None:
    if ending == "mixed":
        text = "".join(r + ["\n", "\r", "\r\n"][i % 3] for i, r in enumerate(ROWS))
    else:
        text = ending.join(ROWS) + ending
    path = tmp_path / "old_mac.csv"
    path.write_bytes(text.encode("cp1251"))
    frame, issues, _, _ = read_csv_file(path)
    assert frame.height == 199
    assert frame.row(0) == ("n0", "+79000000000") and frame.row(-1) == ("n198", "+79000000198")
    assert not [i for i in issues if "blank" not in i.message]


def test_a_bare_cr_inside_a_quoted_cell_stays_in_the_cell(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(b'name,note\r\na,"x\ry"\r\nb,z\r')
    frame, _, _, _ = read_csv_file(path)
    assert frame.rows() == [("a", "x\ry"), ("b", "z")]


def test_apply_on_a_bare_cr_file_keeps_every_record(tmp_path: Path) -> None:
    src = (Path(__file__).resolve().parents[1] / "examples" / "contacts.csv").read_bytes()
    lines = [ln for ln in src.replace(b"\r\n", b"\n").split(b"\n") if ln]
    (tmp_path / "cr.csv").write_bytes(b"\r".join(lines) + b"\r")
    store = tmp_path / "store"
    assert cli("plan", "cr.csv", "--steps", "standardize", "-o", "plan.json", cwd=tmp_path, store=store).returncode == 0
    done = cli("apply", "plan.json", "--out", "out.csv", "--yes", cwd=tmp_path, store=store)
    assert done.returncode == 0, done.stderr
    import csv
    with open(tmp_path / "out.csv", newline="", encoding="utf-8-sig") as fh:
        assert sum(1 for r in csv.reader(fh) if r) == len(lines)


def test_records_and_rows_that_disagree_stop_with_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a parser that silently loses a record must be caught: simulate polars dropping the 3rd record
    import polars as pl

    import crmclean.connectors.files as files

    real = pl.read_csv

    def lossy(*args: object, **kwargs: object) -> pl.DataFrame:
        frame = real(*args, **kwargs)  # type: ignore[arg-type]
        return pl.concat([frame.head(2), frame.slice(3)])

    monkeypatch.setattr(files.pl, "read_csv", lossy)
    path = tmp_path / "x.csv"
    path.write_text("\n".join(ROWS[:10]) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        read_csv_file(path)
    assert err.value.line == 4 and "9 records in the file but 8 rows parsed" in str(err.value)


# ---------------------------------------------------------------- items 7/8: hostile YAML

BILLION_LAUGHS = """version: 1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize("text, words", [
    (BILLION_LAUGHS, "alias"),
    ("version: 1\n" + "".join(f"k{i}: &x{i} [1]\n" for i in range(60)) + "l: [" +
     ",".join(f"*x{i % 60}" for i in range(150)) + "]\n", "aliases"),
    ("version: 1\na: &a [*a]\n", "alias"),
    ("version: 1\x00\n", "not YAML text"),
    ("version: 1\x07\n", "not YAML text"),
    ("version: 1\n? {a: 1}\n: x\n", "a key must be a plain value"),
    ("version: 1\n? [a, b]\n: x\n", "a key must be a plain value"),
])
def test_hostile_yaml_is_a_config_error(text: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as err:
        parse_rules(text, "rules.yaml")
    assert words in str(err.value)
    assert time.monotonic() - started < 2


def test_billion_laughs_cli_exit_2_fast(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    started = time.monotonic()
    result = cli("rules", "check", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "alias bomb" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 10


def test_a_few_honest_aliases_still_work() -> None:
    rules = parse_rules("version: 1\ncolumns:\n  Phone: &p phone\n  Mobile: *p\n", "rules.yaml")
    assert rules is not None


def test_debug_keeps_the_exit_code(tmp_path: Path) -> None:
    result = cli("--debug", "rules", "infer", str(tmp_path / "missing.csv"))
    assert result.returncode == 3 and "Traceback" in result.stderr


# ---------------------------------------------------------------- item 7: zip bombs, huge widths

def _xlsx_with_sheet(path: Path, tmp: Path, sheet_writer: object) -> None:
    import zipfile

    import openpyxl

    small = tmp / "small.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["name", "phone"])  # type: ignore[union-attr]
    wb.active.append(["a", "1"])  # type: ignore[union-attr]
    wb.save(small)
    with zipfile.ZipFile(small) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with zout.open(item.filename, "w", force_zip64=True) as fh:
                    sheet_writer(fh, zin.read(item.filename))  # type: ignore[operator]
            else:
                zout.writestr(item, zin.read(item.filename))


def _bomb(fh: object, _: bytes) -> None:
    fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet '  # type: ignore[attr-defined]
             b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    row = b'<row><c t="inlineStr"><is><t>lol</t></is></c><c t="inlineStr"><is><t>lol</t></is></c></row>' * 1000
    for _ in range(400):
        fh.write(row)  # type: ignore[attr-defined]
    fh.write(b"</sheetData></worksheet>")  # type: ignore[attr-defined]


def test_xlsx_zip_bomb_exit_3_fast(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    _xlsx_with_sheet(bomb, tmp_path, _bomb)
    assert bomb.stat().st_size < 200_000  # 35 MiB of XML inside
    started = time.monotonic()
    result = cli("audit", str(bomb), "-o", str(tmp_path / "out"))
    assert result.returncode == 3, result.stderr
    assert "zip bomb" in result.stderr and "Traceback" not in result.stderr
    assert time.monotonic() - started < 10


def test_xlsx_cell_cap_and_total_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean.connectors.files import read_xlsx_file

    bomb = tmp_path / "bomb.xlsx"
    _xlsx_with_sheet(bomb, tmp_path, _bomb)
    monkeypatch.setenv("CRMCLEAN_MAX_COMPRESSION_RATIO", "100000")
    monkeypatch.setenv("CRMCLEAN_MAX_UNCOMPRESSED_BYTES", str(10 << 20))
    with pytest.raises(SourceError, match="MiB of XML"):
        read_xlsx_file(bomb, None)
    monkeypatch.setenv("CRMCLEAN_MAX_UNCOMPRESSED_BYTES", str(1 << 30))
    monkeypatch.setenv("CRMCLEAN_MAX_CELLS", "2000")
    with pytest.raises(SourceError, match="more than 2,000 cells"):
        read_xlsx_file(bomb, None)


def test_broken_sheet_xml_is_exit_3(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    _xlsx_with_sheet(broken, tmp_path, lambda fh, xml: fh.write(xml.replace(b"</sheetData>", b"<row><c>")))
    result = cli("audit", str(broken), "-o", str(tmp_path / "out"))
    assert result.returncode == 3 and "damaged XLSX sheet" in result.stderr, result.stderr


def test_100k_columns_exit_3_fast(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    n = 100_000
    wide.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("x" for _ in range(n)) + "\n")
    started = time.monotonic()
    result = cli("audit", str(wide), "-o", str(tmp_path / "out"))
    assert result.returncode == 3 and "columns (limit 16,384)" in result.stderr, result.stderr
    assert time.monotonic() - started < 10


# ---------------------------------------------------------------- item 6: atomic outputs, disk full


def test_disk_full_is_a_source_error_and_leaves_nothing_half_written(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os
    import shutil
    from collections import namedtuple

    import crmclean.connectors.files as files

    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10, 10, 0))
    with pytest.raises(SourceError, match="disk full") as err:
        files.atomic_write_text(target, "new report")
    assert err.value.exit_code == 3
    with pytest.raises(SourceError, match="disk full"):
        files.atomic_copy(target, tmp_path / "src.csv.bak")
    assert not (tmp_path / "src.csv.bak").exists()
    monkeypatch.undo()

    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SourceError, match="disk full"):
        files.atomic_write_text(target, "new report")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text(encoding="utf-8") == "old"  # the old file is whole, no temp file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_oserror_disk_full_in_the_cli_is_exit_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    import errno

    import crmclean.cli as cli_module

    def boom(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/store/runs.duckdb")

    monkeypatch.setattr(cli_module, "app", boom)
    with pytest.raises(SystemExit) as exited:
        cli_module.main(["runs"])
    assert exited.value.code == 3
    assert "disk full" in capsys.readouterr().err


def test_report_files_are_private(tmp_path: Path) -> None:
    import stat

    examples = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
    result = cli("audit", str(examples), "-o", str(tmp_path / "out"), store=tmp_path / "store")
    assert result.returncode in (0, 1), result.stderr
    for name in ("report.json", "report.html", "findings.csv"):
        mode = stat.S_IMODE((tmp_path / "out" / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_standardize_in_place_on_a_full_disk_leaves_no_truncated_backup(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    from crmclean.standardize import run_standardize

    src = tmp_path / "src.csv"
    src.write_text("id,name\n1, Иван \n", encoding="utf-8")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10, 10, 0))
    with pytest.raises(SourceError, match="disk full"):
        run_standardize(str(src), in_place=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.csv"]
    assert src.read_text(encoding="utf-8") == "id,name\n1, Иван \n"


def test_xls_ods_sheets_are_capped_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean.connectors.exports import read_sheet_rows

    exports = Path(__file__).resolve().parent / "exports"
    for name, fmt in (("contacts_libreoffice.ods", "ods"), ("onec_counterparties.xls", "xls")):
        sample = exports / name
        assert read_sheet_rows(sample, fmt, None, [])  # readable under the default caps
        with monkeypatch.context() as m:
            m.setenv("CRMCLEAN_MAX_CELLS", "3")
            with pytest.raises(SourceError, match="too large to read"):
                read_sheet_rows(sample, fmt, None, [])
