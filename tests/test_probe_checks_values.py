"""Probe round: findings a steward would hit on clean, real-shaped files (each test holds the real values)."""

from __future__ import annotations

from datetime import date

import polars as pl

from crmclean.config import parse_rules
from crmclean.table import finalize_table
from crmclean.validate import validate_table

TODAY = date(2026, 12, 2)


def _findings(frame: pl.DataFrame, select: list[str], object_type: str | None = None,
              rules: str = "version: 1\n") -> pl.DataFrame:
    table = finalize_table(frame, source="t.csv", kind="csv", id_column="ID", object_type=object_type)
    return validate_table(table, parse_rules(rules), today=TODAY, select=select).findings


def _ids(findings: pl.DataFrame, rule: str) -> set[str]:
    return set(findings.filter(pl.col("rule") == rule).get_column("record_id").to_list())


def test_headcount_bands_are_numbers() -> None:
    # Bitrix24's company field "Количество сотрудников" is the list менее 50 / 50-250 / 250-500 / более 500;
    # LinkedIn-style "Company size" reads "51-200 employees", "10,001+". Every clean Bitrix24 company
    # export was 100 % RANGE002 "not a number".
    values = ["более 500", "менее 50", "50-250", "250-500", "51-200 employees", "10,001+", "1 200",
              "около 50", "-5", "от 20 000 000 до 30 000 000", "250-50"]
    frame = pl.DataFrame({"ID": [str(i) for i in range(len(values))], "Название компании": ["ООО «Вектор»"] * len(values),
                          "Количество сотрудников": values})
    f = _findings(frame, ["RANGE001", "RANGE002"], object_type="companies")
    assert _ids(f, "RANGE002") == {"7", "10"}  # около 50; a reversed band is not read as one
    assert _ids(f, "RANGE001") == {"8", "9"}  # -5; a band wholly above the maximum 10,000,000


def test_stale_names_the_column_of_the_latest_date() -> None:
    # Salesforce contact export: STALE001 said "LastModifiedDate … 2025-09-20, not modified for 438 days" where
    # 2025-09-20 was the LastActivityDate (LastModifiedDate read 2025-09-01T10:00:00.000Z)
    frame = pl.DataFrame({
        "ID": ["0035g00000Ab1AAA", "0035g00000Ab3AAA", "0035g00000Ab9AAA"],
        "LastName": ["Smith", "Müller", "Tanaka"],
        "Email": ["john.smith@globex.com", "h.mueller@bosch-rexroth.de", "k.tanaka@toyota-tsusho.co.jp"],
        "LastModifiedDate": ["2025-09-01T10:00:00.000Z", "2025-08-14T09:00:00.000Z", "2026-10-07T01:00:00.000Z"],
        "LastActivityDate": ["2025-09-20", "", "2026-10-06"],
    })
    f = _findings(frame, ["STALE001"]).sort("record_id")
    assert f.select("record_id", "column", "value", "message").rows() == [
        ("0035g00000Ab1AAA", "LastActivityDate", "2025-09-20", "no activity for 438 days"),
        ("0035g00000Ab3AAA", "LastModifiedDate", "2025-08-14T09:00:00.000Z", "not modified for 474 days"),
    ]


def test_hubspot_contact_export_with_company_properties_is_contacts() -> None:
    # a HubSpot contact export carries 'Number of Employees' and 'Annual Revenue' (so does a Salesforce Lead:
    # NumberOfEmployees, AnnualRevenue); the file was read as companies and a freelancer without a company
    # failed the gate with 'required field `company` is empty'
    frame = pl.DataFrame({
        "ID": ["51", "54"], "First Name": ["Jane", "Tom"], "Last Name": ["Doe", "Becker"],
        "Email": ["jane.doe@acme.com", "tom.becker@gmail.com"], "Company Name": ["Acme Inc", ""],
        "Contact owner": ["Sam Lee", "Priya Patel"], "Lifecycle Stage": ["Customer", "Subscriber"],
        "Number of Employees": ["250", ""], "Annual Revenue": ["25000000", ""],
    })
    table = finalize_table(frame, source="export.csv", kind="csv", id_column="ID")
    assert table.object_type == "contacts"
    assert validate_table(table, parse_rules("version: 1\n"), today=TODAY, select=["REQ001"]).findings.height == 0
