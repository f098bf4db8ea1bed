"""Real CRM exports (tests/exports, built from each CRM's real headers): every column's role, the object type,
the header row, footers and formats are read as a steward would expect."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.table import read_table

EXPORTS = Path(__file__).parent / "exports"
sys.path.insert(0, str(EXPORTS))
from build_corpus import CORPUS  # noqa: E402


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_column_gets_its_role_and_the_object_its_type(name: str) -> None:
    object_type, id_column, roles, records = CORPUS[name]
    table = read_table(open_connector(str(EXPORTS / name)))
    assert table.object_type == object_type, table.object_evidence
    assert table.object_evidence
    assert table.id_column == id_column
    assert len(table) == records
    got = {c: r for c, r in table.roles.items()}
    for column, role in roles.items():
        if column == id_column:
            continue
        assert got.get(column) == role, (column, got.get(column), role)
    # no column is silently taken for something the corpus does not expect
    unexpected = {c: r for c, r in got.items() if c not in roles}
    assert not unexpected, unexpected


def test_bitrix24_csv_phantom_column_and_entities() -> None:
    table = read_table(open_connector(str(EXPORTS / "bitrix24_contacts.csv")))
    assert not [c for c in table.data_columns if c.startswith("column_")]
    assert table.frame.get_column("Компания")[0] == 'ООО "Ромашка"'
    assert (table.output_encoding, table.output_delimiter) == ("cp1251", ";")


def test_bitrix24_html_xls_is_read_as_html_and_said_so() -> None:
    table = read_table(open_connector(str(EXPORTS / "bitrix24_contacts.xls")))
    assert any("HTML" in i.message for i in table.issues)
    assert table.frame.get_column("Компания")[0] == 'ООО "Ромашка"'


def test_html_xls_with_format_csv_is_a_usage_error() -> None:
    from crmclean.errors import UsageError

    with pytest.raises(UsageError, match="HTML"):
        read_table(open_connector(str(EXPORTS / "bitrix24_contacts.xls"), ConnectorOptions(format="csv")))


def test_salesforce_report_footer_dropped_and_contact_id_is_the_record_id() -> None:
    table = read_table(open_connector(str(EXPORTS / "salesforce_report_contacts.csv")))
    assert table.ids.to_list() == ["0035g00000AbCdE", "0035g00000AbCdF"]
    assert any("footer of 5 line(s)" in i.message for i in table.issues)


def test_header_row_and_skip_footer_override(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("Выгрузка от 01.03.2024;;\nФИО;Телефон;Email\nИванов Иван;+79161234567;a@b.ru\nИтого: 1;;\n",
                    encoding="utf-8")
    table = read_table(open_connector(str(path)))
    assert table.data_columns == ["ФИО", "Телефон", "Email"] and len(table) == 1
    forced = read_table(open_connector(str(path), ConnectorOptions(extra={"header_row": "2", "skip_footer": "0"})))
    assert len(forced) == 2  # the "Итого" line is data when told there is no footer
    one = read_table(open_connector(str(path), ConnectorOptions(extra={"skip_footer": "1"})))
    assert len(one) == 1


def test_legacy_xls_by_content_even_when_named_xlsx(tmp_path: Path) -> None:
    renamed = tmp_path / "counterparties.xlsx"
    renamed.write_bytes((EXPORTS / "onec_counterparties.xls").read_bytes())
    table = read_table(open_connector(str(renamed)))
    assert table.object_type == "companies" and len(table) == 2
    assert any("legacy Excel" in i.message for i in table.issues)
