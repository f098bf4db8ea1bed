"""The pre-import gate fails closed: unrecognized files exit 2, a required role with no column is an error,
a header-only file is a clean 0-record result, title rows and footers are found."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from crmclean.cli import app

EXPORTS = Path(__file__).parent / "exports"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        from crmclean.errors import CrmcleanError  # CliRunner bypasses main(): map errors as main() does

        assert isinstance(exc, CrmcleanError), f"unexpected {exc!r}"
        return int(exc.exit_code), str(exc)
    return result.exit_code, result.output


def test_nothing_recognized_exits_2_with_the_list(tmp_path: Path) -> None:
    path = tmp_path / "abc.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    code, out = run("validate", str(path), "--fail-on", "warning")
    assert code == 2 and "no column recognized" in out and "'a'" in out


def test_required_role_without_a_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "noreach.csv"
    path.write_text("ID,Фамилия,Имя,Должность\n1,Иванов,Иван,Директор\n", encoding="utf-8")
    code, out = run("validate", str(path), "--fail-on", "error")
    assert code == 1 and "REQ001" in out


def test_header_only_file_is_a_clean_zero_record_result(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("ID,Фамилия,Email\n", encoding="utf-8")
    for command in ("validate", "audit", "score"):
        extra = ["-o", str(tmp_path / "rep")] if command == "audit" else []
        code, out = run(command, str(path), *extra)
        assert code == 0, (command, out)


def test_title_row_file_passes_without_header_row() -> None:
    code, out = run("validate", str(EXPORTS / "onec_counterparties.xlsx"), "--fail-on", "never")
    assert code == 0, out


def test_column_report_lists_mapped_unmapped_and_missing() -> None:
    from crmclean.connectors import open_connector
    from crmclean.table import read_table
    from crmclean.validate import validate_table

    table = read_table(open_connector(str(EXPORTS / "salesforce_report_tasks.csv")))
    result = validate_table(table)
    assert result.columns is not None
    assert result.columns.object_type == "activities"
    assert "Subject" in result.columns.unmapped
    assert result.columns.mapped["Contact"] == "full_name"
    assert any(r["column"] == "Subject" for r in result.columns.rows())


def test_map_option_names_roles_and_unmapped_file_then_passes(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Куда писать;Заметка\na@b.ru;x\n", encoding="utf-8")
    code, out = run("validate", str(path), "--fail-on", "never")
    assert code == 2 and "no column recognized" in out
    code, out = run("validate", str(path), "--map", "Куда писать=email", "--fail-on", "never")
    assert code == 0, out
    code, out = run("validate", str(path), "--map", "Куда писать=nonsense")
    assert code == 2 and "unknown role" in out
    # a header the file lacks: the mapping would do nothing, silently (it exited 0)
    code, out = run("validate", str(path), "--map", "Куда писат=email", "--map", "Куда писать=email")
    assert code == 2 and "no column 'Куда писат' in the source" in out and "did you mean `Куда писать`?" in out
    # --object misspelt: was 'dedupe compares contacts, leads or companies, not 'contact'' after the whole run
    code, out = run("validate", str(path), "--map", "Куда писать=email", "--object", "contact")
    assert code == 2 and "--object contact: not an object type" in out and "did you mean `contacts`?" in out
