"""`crmclean dedupe` on files: every input row kept in order with cluster columns; pairs, review, golden, explain, link."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.errors import CrmcleanError
from crmclean.testing.generate import generate_contacts, write_csv

runner = CliRunner()
EXCEL_RU: dict = {"separator": ";", "encoding": "cp1251"}  # outputs of a cp1251 ';' input come back the same (issue 14)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame, _ = generate_contacts(400, seed=3)
    path = tmp_path_factory.mktemp("dedupe") / "contacts.csv"
    write_csv(frame, str(path), excel_ru=True)  # cp1251 with ';' like a Russian Excel export
    return path


def test_dedupe_writes_every_row_in_order_with_cluster_columns(source: Path, tmp_path: Path) -> None:
    out, pairs, review, golden = (tmp_path / n for n in ("out.csv", "pairs.csv", "review.csv", "golden.csv"))
    res = runner.invoke(app, ["dedupe", str(source), "--out", str(out), "--pairs", str(pairs), "--review",
                              str(review), "--golden", str(golden)])
    assert res.exit_code == 0, res.output
    original = pl.read_csv(source, separator=";", encoding="cp1251", infer_schema=False)
    written = pl.read_csv(out, infer_schema=False, **EXCEL_RU)
    assert written.columns == [*original.columns, "cluster_id", "cluster_role", "match_score"]
    assert written.height == original.height
    assert written["Id"].to_list() == original["Id"].to_list()
    for col in original.columns:  # values are unchanged (the CSV writer only defuses formula-like cells: '-)
        same = (written[col] == original[col]) | (written[col] == "'" + original[col])
        assert same.fill_null(True).all() and (written[col].is_null() == original[col].is_null()).all(), col
    assert set(written["cluster_role"].unique()) == {"master", "duplicate", "single"}
    p = pl.read_csv(pairs, infer_schema=False, **EXCEL_RU)
    assert {"left_id", "right_id", "score", "decision", "evidence"} <= set(p.columns)
    assert "first_name" in json.loads(p["evidence"][0])
    g = pl.read_csv(golden, infer_schema=False, **EXCEL_RU)
    assert {"cluster_id", "master_id", "loser_ids", "reasons"} <= set(g.columns)
    assert g.height == (written["cluster_role"] == "master").sum()
    assert "label" in pl.read_csv(review, infer_schema=False, **EXCEL_RU).columns


def test_summary_reports_blocking_figures_and_estimated_recall(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean import ui

    monkeypatch.setattr(ui.err, "width", 200)  # the console read COLUMNS when it was created, maybe by another test
    res = runner.invoke(app, ["dedupe", str(source)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    text = res.output
    m = re.search(r"blocking recall: estimated (\d\.\d{4})–(\d\.\d{4})", text)
    assert m and 0.9 <= float(m.group(1)) <= float(m.group(2)) <= 1.0, text
    assert "records of oversized blocks not compared" in text
    for col in ("oversized", "split", "windowed", "dropped", "finds", "only"):
        assert col in text
    res = runner.invoke(app, ["dedupe", str(source), "--json"])
    blocking = json.loads(res.stdout)["summary"]["blocking"]
    assert 0.9 <= blocking["estimated_recall"] <= 1.0
    assert blocking["scored_matches"] > 0 and blocking["dropped_records"] == 0
    keys = blocking["keys"]
    assert {"email", "phone", "name", "company_surname"} <= set(keys)
    assert all(0 <= k["only"] <= k["found"] <= 1 for k in keys.values())
    assert max(k["found"] for k in keys.values()) > 0.5


def test_json_summary_and_explain(source: Path) -> None:
    res = runner.invoke(app, ["dedupe", str(source), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)["summary"]
    assert summary["records"] == 400 and summary["clusters"] > 0
    frame = pl.read_csv(source, separator=";", encoding="cp1251", infer_schema=False)
    a, b = frame["Id"][0], frame["Id"][1]
    res = runner.invoke(app, ["dedupe", str(source), "--explain", a, "--explain", b])
    assert res.exit_code == 0, res.output
    assert "match weight" in res.stdout and "prior" in res.stdout


def _exit_code(res: object) -> int:
    """The code the console entry point maps a CrmcleanError to (CliRunner skips that mapping)."""
    exc = getattr(res, "exception", None)
    return int(exc.exit_code) if isinstance(exc, CrmcleanError) else int(getattr(res, "exit_code", 0))


def test_explain_needs_two_ids(source: Path) -> None:
    res = runner.invoke(app, ["dedupe", str(source), "--explain", "100001"])
    assert _exit_code(res) == 2 and "two record ids" in str(res.exception)


def test_against_links_two_files(source: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(source, separator=";", encoding="cp1251", infer_schema=False)
    incoming = frame.head(50).with_columns(("N" + pl.col("Id")).alias("Id"))
    inc_path = tmp_path / "incoming.csv"
    incoming.write_csv(inc_path)
    out = tmp_path / "checked.csv"
    res = runner.invoke(app, ["dedupe", str(inc_path), "--against", str(source), "--out", str(out)])
    assert res.exit_code == 0, res.output
    checked = pl.read_csv(out, infer_schema=False)
    assert checked.height == 50
    exists = checked.filter(pl.col("match_decision") == "exists")
    assert exists.height >= 45  # copies of rows that are in the CRM already
    assert (exists["match_id"] == exists["Id"].str.slice(1)).mean() >= 0.9


def test_missing_source_is_exit_3(tmp_path: Path) -> None:
    res = runner.invoke(app, ["dedupe", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")])
    assert _exit_code(res) == 3
    assert not (tmp_path / "o.csv").exists()
