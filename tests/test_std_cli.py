"""`crmclean standardize` and `crmclean rules list/explain` through the CLI runner."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.errors import CrmcleanError
from crmclean.rules.base import all_rules

runner = CliRunner()

CSV = (
    "id;ФИО;Телефон;Email;Должность;Компания;Страна\n"
    "1;ИВАНОВ ИВАН ИВАНОВИЧ;8 (495) 123-45-67 доб. 123; Ivan@Mail.RU ;Ген. директор;ООО РОМАШКА;Россия\n"
    "2;Smith, John;(212) 555-0142;john@gmial.com;VP Sales;Acme, Inc;USA\n"
)


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_bytes(CSV.encode("cp1251"))
    return path


def test_standardize_writes_out_and_changes(tmp_path):
    src = _source(tmp_path)
    out, changes = tmp_path / "clean.csv", tmp_path / "changes.csv"
    res = runner.invoke(app, ["standardize", str(src), "--out", str(out), "--changes", str(changes)])
    assert res.exit_code == 0, res.output
    clean = pl.read_csv(out, separator=";", encoding="cp1251", infer_schema=False)  # input dialect kept
    assert clean.columns[:7] == ["id", "ФИО", "Телефон", "Email", "Должность", "Компания", "Страна"]
    # issue 11: the extension stays in the cell with its number (and is shown in Телефон__ext)
    assert clean.get_column("Телефон").to_list() == ["+74951234567 доб. 123", "+12125550142"]
    assert clean.get_column("Телефон__ext").to_list() == ["123", None]
    log = pl.read_csv(changes, separator=";", encoding="cp1251", infer_schema=False)  # the change log too (issue 14)
    assert log.columns == ["record_id", "column", "before", "after", "rule", "confidence", "reason"]
    suggest = log.filter(pl.col("confidence") == "suggest")
    assert suggest.get_column("after").to_list() == ["john@gmail.com"]
    assert src.read_bytes() == CSV.encode("cp1251")  # input untouched


def test_standardize_refuses_to_overwrite_input_without_in_place(tmp_path):
    src = _source(tmp_path)
    res = runner.invoke(app, ["standardize", str(src), "--out", str(src)])
    assert isinstance(res.exception, CrmcleanError) and res.exception.exit_code == 2  # main() maps it to exit 2
    assert "--in-place" in str(res.exception)
    res = runner.invoke(app, ["standardize", str(src), "--in-place", "--json"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "contacts.csv.bak").read_bytes() == CSV.encode("cp1251")
    assert "+74951234567" in src.read_bytes().decode("cp1251")


def test_dry_run_json_writes_nothing(tmp_path):
    src = _source(tmp_path)
    res = runner.invoke(app, ["standardize", str(src), "--dry-run", "--json", "--apply-suggestions"])
    assert res.exit_code == 0, res.output
    assert '"fixed"' in res.stdout and '"dry_run": true' in res.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contacts.csv"]


def test_rules_list_shows_every_standardizer_and_explain_prints_examples():
    res = runner.invoke(app, ["rules", "list", "--kind", "standardize", "--json"])
    assert res.exit_code == 0
    codes = {c.code for c in all_rules() if c.kind == "standardize"}
    for code in codes:
        assert f'"{code}"' in res.stdout
    assert {"TEXT001", "NAME001", "NAME003", "PHONE001", "EMAIL001", "TITLE001", "COMPANY001", "INN001",
            "COUNTRY001", "PLACEHOLDER001", "MAP001", "REGEX001", "MAP002", "CASE001"} <= codes
    res = runner.invoke(app, ["rules", "explain", "PHONE001"])
    assert res.exit_code == 0
    assert "8 (495) 123-45-67" in res.stdout and "+74951234567" in res.stdout and "format" in res.stdout


def test_every_standardizer_is_documented():
    for cls in all_rules():
        if cls.kind != "standardize":
            continue
        assert cls.summary and cls.__doc__ and "Why" in cls.__doc__, cls.code
        assert len(cls.examples) >= 2, cls.code
        assert any(any("а" <= ch <= "я" or ch == "ё" for ch in (e.before + e.after + e.note).lower())
                   for e in cls.examples) or cls.code in ("CASE001",), cls.code
