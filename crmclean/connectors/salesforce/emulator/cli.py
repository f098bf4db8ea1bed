"""``python -m crmclean.testing.salesforce_emulator``: serve an in-memory org loaded from CSV files."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from crmclean.connectors._emulator import listen_or_explain, wait_then_stop
from crmclean.connectors.salesforce.emulator.model import _ID_RE
from crmclean.connectors.salesforce.emulator.server import SalesforceEmulator

_STANDARD_FIELDS = {"id": "Legacy_Id__c", "first_name": "FirstName", "last_name": "LastName",
                    "middle_name": "MiddleName", "salutation": "Salutation", "email": "Email", "phone": "Phone", "mobile": "MobilePhone",
                    "job_title": "Title", "department": "Department", "city": "MailingCity", "region": "MailingState",
                    "country": "MailingCountry", "address": "MailingStreet", "zip": "MailingPostalCode",
                    "lead_source": "LeadSource", "notes": "Description"}
_CUSTOM_FIELDS = {"full_name": "Full_Name__c", "email2": "Personal_Email__c", "company": "Company__c",
                  "inn": "INN__c", "kpp": "KPP__c", "ogrn": "OGRN__c", "owner": "Owner__c",
                  "created_at": "Created_Date__c", "updated_at": "Last_Modified__c", "website": "Website__c"}


def with_api_names(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """A spreadsheet's headers ("ФИО", "First Name", "Телефон") as Contact API names (Full_Name__c, FirstName, Phone).

    SOQL only takes ASCII identifiers: recognized columns become the standard field or a custom ``__c`` field
    named after their role; anything else a sanitized custom field. The file's own id goes to ``Legacy_Id__c``:
    the org gives every record a Salesforce id.
    """
    # imported here: the emulator itself needs nothing from crmclean
    from crmclean.roles import detect_roles
    from crmclean.testing.generate import translit

    headers = list(rows[0]) if rows else []
    roles = detect_roles(headers)
    names: dict[str, str] = {}
    for header in headers:
        role = roles.get(header)
        name = _STANDARD_FIELDS.get(role or "") or _CUSTOM_FIELDS.get(role or "")
        if role == "id" and all(_ID_RE.match(r[header]) for r in rows if r.get(header)):
            name = "Id"  # already Salesforce ids (an export from an org): keep them
        if name is None:
            name = re.sub(r"[^A-Za-z0-9]+", "_", translit(header)).strip("_") or "Field"
            name = (name if name[0].isalpha() else f"F_{name}") + "__c"
        while name in names.values():
            name = name.removesuffix("__c") + "_2__c"
        names[header] = name
    return [{names[k]: v for k, v in row.items() if k in names} for row in rows]


def read_csv_rows(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts (stdlib csv, UTF-8 with or without BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crmclean.testing.salesforce_emulator",
        description="Serve an in-memory Salesforce org (REST, Bulk API 2.0, SOAP merge) for trying crmclean.",
    )
    parser.add_argument("--port", type=int, default=8443, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--load", action="append", default=[], metavar="[OBJECT=]CSV",
                        help="CSV file to load; prefix with OBJECT= to choose the sObject (repeatable)")
    parser.add_argument("--object", default="Contact", help="sObject for --load files without OBJECT= (Contact)")
    parser.add_argument("--api-limit", type=int, default=1_000_000, help="DailyApiRequests Max")
    parser.add_argument("--no-tls", action="store_true",
                        help="plain HTTP (for curl; simple-salesforce and so crmclean need HTTPS)")
    args = parser.parse_args(argv)

    objects: dict[str, list[dict[str, str]]] = {}
    for spec in args.load:
        obj, sep, path = spec.partition("=")
        if not sep:
            obj, path = args.object, spec
        try:
            objects.setdefault(obj, []).extend(with_api_names(read_csv_rows(path)))
        except OSError as err:
            print(f"cannot read {path}: {err.strerror}", file=sys.stderr)
            return 2
    if not objects:
        objects[args.object] = []
    emu = SalesforceEmulator(objects, port=args.port, daily_api_limit=args.api_limit, tls=not args.no_tls)
    if not listen_or_explain(emu, "Salesforce", f"127.0.0.1:{args.port}"):
        return 2
    counts = ", ".join(f"{name} ({len(emu.records(name))} records)" for name in objects)
    print(f"Salesforce emulator serving {counts} at {emu.instance_url}")
    print(f"Session id: {emu.session_id}")
    print("\n# Point crmclean at it:")
    for key, value in emu.env().items():
        print(f"export {key}={value}")
    print("\n# Or log in like a real org (lets crmclean re-authenticate when a session expires):")
    for key, value in emu.login_env().items():
        if key not in emu.env():
            print(f"export {key}={value}")
    print("\nPress Ctrl-C to stop.", flush=True)
    return wait_then_stop(emu)


if __name__ == "__main__":
    raise SystemExit(main())
