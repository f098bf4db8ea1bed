"""One rule per problem for e-mails, countries and fillers: each retired check code is an alias of one rule.

EMAIL002 (EMAILV001), EMAIL003 (EMAILV004), EMAIL005 (EMAILV003), COUNTRY001 (COUNTRYV001),
PLACEHOLDER001 (REQ002): one finding per problem per cell in `audit` and `validate`; ignoring the
retired code switches the rule off everywhere; `rules explain` of the retired code names its rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.audit import AuditOptions, run_audit
from crmclean.cli import app
from crmclean.config import parse_rules
from crmclean.rules.base import all_rules, find_rule, rule_keys
from crmclean.standardize import standardize_table
from crmclean.table import finalize_table
from crmclean.validate import validate_table

RETIRED = {"EMAILV001": "EMAIL002", "EMAILV004": "EMAIL003", "EMAILV003": "EMAIL005",
           "COUNTRYV001": "COUNTRY001", "REQ002": "PLACEHOLDER001"}
runner = CliRunner()


def _table(object_type: str = "contacts"):  # type: ignore[no-untyped-def]
    data = {
        "Id": ["1", "2", "3", "4", "5", "6"],
        "ФИО": ["Иванов Иван", "Петрова Анна", "Smith John", "Сидоров Петр", "Кузнецов Олег", "Orlova Olga"],
        "Email": ["ivan@romashka.ru", "petrov@romashka", '"Susan" <susan@northwind.co.uk>', "anna@gmial.com",
                  "-", "info@acme.com"],
        "Телефон": ["+7 916 123 45 67", "+7 916 123 45 68", "+7 916 123 45 69", "+7 916 123 45 70", "-",
                    "+7 916 123 45 71"],
        "Страна": ["Россия", "Москва", "USA", "РФ", "Россия", "RU"],
    }
    frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
    return finalize_table(frame, source="test", kind="csv", id_column="Id", object_type=object_type)


def _audit(tmp_path: Path, rules_yaml: str = "version: 1\n", object_type: str = "contacts"):  # type: ignore[no-untyped-def]
    return run_audit(_table(object_type), parse_rules(rules_yaml),
                     options=AuditOptions(store=tmp_path / "runs.duckdb", today=date(2026, 1, 1), dedupe=False,
                                          record_run=False))


def _ids(findings: pl.DataFrame, code: str) -> set[str]:
    return set(findings.filter(pl.col("rule") == code).get_column("record_id"))


def test_retired_codes_resolve_to_one_listed_rule() -> None:
    codes = [c.code for c in all_rules()]
    assert len(codes) == len(set(codes))
    for old, new in RETIRED.items():
        assert find_rule(old) is find_rule(new) and old in rule_keys() and old not in codes


@pytest.mark.parametrize("old", sorted(RETIRED))
def test_explain_a_retired_code_names_its_rule(old: str) -> None:
    r = runner.invoke(app, ["rules", "explain", old])
    assert r.exit_code == 0, r.output
    assert f"{old} is a retired code for {RETIRED[old]}" in r.output


def test_one_finding_per_problem_per_cell_in_audit_and_validate(tmp_path: Path) -> None:
    audited = _audit(tmp_path).findings
    validated = validate_table(_table(), parse_rules("version: 1\n"), today=date(2026, 1, 1)).findings
    for f in (audited, validated):
        assert f.filter(pl.col("rule").is_in(list(RETIRED))).height == 0  # only current codes are reported
        assert f.group_by("row", "column", "rule").len().get_column("len").max() == 1
        assert _ids(f, "EMAIL002") == {"2"}  # the display name EMAIL001 fixes (3) is not an error; "-" is a filler
        assert _ids(f, "EMAIL003") == {"4"}
        assert _ids(f, "EMAIL005") == {"6"}
        assert _ids(f, "COUNTRY001") == {"2"}  # a city; the filler row is not judged
        req = f.filter((pl.col("rule") == "PLACEHOLDER001") & (pl.col("severity") == "error"))
        assert set(req.get_column("record_id")) == {"5"}
        # no other rule reports the same invalid address a second time
        bad_email = f.filter((pl.col("record_id") == "2") & (pl.col("column") == "Email"))
        assert bad_email.height == 1


def test_kpis_count_the_one_rule(tmp_path: Path) -> None:
    k = _audit(tmp_path).kpis
    assert k["invalid_emails"] == 2  # EMAIL002 on 2, EMAIL003 on 4
    assert k["missing_required"] == 1  # the filler in email|phone of 5


def test_role_addresses_are_not_flagged_on_companies(tmp_path: Path) -> None:
    assert _ids(_audit(tmp_path, object_type="companies").findings, "EMAIL005") == set()
    std = standardize_table(_table("companies"), parse_rules("version: 1\n"))
    assert std.findings.filter(pl.col("rule") == "EMAIL005").height == 0


def test_configured_typos_are_flagged() -> None:
    rules = parse_rules("standardize:\n  rules:\n    EMAIL003: {typos: {romashka.ru: romashka.com}}\n")
    f = validate_table(_table(), rules, select=["EMAILV004"]).findings
    assert {"1", "4"} <= set(f.get_column("record_id"))
    assert "ivan@romashka.com" in f.filter(pl.col("record_id") == "1").get_column("hint")[0]


@pytest.mark.parametrize("old", sorted(RETIRED))
@pytest.mark.parametrize("section", ["validate", "standardize"])
def test_ignoring_a_retired_code_switches_the_rule_off_everywhere(tmp_path: Path, old: str, section: str) -> None:
    new = RETIRED[old]
    rules_yaml = f"{section}:\n  ignore: [{old}]\n"
    result = _audit(tmp_path, rules_yaml)
    assert result.findings.filter(pl.col("rule").is_in([old, new])).height == 0
    assert new not in {c["code"] for c in result.checks}
    kpi = find_rule(new).kpi  # type: ignore[union-attr]
    if kpi == "invalid_email" and new == "EMAIL002":
        assert result.kpis["invalid_emails"] == 1  # EMAIL003's finding is left
    if kpi == "missing_required":
        assert result.kpis["missing_required"] == 0
    rules = parse_rules(rules_yaml)
    assert standardize_table(_table(), rules).findings.filter(pl.col("rule") == new).height == 0
    assert validate_table(_table(), rules).findings.filter(pl.col("rule") == new).height == 0


def test_a_rules_file_with_the_old_codes_keeps_working() -> None:
    rules = parse_rules("validate:\n  rules:\n    EMAILV001: {severity: warning}\n    REQ002: {severity: warning}\n")
    f = validate_table(_table(), rules).findings
    assert set(f.filter(pl.col("rule") == "EMAIL002").get_column("severity")) == {"warning"}
    assert set(f.filter(pl.col("rule") == "PLACEHOLDER001").get_column("severity")) == {"warning"}
