"""The rules file: schema errors point at file:line:column with a suggestion; the example documents everything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.config import check_columns, load_rules, parse_rules
from crmclean.config.example import render_example
from crmclean.errors import ConfigError, ExitCode

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_rules(text, "rules.yaml")
    assert info.value.exit_code == ExitCode.USAGE
    return info.value


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    err = error_of("version: 1\ncolums:\n  Телефон: phone\n")
    assert str(err) == "rules.yaml:2:1: unknown key `colums`; did you mean `columns`?"


def test_unknown_nested_key_and_position() -> None:
    err = error_of("version: 1\ndefaults:\n  regoin: RU\n")
    assert (err.line, err.column) == (3, 3)
    assert "did you mean `region`?" in str(err)


def test_wrong_type_is_reported_with_the_value() -> None:
    err = error_of("version: 1\nstandardize:\n  select: PHONE001\n")
    assert err.line == 3 and "standardize.select" in str(err)


def test_unknown_rule_code_suggests_close_code() -> None:
    err = error_of("version: 1\nstandardize:\n  rules:\n    PHONE01:\n      enabled: false\n")
    assert "unknown rule `PHONE01`" in str(err) and "PHONE001" in str(err)
    assert err.line == 4


def test_unknown_rule_option_is_reported() -> None:
    err = error_of("version: 1\nstandardize:\n  rules:\n    PHONE001:\n      fromat: E164\n")
    assert "fromat" in str(err) and "did you mean `format`?" in str(err)
    assert err.line == 5


def test_unknown_role_and_duplicate_keys() -> None:
    assert "did you mean `phone`?" in str(error_of("columns:\n  Тел: phnoe\n"))
    assert "duplicate key 'Тел'" in str(error_of("columns:\n  Тел: phone\n  Тел: mobile\n"))


def test_tab_indentation() -> None:
    err = error_of("version: 1\ncolumns:\n\tEmail: email\n")
    assert err.line == 3 and "tabs" in str(err)


def test_unknown_column_against_source_headers() -> None:
    rules = parse_rules("version: 1\ncolumns:\n  Телфон: phone\n", "rules.yaml")
    with pytest.raises(ConfigError) as info:
        check_columns(rules, ["Id", "Телефон", "Email"])
    assert str(info.value).startswith("rules.yaml:3:3: unknown column 'Телфон'")
    assert "did you mean `Телефон`?" in str(info.value)


def test_missing_rules_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "nope.yaml")


def test_rules_example_is_generated_and_valid() -> None:
    example = ROOT / "rules.example.yaml"
    assert example.read_text(encoding="utf-8") == render_example(), (
        "rules.example.yaml is stale: run `crmclean rules example > rules.example.yaml`"
    )
    result = runner.invoke(app, ["rules", "check", str(example), "--source", str(ROOT / "examples/contacts.csv")])
    assert result.exit_code == 0, result.output


def test_every_rule_is_documented_in_the_example() -> None:
    from crmclean.rules.base import all_rules
    from crmclean.rules.builtin import is_builtin

    text = render_example()
    for cls in filter(is_builtin, all_rules()):  # installed plugins (tests/plugins) are not crmclean's to document
        assert f"    {cls.code}:" in text, cls.code
        assert cls.examples, f"{cls.code} has no bad → good examples"


def test_a_rule_in_the_wrong_section_names_the_right_one() -> None:
    err = error_of("version: 1\nstandardize:\n  rules:\n    UNIQUE001: {}\n")
    assert str(err) == ("rules.yaml:4:5: `standardize.rules`: UNIQUE001 is a check, not a standardization rule; "
                        "configure it under `validate.rules`")
    err = error_of("validate:\n  ignore: [STALE001, TEXT001]\n")
    assert (err.line, err.column) == (2, 22) and "configure it under `standardize.ignore`" in str(err)


def test_rule_option_errors_name_the_full_key() -> None:
    err = error_of("validate:\n  rules:\n    ORPHAN001:\n      severity: fatal\n")
    assert err.line == 4 and "`validate.rules.ORPHAN001.severity`" in str(err)


def test_engines_check_rules_built_in_code() -> None:
    from crmclean.config import RulesFile
    from crmclean.standardize import select_rules

    rules = RulesFile.model_validate({"standardize": {"rules": {"ORPHAN001": {}}}})
    with pytest.raises(ConfigError, match="ORPHAN001 is a check"):
        select_rules(rules)


def test_check_rules_runs_once_per_loaded_file() -> None:
    from crmclean.config import check_rules

    rules = parse_rules("validate:\n  ignore: [STALE001]\n", "rules.yaml")
    assert rules._checked and check_rules(rules) is rules


def test_loading_the_config_does_not_import_the_rules() -> None:
    import subprocess
    import sys

    code = ("import sys, crmclean.config, crmclean.config.check; "
            "print(sorted(m for m in sys.modules if m.startswith('crmclean.rules')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
