"""Issue 11 on the Salesforce and HubSpot emulators: extra phones and e-mails land in the documented fields,
a value with no place is reported in the plan and not written, and a second plan on the result is empty."""

from __future__ import annotations

from pathlib import Path

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.connectors.salesforce.emulator import SalesforceEmulator
from crmclean.table import read_table
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.plan import build_plan, render_plan_diff
from crmclean.writeback.store import Journal

SF_ROWS = [
    {"FirstName": "Иван", "LastName": "Петров", "Email": "ivan@romashka.ru",
     "Phone": "8 (984) 388-32-73, 8 (981) 432-96-66", "MobilePhone": "", "OtherPhone": "", "HomePhone": ""},
    {"FirstName": "Анна", "LastName": "Жукова", "Email": "anna@romashka.ru", "Phone": "8 495 123-45-67 доб. 123",
     "MobilePhone": "", "OtherPhone": "", "HomePhone": ""},
    {"FirstName": "Олег", "LastName": "Смирнов", "Email": "oleg@lutik.ru",
     "Phone": "8 (984) 388-32-74, 8 (981) 432-96-67", "MobilePhone": "+79160000001", "OtherPhone": "+79160000002",
     "HomePhone": "+79160000003"},
]


def _sf(e: SalesforceEmulator) -> SalesforceConnector:
    conn = SalesforceConnector("Contact", ConnectorOptions(), env=e.env(), sleep=lambda s: None)
    conn.bulk_poll_seconds = 0
    return conn


def _plan(conn: SalesforceConnector):
    table = read_table(conn)
    return build_plan(table, None, version_of=conn.version_of, steps=("standardize",))


def test_salesforce_extra_phones_land_in_empty_phone_fields(tmp_path: Path) -> None:
    with SalesforceEmulator(objects={"Contact": SF_ROWS}) as e:
        plan = _plan(_sf(e))
        assert "kept as is: the target has no field for +79814329667" in render_plan_diff(plan)
        report = apply_plan(plan, _sf(e), Journal(tmp_path / "runs.duckdb"))
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0
        by_name = {r["LastName"]: r for r in e.records("Contact")}
        assert (by_name["Петров"]["Phone"], by_name["Петров"]["MobilePhone"]) == ("+79843883273", "+79814329666")
        assert by_name["Жукова"]["Phone"] == "+74951234567 x123"
        # no empty phone field left: the record is kept as it was, not half-written
        assert by_name["Смирнов"]["Phone"] == "8 (984) 388-32-74, 8 (981) 432-96-67"
        again = _plan(_sf(e))
        assert again.updates == []


HS_ROWS = [
    {"email": "Ivan@Romashka.ru; petrov@gmail.com", "firstname": "Иван", "lastname": "Петров",
     "phone": "8 (984) 388-32-73, 8 (981) 432-96-66", "mobilephone": None},
    {"email": "anna@romashka.ru", "firstname": "Анна", "lastname": "Жукова",
     "phone": "8 (984) 388-32-75, 8 (981) 432-96-68", "mobilephone": "+79160000001"},
]


def test_hubspot_extra_emails_land_in_hs_additional_emails(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import random

    from crmclean.connectors.hubspot import HubSpotConnector
    from crmclean.connectors.hubspot.emulator import HubSpotEmulator

    now = [1000.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    # HubSpot's "Additional email addresses" property (the emulator defines only the basic contact properties)
    extra = [{"name": "hs_additional_emails", "label": "Additional email addresses"}]
    with HubSpotEmulator(objects={"contacts": HS_ROWS}, properties={"contacts": extra}, clock=clock) as emu:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)

        def hs() -> HubSpotConnector:
            return HubSpotConnector("contacts", ConnectorOptions(), sleep=sleep, clock=clock, rng=random.Random(1))

        def plan_of(conn: HubSpotConnector):  # type: ignore[no-untyped-def]
            return build_plan(read_table(conn), None, version_of=conn.version_of, steps=("standardize",))

        plan = plan_of(hs())
        assert "kept as is: the target has no field for +79814329668" in render_plan_diff(plan)
        report = apply_plan(plan, hs(), Journal(tmp_path / "runs.duckdb"))
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0
        conn = hs()
        rows = {r["lastname"]: r for r in read_table(conn).frame.iter_rows(named=True)}
        assert rows["Петров"]["email"] == "ivan@romashka.ru"
        assert rows["Петров"]["hs_additional_emails"] == "petrov@gmail.com"
        assert (rows["Петров"]["phone"], rows["Петров"]["mobilephone"]) == ("+79843883273", "+79814329666")
        assert rows["Жукова"]["phone"] == "8 (984) 388-32-75, 8 (981) 432-96-68"  # no place: kept as is
        assert plan_of(hs()).updates == []
