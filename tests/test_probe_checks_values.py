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


def _us_leads(country: list[str] | None, created: list[str], modified: list[str]) -> pl.DataFrame:
    n = len(created)
    frame = {"ID": [f"00Q5g00000L{i}" for i in range(n)], "Last Name": ["Clark"] * n,
             "Company": ["Summit Logistics"] * n, "Email": [f"m{i}@summitlogistics.com" for i in range(n)],
             "Created Date": created, "Last Modified Date": modified}
    if country is not None:
        frame["Country"] = country
    return pl.DataFrame(frame)


def test_us_dates_read_month_first_by_the_records_country() -> None:
    # a Salesforce lead export of US records, every date with day <= 12: read day-first (the RU default),
    # 10/12/2026 was 'after today' and three records 'modified before created'
    frame = _us_leads(["United States"] * 3, ["10/12/2026", "06/04/2026", "05/02/2026"],
                      ["11/02/2026", "07/03/2026", "06/01/2026"])
    assert _findings(frame, ["DATE002", "DATE003"]).height == 0
    # the rules file's explicit defaults.region wins over the records
    explicit = _findings(frame, ["DATE002", "DATE003"], rules="version: 1\ndefaults:\n  region: RU\n")
    assert _ids(explicit, "DATE003") == {"00Q5g00000L0", "00Q5g00000L1", "00Q5g00000L2"}


def test_one_date_format_per_file() -> None:
    # no country column: Created Date's 10/25/2026 shows the export writes month-first, so Last Modified's
    # 11/02/2026 is 2 November, not 11 February (before: 'modified before created')
    frame = _us_leads(None, ["10/25/2026", "10/01/2026"], ["11/02/2026", "10/05/2026"])
    assert _findings(frame, ["DATE001", "DATE002", "DATE003"]).height == 0
    # and a Russian file's 25/10/2026 makes 02/11/2026 day-first
    ru = _us_leads(None, ["25/10/2026", "01/10/2026"], ["02/11/2026", "05/10/2026"])
    assert _findings(ru, ["DATE001", "DATE002", "DATE003"]).height == 0


def test_free_text_a_word_more_is_no_typo() -> None:
    # Salesforce's standard lead statuses: 'Closed - Not Converted' was 'one of several spellings of Closed -
    # Converted'; a letter typo still is one
    status = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Converted",
              "Closed - Not Converted", "Не интересно", "Интересно", "Интересно"]
    city = ["Новосибирск", "Новосибирск", "Новосибриск", "Москва", "г. Москва", "Москва", "Москва", "Москва"]
    frame = pl.DataFrame({"ID": [str(i) for i in range(8)], "Last Name": ["Clark"] * 8,
                          "Email": [f"m{i}@summit.com" for i in range(8)], "Lead Status": status, "City": city})
    f = _findings(frame, ["FREETEXT001"])
    assert set(zip(f.get_column("column"), f.get_column("value"), strict=True)) == {
        ("City", "Новосибриск"), ("City", "г. Москва")}


def test_a_repeated_record_id_fails_the_gate() -> None:
    # a Salesforce contact export with one Id on two rows passed the gate silently (the table fell back to row
    # numbers); several contacts of one AccountId, and new records without an Id, are no repeat
    frame = pl.DataFrame({
        "Id": ["0035g00000Ab1AAA", "0035g00000Ab2AAA", "0035g00000Ab2AAA", "", ""],
        "AccountId": ["0015g00000Xy6AAA"] * 5, "LastName": ["Garcia", "Lee", "Lee", "Kim", "Park"],
        "Email": ["maria@acme-corp.com", "david@acme-corp.com", "dlee@acme-corp.com", "kim@acme-corp.com",
                  "park@acme-corp.com"],
    })
    table = finalize_table(frame, source="t.csv", kind="csv", id_column=None)
    f = validate_table(table, parse_rules("version: 1\n"), today=TODAY, select=["UNIQUE001"]).findings
    assert f.select("record_id", "column", "value").rows() == [("2", "Id", "0035g00000Ab2AAA"),
                                                               ("3", "Id", "0035g00000Ab2AAA")]
    # a report's reference beside the record's own id may repeat: one contact on two opportunities
    deals = pl.DataFrame({"Opportunity ID": ["0065g00000Op1AAA", "0065g00000Op2AAA"],
                          "Opportunity Name": ["Acme renewal", "Acme upsell"], "Stage": ["Closed Won", "Prospecting"],
                          "Amount": ["12000", "5000"], "Contact ID": ["0035g00000Ab1AAA", "0035g00000Ab1AAA"]})
    table = finalize_table(deals, source="t.csv", kind="csv", id_column=None, object_type="deals")
    assert validate_table(table, parse_rules("version: 1\n"), today=TODAY, select=["UNIQUE001"]).findings.height == 0


def test_rules_file_validate_typos_are_one_line_errors() -> None:
    # each of these checked nothing, silently (exit 0): the steward believed the file was gated
    import pytest

    from crmclean.config import check_columns
    from crmclean.errors import ConfigError

    headers = ["Lead ID", "Last Name", "Email", "Phone", "Employees", "Lead Source"]
    roles = {"id": ["Lead ID"], "last_name": ["Last Name"], "email": ["Email"], "phone": ["Phone"],
             "employees": ["Employees"], "lead_source": ["Lead Source"]}
    cases = {
        "validate:\n  unique: [emial]\n": "'emial' is not a column of the source nor a role; did you mean `email`?",
        "validate:\n  free_text: [lead_sorce]\n": "did you mean `lead_source`?",
        "validate:\n  ranges:\n    Employes: {min: 0}\n": "`validate.ranges.Employes`: not a column",
        "validate:\n  dates:\n    Birth Date: {min: 1920-01-01}\n": "did you mean `birthdate`?",
        "validate:\n  required:\n    leads: ['email|phne']\n": "required field 'phne' is neither",
    }
    for text, expected in cases.items():
        with pytest.raises(ConfigError) as info:
            check_columns(parse_rules("version: 1\n" + text, "rules.yaml"), headers, roles=roles, object_type="leads")
        assert str(info.value).startswith("rules.yaml:") and expected in str(info.value), text
    with pytest.raises(ConfigError, match=r"validate\.required\.lead.*'contacts', 'leads'"):
        parse_rules("version: 1\nvalidate:\n  required:\n    lead: [email]\n", "rules.yaml")
    # a role the source lacks is fine (one rules file for several exports)
    check_columns(parse_rules("version: 1\nvalidate:\n  unique: [inn]\n  dates:\n    birthdate: {}\n", "rules.yaml"),
                  headers, roles=roles, object_type="leads")


def test_activity_before_creation_is_no_date_order_error() -> None:
    # a Salesforce contact created at lead conversion (2026-03-02) keeps the lead's last closed task
    # (due 2026-02-20) as its LastActivityDate; a modification before creation is still flagged
    frame = pl.DataFrame({
        "ID": ["0035g00000Ab1AAA", "0035g00000Ab2AAA"], "LastName": ["Smith", "Brown"],
        "Email": ["john.smith@globex.com", "anna.brown@initech.com"],
        "CreatedDate": ["2026-03-02T10:00:00.000Z", "2026-03-02T10:00:00.000Z"],
        "LastModifiedDate": ["2026-03-05T10:00:00.000Z", "2026-03-01T10:00:00.000Z"],
        "LastActivityDate": ["2026-02-20", "2026-03-04"],
    })
    f = _findings(frame, ["DATE003"])
    assert f.select("record_id", "column").rows() == [("0035g00000Ab2AAA", "LastModifiedDate")]


def test_foreign_registration_numbers_are_no_inn_length_error() -> None:
    # a Kazakh АО's 12-digit BIN failed the gate as 'legal entity with a 12-digit (person/ИП) INN' while INN002
    # itself said 'not an INN'; Russian records are checked as before
    frame = pl.DataFrame({
        "ID": ["1", "2", "3", "4"],
        "Название компании": ["АО «Казахтелеком»", "ТОО «Kaspi Магазин»", "ООО «Ромашка»", "ИП Петров А.А."],
        "ИНН": ["981140001551", "150340016521", "500100732259", "7707083893"],
        "Страна": ["Казахстан", "Казахстан", "Россия", "Россия"],
    })
    f = _findings(frame, ["XFIELD003", "XFIELD004"], object_type="companies")
    assert f.select("record_id", "rule").sort("record_id").rows() == [("3", "XFIELD004"), ("4", "XFIELD003")]


def test_completeness_weight_typos_are_one_line_errors() -> None:
    # 'lead:' (object type), 'emial' (field) and a weight of -10 were accepted silently; all-zero weights
    # scored every record 0
    import pytest

    from crmclean.config import check_columns
    from crmclean.errors import ConfigError

    for text, expected in {
        "    lead:\n      email: 50\n": r"completeness\.weights\.lead.*'contacts', 'leads'",
        "    leads:\n      email: -10\n      phone: 50\n": "greater than or equal to 0",
        "    leads:\n      email: 0\n": "leads needs a positive weight",
    }.items():
        with pytest.raises(ConfigError, match=expected):
            parse_rules("version: 1\ncompleteness:\n  weights:\n" + text, "rules.yaml")
    rules = parse_rules("version: 1\ncompleteness:\n  weights:\n    leads:\n      emial: 50\n      phone: 50\n",
                        "rules.yaml")
    with pytest.raises(ConfigError, match="'emial' is not a column of the source nor a role; did you mean `email`"):
        check_columns(rules, ["Lead ID", "Email", "Phone"], roles={"email": ["Email"], "phone": ["Phone"]},
                      object_type="leads")


def test_email_domain_hint_fits_a_company_record() -> None:
    # a Bitrix24 company card (pr@yandex-team.ru, site yandex.ru) was told 'check the contact still works there'
    frame = pl.DataFrame({"ID": ["4"], "Название компании": ["ООО «Яндекс»"], "Корпоративный сайт": ["yandex.ru"],
                          "Рабочий e-mail": ["pr@yandex-team.ru"]})
    f = _findings(frame, ["XFIELD002"], object_type="companies")
    assert f.get_column("hint").to_list() == ["check that the email and the website are both this company's"]


def test_amounts_in_european_and_cis_spellings_are_numbers() -> None:
    # deal amounts of a Russian CRM with EU/KZ/UA counterparties were 'not a number' (RANGE002)
    values = ["1.200,50 €", "1.200.000", "1 200 000,50 ₽", "1500 ₸", "1500 грн", "CHF 1,200.00", "$1,200.50",
              "12,5", "около 50", "-100 EUR"]
    frame = pl.DataFrame({"ID": [str(i) for i in range(len(values))], "Название сделки": ["Поставка"] * len(values),
                          "Этап сделки": ["Переговоры"] * len(values), "Бюджет": values})
    f = _findings(frame, ["RANGE001", "RANGE002"], object_type="deals")
    assert _ids(f, "RANGE002") == {"8"}
    assert _ids(f, "RANGE001") == {"9"}  # below the minimum 0
    from crmclean.rules.checks.ranges import number_bounds, parse_numbers

    assert parse_numbers(pl.Series(values[:8])).to_list() == [1200.5, 1_200_000, 1_200_000.5, 1500, 1500, 1200,
                                                               1200.5, 12.5]
    assert number_bounds(pl.Series(["120 сотрудников"])).row(0) == (120.0, 120.0, True)


def test_an_open_deal_without_amount_is_no_required_field_error() -> None:
    # a Salesforce opportunities export (Amount is optional there) failed the gate: 'required field
    # `deal_amount` is empty' on every early-stage opportunity; a deal without a stage still fails
    frame = pl.DataFrame({"ID": ["0065g00000Op1AAA", "0065g00000Op2AAA", "0065g00000Op3AAA"],
                          "Opportunity Name": ["Globex - Renewal 2027", "Initech - 200 seats", "Bosch - Pilot"],
                          "Stage": ["Prospecting", "Negotiation/Review", ""], "Amount": ["", "48000", "15000"]})
    f = _findings(frame, ["REQ001"], object_type="deals")
    assert f.select("record_id", "column").rows() == [("0065g00000Op3AAA", "Stage")]


def test_a_salesforce_report_close_date_witnesses_month_first() -> None:
    # a Salesforce opportunity report (en_US: M/D/YYYY): Created Date 8/12/2026 was read as 8 December, 'after
    # today'; its Close Date 3/31/2027 (no date role) shows the export writes month-first
    frame = pl.DataFrame({"ID": ["0065g00000Op1AAA", "0065g00000Op2AAA"],
                          "Opportunity Name": ["Globex - Renewal 2027", "Initech - 200 seats"],
                          "Stage": ["Prospecting", "Negotiation/Review"], "Close Date": ["3/31/2027", "12/20/2026"],
                          "Created Date": ["10/1/2026", "8/12/2026"]})
    assert _findings(frame, ["DATE001", "DATE002", "DATE003", "REQ001"], object_type="deals").height == 0


def test_unique_phone_and_email_compare_what_they_mean() -> None:
    # validate.unique: [phone, email] missed '+7 (916) 123-45-67' = '8 916 123 45 67' and
    # 'mailto:petrov@romashka.ru' = 'Petrov <petrov@romashka.ru>'; two extensions of one switchboard are two lines
    frame = pl.DataFrame({
        "ID": ["1", "2", "3", "4", "5"], "ФИО": ["Иванов Иван", "Иванов И.", "Петров Пётр", "Ким В.", "Ли А."],
        "Телефон": ["+7 (916) 123-45-67", "8 916 123 45 67", "+7 495 000 11 22", "+7 (343) 310-15-15 доб. 204",
                    "+7 (343) 310-15-15 доб. 205"],
        "E-mail": ["Ivanov@Romashka.ru", "ivanov@romashka.ru ", "mailto:petrov@romashka.ru",
                   "Petrov <petrov@romashka.ru>", ""],
    })
    f = _findings(frame, ["UNIQUE001"], rules="version: 1\nvalidate:\n  unique: [phone, email]\n")
    assert set(f.select("record_id", "column").rows()) == {
        ("1", "Телефон"), ("2", "Телефон"), ("1", "E-mail"), ("2", "E-mail"), ("3", "E-mail"), ("4", "E-mail")}


def test_an_impossible_date_in_the_rules_file_is_a_config_error() -> None:
    # 'today: 2026-13-01' was 'internal error: ValueError: month must be in 1..12' (exit 4)
    import pytest

    from crmclean.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rules\.yaml:3:10: .*'2026-13-01' is not a date"):
        parse_rules("version: 1\nvalidate:\n  today: 2026-13-01\n", "rules.yaml")
    assert parse_rules("version: 1\nvalidate:\n  today: 2026-11-30\n").validate_.today == date(2026, 11, 30)
