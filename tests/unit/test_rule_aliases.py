"""One rule per problem: retired check codes are aliases; ignoring one switches the rule off everywhere (KPIs too)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.audit import AuditOptions, run_audit
from crmclean.cli import app
from crmclean.config import parse_rules
from crmclean.rules.base import all_rules, find_rule, rule_keys
from crmclean.standardize import standardize_table
from crmclean.table import finalize_table
from crmclean.validate import validate_table

RETIRED = {"PHONEV001": "PHONE002", "TAXID001": "INN002", "TAXID002": "INN003", "TAXID003": "INN004"}
runner = CliRunner()


def _table():  # type: ignore[no-untyped-def]
    data = {"Id": ["1", "2", "3", "4"], "Телефон": ["+7 916 123 45 67", "8 (495) 123-45", "12", "-"],
            "ИНН": ["7707083893", "7707083894", "'7707.083.893", None]}
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    return finalize_table(frame, source="test", kind="csv", id_column="Id")


def test_retired_codes_resolve_and_each_rule_is_listed_once() -> None:
    codes = [c.code for c in all_rules()]
    assert len(codes) == len(set(codes))
    for old, new in RETIRED.items():
        assert find_rule(old) is find_rule(new) and old in rule_keys() and old not in codes
    listed = runner.invoke(app, ["rules", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"PHONEV001"' in listed.output and listed.output.count('"code": "PHONE002"') == 1


def test_explain_a_retired_code() -> None:
    for old, new in RETIRED.items():
        r = runner.invoke(app, ["rules", "explain", old])
        assert r.exit_code == 0, r.output
        assert f"{old} is a retired code for {new}" in r.output


def test_one_finding_per_problem_per_cell_in_audit(tmp_path: Path) -> None:
    result = run_audit(_table(), parse_rules("version: 1\n"),
                       options=AuditOptions(store=tmp_path / "runs.duckdb", today=date(2026, 1, 1), dedupe=False,
                                            record_run=False))
    f = result.findings
    assert f.filter(pl.col("rule").is_in(list(RETIRED))).height == 0  # only current codes are reported
    assert f.group_by("row", "column", "rule").len().get_column("len").max() == 1
    phones = f.filter(pl.col("rule") == "PHONE002")
    assert set(phones.get_column("record_id")) == {"2", "3"}
    assert result.kpis["invalid_phones"] == 2
    assert set(f.filter(pl.col("rule") == "INN002").get_column("record_id")) == {"2"}
    assert result.kpis["invalid_taxids"] == 1


def test_ignoring_a_retired_code_removes_every_finding_and_zeroes_the_kpi(tmp_path: Path) -> None:
    for section in ("validate", "standardize"):
        rules = parse_rules(f"{section}:\n  ignore: [PHONEV001, TAXID001]\n")
        result = run_audit(_table(), rules, options=AuditOptions(store=tmp_path / "runs.duckdb", dedupe=False,
                                                                 today=date(2026, 1, 1), record_run=False))
        f = result.findings
        assert f.filter(pl.col("rule").is_in(["PHONE002", "PHONEV001", "INN002", "TAXID001"])).height == 0, section
        assert result.kpis["invalid_phones"] == 0 and result.kpis["invalid_taxids"] == 0, section
        assert "PHONE002" not in {c["code"] for c in result.checks}, section
        std = standardize_table(_table(), rules)
        assert std.findings.filter(pl.col("rule").is_in(["PHONE002", "INN002"])).height == 0, section
        assert validate_table(_table(), rules).findings.filter(pl.col("rule") == "PHONE002").height == 0, section


def test_validate_alone_and_standardize_agree() -> None:
    std = standardize_table(_table(), parse_rules("version: 1\n"))
    val = validate_table(_table(), parse_rules("version: 1\n"))
    for code in ("PHONE002", "INN002"):
        assert (set(std.findings.filter(pl.col("rule") == code).get_column("record_id"))
                == set(val.findings.filter(pl.col("rule") == code).get_column("record_id"))), code
