"""Shared pieces of the end-to-end CRM tests: messy contacts in each CRM's API field names, a CLI runner, a fake clock.

The data comes from ``crmclean.testing.generate`` (realistic RU/EN duplicates and mess) and is shaped the way
each CRM holds it: Salesforce Contacts link to Accounts by ``AccountId`` and refuse invalid e-mails in e-mail
fields; HubSpot contacts carry the company as text and never share an e-mail address (HubSpot merges those on
import). Everything else — typos, case, +7/8 phones, swapped names, transliteration, filler — stays as generated.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner, Result

from crmclean.cli import app
from crmclean.testing.generate import generate_contacts
from crmclean.writeback.plan import Plan
from crmclean.writeback.store import Journal

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # what both CRMs accept in an e-mail field
_OWNER_IDS = ("0055g0000000010AAA", "0055g0000000011AAA", "0055g0000000012AAA", "0055g0000000013AAA",
              "0055g0000000014AAA", "0055g0000000015AAA", "0055g0000000016AAA", "0055g0000000017AAA",
              "0055g0000000018AAA", "0055g0000000019AAA")

SF_CONTACT_FIELDS = ("FirstName", "LastName", "Email", "Personal_Email__c", "Phone", "MobilePhone", "Title",
                     "MailingCity", "MailingCountry", "LeadSource", "Description", "INN__c", "AccountId", "OwnerId")
HS_CONTACT_FIELDS = ("firstname", "lastname", "email", "phone", "mobilephone", "company", "jobtitle", "city",
                     "country", "inn", "hubspot_owner_id")


AMO_CONTACT_FIELDS = ("name", "first_name", "last_name", "phone", "email", "position", "company", "city", "country",
                      "inn")


def messy_contacts(n: int, seed: int) -> pl.DataFrame:
    """``n`` generated contacts (English-style headers) with their true company id in ``__company``."""
    frame, truth = generate_contacts(n, seed=seed, headers="en")
    return frame.with_columns(truth.get_column("company_id").alias("__company"))


def iso_datetime(text: str | None) -> str | None:
    """The generator's '2018-06-04 12:06:00' or '04.06.2018 12:06' as the ISO stamp a CRM stores."""
    if not text:
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        except ValueError:
            continue
    return None


def _valid_email(value: str | None) -> str | None:
    return value if value and _EMAIL.match(value) else None


def _owner_index(names: Sequence[str | None]) -> dict[str, int]:
    return {name: i for i, name in enumerate(sorted({n for n in names if n}))}


def salesforce_rows(frame: pl.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Account rows, Contact rows) for the Salesforce emulator; Contact.AccountId is filled in by ``link_accounts``.

    A Contact keeps the index of its account in ``__account`` until the Accounts have ids.
    """
    records = frame.to_dicts()
    account_of: dict[int, int] = {}
    accounts: list[dict[str, Any]] = []
    for rec in records:
        cid = int(rec["__company"])
        if cid and rec["Company"] and cid not in account_of:
            account_of[cid] = len(accounts)
            accounts.append({"Name": rec["Company"], "BillingCountry": rec["Country"], "BillingCity": rec["City"]})
    owners = _owner_index([r["Owner"] for r in records])
    contacts = []
    for rec in records:
        cid = int(rec["__company"])
        contacts.append({
            "FirstName": rec["First Name"],
            # Salesforce requires a last name, so people type filler to save the card
            "LastName": rec["Last Name"] or "-",
            "Email": _valid_email(rec["Email"]),
            "Personal_Email__c": _valid_email(rec["Personal Email"]),
            "Phone": rec["Phone"], "MobilePhone": rec["Mobile"], "Title": rec["Title"],
            "MailingCity": rec["City"], "MailingCountry": rec["Country"], "LeadSource": rec["Lead Source"],
            "Description": rec["Notes"], "INN__c": rec["INN"],
            "OwnerId": _OWNER_IDS[owners[rec["Owner"]] % len(_OWNER_IDS)] if rec["Owner"] else None,
            "CreatedDate": iso_datetime(rec["Created Date"]),
            "__account": account_of.get(cid) if rec["Company"] else None,
        })
    return accounts, contacts


def link_accounts(contacts: list[dict[str, Any]], account_ids: Sequence[str]) -> list[dict[str, Any]]:
    out = []
    for c in contacts:
        row = {k: v for k, v in c.items() if k != "__account"}
        row["AccountId"] = account_ids[c["__account"]] if c["__account"] is not None else None
        out.append(row)
    return out


def hubspot_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Contact rows for the HubSpot emulator: one e-mail address per contact at most, as HubSpot enforces."""
    records = frame.to_dicts()
    owners = _owner_index([r["Owner"] for r in records])
    seen: set[str] = set()
    rows = []
    for rec in records:
        email = _valid_email(rec["Email"])
        if email is not None:
            key = email.strip().lower()
            email = None if key in seen else email
            seen.add(key)
        rows.append({
            "firstname": rec["First Name"], "lastname": rec["Last Name"], "email": email,
            "phone": rec["Phone"], "mobilephone": rec["Mobile"], "company": rec["Company"], "jobtitle": rec["Title"],
            "city": rec["City"], "country": rec["Country"], "inn": rec["INN"],
            "hubspot_owner_id": str(7100 + owners[rec["Owner"]]) if rec["Owner"] else None,
            "createdate": iso_datetime(rec["Created Date"]),
        })
    return rows


def amocrm_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Contact rows for the amoCRM emulator: one phone (WORK, or the mobile as MOB) and one e-mail (WORK) each;
    amoCRM holds more per contact, tests/test_amocrm_connector.py covers those cells."""
    rows = []
    for rec in frame.to_dicts():
        phone = rec["Phone"] or rec["Mobile"]
        full = " ".join(p for p in (rec["First Name"], rec["Last Name"]) if p) or None
        rows.append({
            "name": full, "first_name": rec["First Name"], "last_name": rec["Last Name"],
            "phone" if rec["Phone"] else "phone:MOB": phone, "email": _valid_email(rec["Email"]),
            "position": rec["Title"], "company": rec["Company"], "city": rec["City"], "country": rec["Country"],
            "inn": rec["INN"],
        })
    return rows


# ---------------------------------------------------------------- running the CLI


class Cli:
    """Runs `crmclean ...` in-process and keeps the output; JSON commands return the parsed report."""

    def __init__(self, store: Path) -> None:
        self.runner = CliRunner()
        self.store = store

    def __call__(self, *args: str | Path, codes: Sequence[int] = (0,)) -> Result:
        result = self.runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code in codes, f"crmclean {' '.join(map(str, args))} exited {result.exit_code}:\n" \
                                          f"{result.output[-3000:]}"
        return result

    def json(self, *args: str | Path, codes: Sequence[int] = (0,)) -> dict[str, Any]:
        out = self(*args, "--json", codes=codes).stdout
        data: dict[str, Any] = json.loads(out)
        return data

    def journal(self) -> Journal:
        return Journal(self.store)


def outcomes_by_unit(journal: Journal, run_id: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """unit -> [(record_id, status, error), ...] in the order they were journaled."""
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for unit, rid, status, error in journal.outcomes(run_id).select("unit", "record_id", "status", "error").iter_rows():
        out.setdefault(unit, []).append((rid, status, error))
    return out


def expected_after_apply(plan: Plan, before: Mapping[str, Mapping[str, str | None]],
                         skip: Set[str] = frozenset()) -> tuple[dict[str, dict[str, str | None]], set[str]]:
    """Each record's values once the plan is applied, and the ids the merges remove (``skip``: units not applied)."""
    expected = {rid: dict(rec) for rid, rec in before.items()}
    for op in plan.updates:
        if f"update:{op.record_id}" not in skip:
            expected[op.record_id][op.field] = op.after
    removed: set[str] = set()
    for m in plan.merges:
        if f"merge:{m.cluster_id}" in skip:
            continue
        expected[m.master_id].update(m.values)
        removed.update(m.loser_ids)
    return expected, removed


class FakeClock:
    """Time that moves only when someone sleeps: retry backoff and rate-limit waits cost no wall time."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            self.slept += seconds


def same_text(a: str | None, b: str | None) -> bool:
    """A CRM does not tell an empty field from a missing one."""
    return (a or None) == (b or None)
