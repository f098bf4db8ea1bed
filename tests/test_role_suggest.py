"""`crmclean rules infer` prints unmapped columns with the closest role by header similarity."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.role_suggest import suggest_role
from crmclean.roles import ROLES


def test_closest_role_for_misspelled_and_qualified_headers() -> None:
    cases = {"Фамилиия": "last_name", "Emial": "email", "Мобильный тел": "mobile", "Дата созд.": "created_at",
             "Whatsap": "messenger", "Город доставки": "city", "Stage of deal": "deal_stage"}
    for header, role in cases.items():
        hint = suggest_role(header)
        assert hint is not None and hint.role == role, (header, hint)
        assert hint.role in ROLES and 0.6 <= hint.score <= 1.0 and hint.like


def test_nothing_close_gives_no_suggestion() -> None:
    assert suggest_role("Xyz") is None
    assert suggest_role("a") is None
    assert suggest_role("   ") is None


def test_rules_infer_prints_unmapped_columns_with_suggestions(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text("ID,Фамилиия,Телефон,Emial,Xyz\n1,Петров,89161234567,a@b.ru,q\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "infer", str(src)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "#   Фамилиия: last_name   # suggested: like \"фамилия\"" in out
    assert "#   Emial: email   # suggested" in out
    assert "#   Xyz   (no close role)" in out
    data = yaml.safe_load(out)  # still a valid rules file: suggestions are comments, never applied
    assert "Фамилиия" not in data["columns"] and data["columns"]["Телефон"] == "phone"


def test_nothing_recognized_error_names_the_closest_roles(tmp_path: Path) -> None:
    from crmclean.errors import CrmcleanError

    src = tmp_path / "typos.csv"
    src.write_text("Emial,Фамилиия,Xyz\na@b.ru,Петров,q\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(src)])
    assert isinstance(result.exception, CrmcleanError) and result.exception.exit_code == 2
    text = str(result.exception)
    assert "no column recognized" in text and "'Emial' (email?)" in text and "'Фамилиия' (last_name?)" in text
    assert "'Xyz'" in text and "'Xyz' (" not in text
