"""Formula injection (issue 17, item 9): only cells a spreadsheet would run are neutralized, headers too,
change logs too, and values crmclean did not change are written as they are."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from crmclean.connectors.files import is_live_formula, write_frame


@pytest.mark.parametrize("value", ["=1+1", "=", "-cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
                                   "+HYPERLINK(\"http://x\")", "\t=1", "-1+2", "=СУММ(A1)",
                                   "=DDE(\"cmd\";\"/C calc\";\"__DdeLink_60_870516294\")"])
def test_live_formulas(value: str) -> None:
    assert is_live_formula(value)


@pytest.mark.parametrize("value", ["-5", "@handle", "+7 (999) 123-45-67", "+79001234567", "Иван", "a=b", "-",
                                   "- item", "  =HYPERLINK(1)", "user@example.com", "-0.5"])
def test_data_that_only_looks_like_a_formula(value: str) -> None:
    assert not is_live_formula(value)


def test_headers_are_neutralized_in_csv_and_xlsx(tmp_path: Path) -> None:
    import openpyxl

    frame = pl.DataFrame({"=HYPERLINK(\"http://evil\")": ["a"], "name": ["-5"]})
    write_frame(frame, tmp_path / "o.csv", "csv")
    header = next(csv.reader((tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()))
    assert header == ["'=HYPERLINK(\"http://evil\")", "name"]
    write_frame(frame, tmp_path / "o.xlsx", "xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert ws is not None
    assert ws.cell(1, 1).data_type == "s" and ws.cell(1, 1).value == "'=HYPERLINK(\"http://evil\")"
    assert ws.cell(2, 2).value == "-5"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os
    env = {**os.environ, "CRMCLEAN_STORE": str(cwd / "store")}
    return subprocess.run([sys.executable, "-m", "crmclean", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=env)


def test_standardize_out_keeps_unchanged_cells_and_neutralizes_live_ones(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(
        "id,name,note,=cmd|' /C calc'!A0\n"
        "1,Иван,-5,x\n"
        "2,Пётр,@handle,y\n"
        "3,Анна,  =HYPERLINK(\"http://evil\"),z\n"
        "4,Олег,=1+1,w\n", encoding="utf-8")
    result = _cli("standardize", "in.csv", "--out", "out.csv", "--changes", "changes.csv", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    with open(tmp_path / "out.csv", newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][3] == "'=cmd|' /C calc'!A0"
    notes = {r[0]: r[2] for r in rows[1:]}
    assert notes["1"] == "-5" and notes["2"] == "@handle"  # never rewritten
    assert notes["4"] == "'=1+1"
    assert not is_live_formula(notes["3"])  # trimming never makes a live formula
    assert "formulas written as text" in result.stderr
    with open(tmp_path / "changes.csv", newline="", encoding="utf-8-sig") as fh:
        for row in csv.reader(fh):
            assert not any(is_live_formula(v) for v in row), row


def test_trimming_never_makes_a_live_formula_in_an_applied_file(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(
        "id,name,note\n"
        "1,Иван,  =HYPERLINK(\"http://evil\")\n"
        "2,Пётр,  plain text  \n", encoding="utf-8")
    assert _cli("plan", "in.csv", "--steps", "standardize", "-o", "plan.json", cwd=tmp_path).returncode == 0
    done = _cli("apply", "plan.json", "--out", "out.csv", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out.csv", newline="", encoding="utf-8-sig") as fh:
        notes = {r[0]: r[2] for r in list(csv.reader(fh))[1:]}
    assert not is_live_formula(notes["1"])
    assert notes["2"] == "plain text"  # ordinary trimming still happens
    shown = _cli("standardize", "in.csv", "--changes", "changes.csv", "--dry-run", cwd=tmp_path)
    assert shown.returncode in (0, 1), shown.stderr
    log = (tmp_path / "changes.csv").read_text(encoding="utf-8-sig") if (tmp_path / "changes.csv").exists() else ""
    if log:
        assert "would run as a spreadsheet formula" in log
