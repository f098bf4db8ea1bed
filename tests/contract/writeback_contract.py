"""The write-back contract every connector meets: audit → plan → apply → rollback, and faults + a human edit → resume.

One driver, many targets. A target is a connector under test (a CSV file, the Salesforce emulator, the HubSpot
emulator ...) seen through a small adapter: how to start it with ``n`` messy contacts, read its records, let a person
edit one, and script faults. ``TARGETS`` is the registry the contract suite is parameterized over: a connector added
to it gets the whole suite for free. The same driver runs at about 1,000 records in ``tests/contract`` and at 10,000
in ``tests/e2e`` (marked slow); every check is record by record against the plan.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping, Set
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import Result

from crmclean.connectors.amocrm import DUPLICATE_TAG, AmoCRMConnector
from crmclean.connectors.bitrix24 import Bitrix24Connector
from crmclean.connectors.bitrix24.multifield import join_items
from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.salesforce import SalesforceConnector
from crmclean.errors import ConnectorError
from crmclean.testing.amocrm_emulator import AmoCRMEmulator
from crmclean.testing.bitrix24_emulator import Bitrix24Emulator
from crmclean.testing.hubspot_emulator import HubSpotEmulator
from crmclean.testing.salesforce_emulator import SalesforceEmulator
from crmclean.writeback import engine as engine_module
from crmclean.writeback.plan import Plan, load_plan, render_plan_diff
from tests._crm_e2e import (
    AMO_CONTACT_FIELDS,
    HS_CONTACT_FIELDS,
    SF_CONTACT_FIELDS,
    Cli,
    FakeClock,
    _valid_email,
    amocrm_rows,
    expected_after_apply,
    hubspot_rows,
    link_accounts,
    messy_contacts,
    outcomes_by_unit,
    salesforce_rows,
    same_text,
)

Values = dict[str, Any]


class Target:
    """A connector under the contract. Subclasses say how to start it and how to look inside it."""

    name: ClassVar[str]
    spec: str
    fields: tuple[str, ...]  # the user fields compared record by record
    writable: frozenset[str]  # fields a plan may write
    must_write: frozenset[str]  # fields the messy data surely needs fixed
    edit_field: str
    seed: int
    cli: Cli

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        raise NotImplementedError

    def live(self) -> dict[str, Values]:
        """Every record the target holds now: id -> user values."""
        raise NotImplementedError

    def human_edit(self, record_id: str, values: Values) -> None:
        raise NotImplementedError

    def check_removed(self, record_id: str, master_id: str) -> None:
        """A merged-away record is gone (and, where the target says so, merged into its master)."""
        raise NotImplementedError

    def fills_master(self) -> bool:
        """Whether the target fills a master's empty fields from the records merged into it (HubSpot does)."""
        return False

    def keeps_duplicates(self) -> bool:
        """Whether a merge leaves the duplicates in the target, flagged for a person (amoCRM: no merge API)."""
        return False

    def check_audit(self, kpis: dict[str, Any], flagged: set[str]) -> None:
        pass

    def check_plan(self, plan: Plan, plan_file: Path) -> None:
        pass

    def check_applied_run(self) -> None:
        pass

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        raise NotImplementedError

    def apply_with_faults(self, plan_file: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, set[str]]:
        """Apply under scripted faults; return the run id and the units that failed."""
        raise NotImplementedError

    def clear_faults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        raise NotImplementedError

    def use_store(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The CLI (``self.cli``) keeps its runs in ``tmp_path``."""
        monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
        self.cli = Cli(tmp_path / "runs.duckdb")


def _first_failed(cli: Cli, run_id: str) -> set[str]:
    journal = cli.journal()
    per_unit = outcomes_by_unit(journal, run_id)
    failed = {u for u, rows in per_unit.items() if rows[-1][1] == "failed"}
    assert failed, "the faults should have failed some records"
    assert all(err for rows in per_unit.values() for _, st, err in rows if st == "failed")
    return failed


def _apply_under_faults(cli: Cli, plan_file: Path) -> Result | None:
    """Exit 1: finished, some records failed. Exit 3 (None here: the in-process runner raises the connector error
    that `crmclean` turns into exit 3): a read failed for good and the run stopped."""
    try:
        return cli("apply", plan_file, "--yes", "--json", codes=(1, 3))
    except ConnectorError:
        return None


def survivor_ids(cli: Cli) -> dict[str, str]:
    """Master id -> the id its merge gave the survivor (HubSpot's merges make a new record), from the journal of
    every apply run: the outcome of a merge's master carries it as ``new_id``."""
    journal = cli.journal()
    runs = cli.json("runs", "--command", "apply")
    assert isinstance(runs, list)
    out: dict[str, str] = {}
    for run in runs:
        for unit, rid, new_id, status in journal.outcomes(str(run["run_id"])).select(
                "unit", "record_id", "new_id", "status").iter_rows():
            if unit.startswith("merge:") and status == "ok" and new_id and new_id != rid:
                out[rid] = new_id
    return out


def _crm_contents(fields: tuple[str, ...], values: list[Values]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(v.get(f) or None for f in fields) for v in values)


@dataclass(frozen=True)
class FaultScript:
    """A long outage against an emulated CRM, as a table: the connector gets two attempts per request (not its
    default), the emulator fails a seeded-random share of requests and the injected faults, in order."""

    attempts_env: str | None  # the connector's max-attempts variable (None: the target says how)
    random: Mapping[str, Any]  # emulator.random_faults(**random)
    inject: tuple[tuple[str, Mapping[str, Any]], ...] = ()  # emulator.inject(kind, **kwargs) for each row
    answered: tuple[int, ...] = ()  # statuses the emulator must have answered: the faults really happened


class EmulatorTarget(Target):
    """A CRM emulator under the contract: its ``faults`` table says how the outage goes."""

    faults: ClassVar[FaultScript]
    emu: Any
    clock: FakeClock

    def on_fake_clock(self, connector: Any, monkeypatch: pytest.MonkeyPatch, *, reads_it: bool = True) -> FakeClock:
        """Every ``connector`` the CLI opens sleeps (and, ``reads_it``, tells time) on one fake clock, which the
        emulator may share: rate limits, backoff and Retry-After cost no wall time."""
        self.clock = FakeClock()
        defaults = connector.__init__.__kwdefaults__
        assert defaults is not None
        monkeypatch.setitem(defaults, "sleep", self.clock.sleep)
        if reads_it:
            monkeypatch.setitem(defaults, "clock", self.clock)
        return self.clock

    def serve(self, emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point the CLI at the started emulator ``emu`` (its variables) with a run store in ``tmp_path``."""
        self.emu = emu
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        self.use_store(tmp_path, monkeypatch)

    def max_attempts(self, monkeypatch: pytest.MonkeyPatch, attempts: int | None) -> None:
        """Attempts per request for every connector the CLI opens (None: the connector's default)."""
        assert self.faults.attempts_env is not None
        if attempts is None:
            monkeypatch.delenv(self.faults.attempts_env, raising=False)
        else:
            monkeypatch.setenv(self.faults.attempts_env, str(attempts))

    def restored_with_new_ids(self, undo: dict[str, Any], original: dict[str, Values]) -> dict[str, Values]:
        """After a rollback where merged-away records could only be re-created (new ids): as many records as
        before, and every record that kept its id has every value back. The records now."""
        assert any("new ids" in line for line in undo["cannot_restore"])
        after = self.live()
        assert len(after) == len(original)
        for rid, values in after.items():
            if rid in original:
                assert values == original[rid], rid
        return after

    def check_faults_happened(self) -> None:
        for status in self.faults.answered:
            assert self.emu.request_count(status=status) > 0, status

    def apply_with_faults(self, plan_file: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, set[str]]:
        self.max_attempts(monkeypatch, 2)  # a long outage: some requests fail for good
        self.emu.random_faults(**self.faults.random)
        for kind, kwargs in self.faults.inject:
            self.emu.inject(kind, **kwargs)
        first = _apply_under_faults(self.cli, plan_file)
        run_id = str(self.cli.json("runs", "--command", "apply")[0]["run_id"])  # type: ignore[index]
        if first is not None and first.exit_code == 1:  # finished, some records failed (3: a read failed for good)
            report = json.loads(first.stdout)
            assert report["status"] == "partial" and report["counts"]["failed"] > 0
        failed = _first_failed(self.cli, run_id)
        self.check_faults_happened()
        return run_id, failed

    def clear_faults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.emu.clear_faults()  # the outage is over
        self.max_attempts(monkeypatch, None)


# ---------------------------------------------------------------- Salesforce


class SalesforceTarget(EmulatorTarget):
    name = "salesforce"
    spec = "salesforce:Contact"
    fields = SF_CONTACT_FIELDS
    writable = frozenset(SF_CONTACT_FIELDS) - {"AccountId", "OwnerId"}
    must_write = frozenset({"Phone", "MobilePhone", "MailingCountry", "Title"})
    edit_field = "Title"
    seed = 20261123
    faults = FaultScript(None, random={"rate": 0.05, "seed": 7}, inject=(
        ("partial_failure", {"count": 2, "path_contains": "composite/sobjects"}),  # a validation rule
        ("partial_failure", {"count": 1, "path_contains": "Soap/u/merge"})))

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        accounts, contacts = salesforce_rows(messy_contacts(n, self.seed))
        self.on_fake_clock(SalesforceConnector, monkeypatch, reads_it=False)
        # the messy data holds planted duplicates that a cleanup makes match exactly: the standard duplicate rules
        # would refuse those updates per record (tests/test_salesforce_official.py checks that); this suite
        # compares every record's round trip, so it runs without duplicate rules
        with SalesforceEmulator(duplicate_rules=[]) as emu:
            emu.load("Account", accounts)
            emu.load("Contact", link_accounts(contacts, [str(r["Id"]) for r in emu.records("Account")]))
            self.serve(emu, tmp_path, monkeypatch)
            yield self

    def live(self) -> dict[str, Values]:
        return {str(r["Id"]): {f: r.get(f) for f in self.fields} for r in self.emu.records("Contact")}

    def human_edit(self, record_id: str, values: Values) -> None:
        self.emu.human_edit("Contact", record_id, values)

    def check_removed(self, record_id: str, master_id: str) -> None:
        gone = self.emu.record("Contact", record_id)
        assert gone is not None and gone["IsDeleted"] == "true" and gone["MasterRecordId"] == master_id, record_id

    def check_audit(self, kpis: dict[str, Any], flagged: set[str]) -> None:
        assert kpis["orphans"] > 0, kpis
        assert {"PHONE002", "ORPHAN001"} <= flagged and "DATE001" not in flagged, flagged  # no ids read as dates

    def check_plan(self, plan: Plan, plan_file: Path) -> None:
        # every touched record is pinned to the LastModifiedDate Salesforce showed when planning
        stamps = {str(r["Id"]): str(r["LastModifiedDate"]).replace("+0000", "Z") for r in self.emu.records("Contact")}
        assert all(stamps[rid] == v for rid, v in plan.versions.items())
        text = plan_file.read_text(encoding="utf-8")
        assert "password" not in text.lower()
        assert self.emu.session_id not in text  # credentials stay in the environment

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        assert any("new ids" in line for line in undo["cannot_restore"])
        after = self.emu.records("Contact")
        assert len(after) == len(original)
        for rec in after:  # records that were never merged away keep their ids and get every value back
            rid = str(rec["Id"])
            if rid in original:
                assert {f: rec.get(f) for f in self.fields} == original[rid], rid
        # merged-away records come back with new ids: compare by content
        assert _crm_contents(self.fields, after) == _crm_contents(self.fields, list(original.values()))
        recreated = [r for r in after if str(r["Id"]) not in original]
        assert len(recreated) == merged_away and all(
            r["CreatedDate"] != original.get(str(r["Id"])) for r in recreated)

    def max_attempts(self, monkeypatch: pytest.MonkeyPatch, attempts: int | None) -> None:
        defaults = SalesforceConnector.__init__.__kwdefaults__  # no variable: a keyword's default
        assert defaults is not None
        monkeypatch.setitem(defaults, "max_attempts", attempts or 5)

    def check_faults_happened(self) -> None:
        assert self.clock.slept > 0  # backoff and Retry-After were honoured (on the fake clock)


# ---------------------------------------------------------------- HubSpot


class HubSpotTarget(EmulatorTarget):
    name = "hubspot"
    spec = "hubspot:contacts"
    fields = HS_CONTACT_FIELDS
    writable = frozenset(HS_CONTACT_FIELDS)
    must_write = frozenset({"phone", "company", "country", "jobtitle"})
    edit_field = "jobtitle"
    seed = 20261124
    faults = FaultScript("HUBSPOT_MAX_ATTEMPTS", random={"rate": 0.05, "seed": 11}, answered=(429, 504),
                         inject=(("partial_failure", {"count": 3}),))  # three batch updates get per-record errors

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        rows = hubspot_rows(messy_contacts(n, self.seed))
        self.on_fake_clock(HubSpotConnector, monkeypatch)
        # HubSpot's merges give the survivor a new id (the emulator's default): the checks follow it in the journal
        with HubSpotEmulator(objects={"contacts": rows}, clock=self.clock, timeout_delay=0.02) as emu:
            self.serve(emu, tmp_path, monkeypatch)
            yield self

    def live(self) -> dict[str, Values]:
        return {str(r["id"]): {f: (r.get("properties") or {}).get(f) for f in self.fields}
                for r in self.emu.records("contacts")}

    def human_edit(self, record_id: str, values: Values) -> None:
        self.emu.human_edit("contacts", record_id, values)

    def check_removed(self, record_id: str, master_id: str) -> None:
        assert self.emu.merged_into("contacts", record_id) == master_id, record_id

    def fills_master(self) -> bool:
        return True

    def check_audit(self, kpis: dict[str, Any], flagged: set[str]) -> None:
        assert {"PHONE002", "ORPHAN001"} <= flagged, flagged

    def check_plan(self, plan: Plan, plan_file: Path) -> None:
        stamps = {str(r["id"]): r["properties"]["lastmodifieddate"] for r in self.emu.records("contacts")}
        assert all(stamps[rid] == v for rid, v in plan.versions.items())
        assert self.emu.access_token not in plan_file.read_text(encoding="utf-8")

    def check_applied_run(self) -> None:
        # the connector paces itself to HubSpot's ten-secondly limit; the few 429s (a new command meets the window
        # the previous one filled) were waited out and retried
        assert self.emu.request_count(status=429) < self.emu.request_count() / 100 and self.clock.slept > 10

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        after = self.restored_with_new_ids(undo, original)
        survivors = survivor_ids(self.cli)
        assert survivors  # HubSpot's merges made new records
        for master, survivor in survivors.items():  # the survivor holds its master's values again
            assert after[survivor] == original[master], (master, survivor)
        assert _crm_contents(self.fields, list(after.values())) == _crm_contents(self.fields, list(original.values()))
        # merged-away contacts and masters stay archived (HubSpot cannot un-merge); their content lives on in the
        # survivors and in re-created records
        assert sum(1 for rid in after if rid not in original) == merged_away + len(survivors)



# ---------------------------------------------------------------- Bitrix24


B24_CONTACT_FIELDS = ("NAME", "LAST_NAME", "PHONE", "EMAIL", "POST", "ADDRESS_CITY", "ADDRESS_COUNTRY", "SOURCE_ID",
                      "COMMENTS", "UF_CRM_INN", "COMPANY_ID", "ASSIGNED_BY_ID")


def bitrix24_rows(frame: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(company rows, contact rows) for the Bitrix24 emulator: phones and e-mails as multi-value items (work phone and
    mobile, work and home e-mail); a contact keeps its company's index in ``__company`` until companies have ids."""
    records = frame.to_dicts()
    company_of: dict[int, int] = {}
    companies: list[dict[str, Any]] = []
    owners = {name: i for i, name in enumerate(sorted({r["Owner"] for r in records if r["Owner"]}))}
    contacts = []
    for rec in records:
        cid = int(rec["__company"])
        if cid and rec["Company"] and cid not in company_of:
            company_of[cid] = len(companies)
            companies.append({"TITLE": rec["Company"], "ADDRESS_CITY": rec["City"]})
        phones = [{"VALUE": v, "VALUE_TYPE": t} for v, t in ((rec["Phone"], "WORK"), (rec["Mobile"], "MOBILE")) if v]
        emails = [{"VALUE": v, "VALUE_TYPE": t} for v, t in ((_valid_email(rec["Email"]), "WORK"),
                                                               (_valid_email(rec["Personal Email"]), "HOME")) if v]
        contacts.append({
            "NAME": rec["First Name"], "LAST_NAME": rec["Last Name"], "PHONE": phones, "EMAIL": emails,
            "POST": rec["Title"], "ADDRESS_CITY": rec["City"], "ADDRESS_COUNTRY": rec["Country"],
            "SOURCE_ID": rec["Lead Source"], "COMMENTS": rec["Notes"], "UF_CRM_INN": rec["INN"],
            "ASSIGNED_BY_ID": str(1 + owners[rec["Owner"]]) if rec["Owner"] else None,
            "__company": company_of.get(cid) if rec["Company"] else None,
        })
    return companies, contacts


class Bitrix24Target(EmulatorTarget):
    name = "bitrix24"
    spec = "bitrix24:contacts"
    fields = B24_CONTACT_FIELDS
    writable = frozenset(B24_CONTACT_FIELDS) - {"ASSIGNED_BY_ID"}  # a merge may give the master its duplicate's company
    must_write = frozenset({"PHONE", "ADDRESS_COUNTRY", "POST"})
    edit_field = "POST"
    seed = 20261126
    faults = FaultScript("BITRIX24_MAX_ATTEMPTS", random={"rate": 0.05, "seed": 13, "kinds": ("503", "500", "timeout")},
                         answered=(503,), inject=(
                             ("lost_reply", {"count": 2, "method_contains": "batch"}),  # written, the answer never came
                             ("ignore_write", {"count": 3})))  # the portal says true and stores nothing

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        companies, contacts = bitrix24_rows(messy_contacts(n, self.seed))
        self.on_fake_clock(Bitrix24Connector, monkeypatch)  # the portal's leaky bucket drains on it too
        with Bitrix24Emulator(clock=self.clock, timeout_delay=0.02) as emu:
            company_ids = emu.add_records("companies", companies)
            emu.add_records("contacts", [{**{k: v for k, v in c.items() if k != "__company"},
                                          "COMPANY_ID": company_ids[c["__company"]] if c["__company"] is not None
                                          else None} for c in contacts])
            self.serve(emu, tmp_path, monkeypatch)
            yield self

    def live(self) -> dict[str, Values]:
        return {str(r["ID"]): {f: (join_items(r.get(f)) if isinstance(r.get(f), list) else (r.get(f) or None))
                               for f in self.fields} for r in self.emu.records("contacts")}

    def human_edit(self, record_id: str, values: Values) -> None:
        self.emu.human_edit("contacts", record_id, values)

    def check_removed(self, record_id: str, master_id: str) -> None:
        assert self.emu.merged_into("contacts", record_id) == master_id, record_id

    def check_audit(self, kpis: dict[str, Any], flagged: set[str]) -> None:
        assert kpis["orphans"] > 0, kpis
        assert {"PHONE002", "ORPHAN001"} <= flagged, flagged

    def check_plan(self, plan: Plan, plan_file: Path) -> None:
        # every touched record is pinned to the version the connector saw when planning (a hash of its values)
        con = Bitrix24Connector("contacts")
        current = con.fetch(list(plan.versions))
        assert all(con.version_of(current[rid]) == v for rid, v in plan.versions.items())
        assert self.emu.secret not in plan_file.read_text(encoding="utf-8")  # the webhook stays in the environment

    def check_applied_run(self) -> None:
        # the client paces itself to the leaky bucket (50, then 2 per second) on the fake clock
        assert self.clock.slept > 0

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        after = self.restored_with_new_ids(undo, original)
        assert _crm_contents(self.fields, list(after.values())) == _crm_contents(self.fields, list(original.values()))
        assert sum(1 for rid in after if rid not in original) == merged_away



# ---------------------------------------------------------------- amoCRM


class AmoCRMTarget(EmulatorTarget):
    """amoCRM cannot merge through its API: merges write the master and tag each duplicate (with a note)."""

    name = "amocrm"
    spec = "amocrm:contacts"
    fields = AMO_CONTACT_FIELDS
    writable = frozenset(AMO_CONTACT_FIELDS)
    must_write = frozenset({"phone", "country"})
    edit_field = "position"
    seed = 20261126
    faults = FaultScript("AMOCRM_MAX_ATTEMPTS", random={"rate": 0.05, "seed": 13}, answered=(429, 500),
                         inject=(("lost_reply", {"count": 2, "method": "PATCH"}),  # the write lands, the answer is a 500
                                 ("500", {"count": 2, "method": "PATCH"})))  # then a write refused on both attempts

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        rows = amocrm_rows(messy_contacts(n, self.seed))
        self.on_fake_clock(AmoCRMConnector, monkeypatch)  # the connector's budget and the account's 7 rps limit
        with AmoCRMEmulator(clock=self.clock) as emu:
            emu.add_records("contacts", rows)
            self.serve(emu, tmp_path, monkeypatch)
            yield self

    def live(self) -> dict[str, Values]:
        return {rid: {f: row.get(f) for f in self.fields} for rid, row in self.emu.flat("contacts").items()}

    def human_edit(self, record_id: str, values: Values) -> None:
        self.emu.human_edit("contacts", record_id, values)

    def keeps_duplicates(self) -> bool:
        return True

    def check_removed(self, record_id: str, master_id: str) -> None:
        row = self.emu.flat_record("contacts", record_id)
        assert row is not None, record_id
        tags = row["tags"] or ""
        assert DUPLICATE_TAG in tags, (record_id, tags)
        assert any(f"#{master_id}" in n["params"]["text"] for n in self.emu.notes_of("contacts", record_id))

    def check_plan(self, plan: Plan, plan_file: Path) -> None:
        assert self.emu.access_token not in plan_file.read_text(encoding="utf-8")
        shown = render_plan_diff(plan)  # what `plan --show` prints
        assert "tag as duplicates" in shown and "merge away" not in shown and "amoCRM UI" in shown

    def check_applied_run(self) -> None:
        assert self.emu.request_count(status=403) == 0  # paced to 7 rps: never blocked
        assert self.emu.request_count(status=429) < self.emu.request_count() / 100

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        assert any("cannot delete notes" in line for line in undo["cannot_restore"])
        flat = self.emu.flat("contacts")
        assert self.live() == original  # same ids, every value back
        assert not any(DUPLICATE_TAG in (row["tags"] or "") for row in flat.values())
        notes = [n for rid in flat for n in self.emu.notes_of("contacts", rid)]
        assert len(notes) == merged_away and all(n["params"]["text"].startswith("[withdrawn") for n in notes)



# ---------------------------------------------------------------- a CSV file (Russian Excel export)


class _Crash(BaseException):
    """The process dies mid-run (raised by the engine's crash hook; BaseException, as a kill is no error)."""


class CsvFileTarget(Target):
    """A CSV saved the way Russian Excel saves it (cp1251, ``;``, CRLF), written to ``contacts.clean.csv``."""

    name = "csv"
    edit_field = "Title"
    must_write = frozenset({"Phone", "Title"})
    seed = 20261125

    @contextmanager
    def started(self, n: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
        frame = messy_contacts(n, self.seed).drop("__company")
        self.src = tmp_path / "contacts.csv"
        self.out = tmp_path / "contacts.clean.csv"
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        writer.writerow(frame.columns)
        writer.writerows([["" if v is None else str(v) for v in row] for row in frame.iter_rows()])
        self.src.write_bytes(buf.getvalue().encode("cp1251", errors="replace"))
        self.original_bytes = self.src.read_bytes()
        self.spec = str(self.src)
        self.fields = tuple(c for c in frame.columns if c != "Id")
        self.writable = frozenset(self.fields)
        self.use_store(tmp_path, monkeypatch)
        yield self

    _parsed: tuple[bytes, list[dict[str, str]]] | None = None  # the last bytes read and their rows

    def _read(self, path: Path) -> list[dict[str, str]]:
        data = path.read_bytes()  # parsed again only when the bytes changed (check_removed reads once per record)
        if self._parsed is None or self._parsed[0] != data:
            self._parsed = (data, list(csv.DictReader(io.StringIO(data.decode("cp1251"), newline=""), delimiter=";")))
        return self._parsed[1]  # shared: callers that change rows copy them (human_edit)

    def live(self) -> dict[str, Values]:
        path = self.out if self.out.exists() else self.src
        return {row["Id"]: {f: row.get(f) or None for f in self.fields} for row in self._read(path)}

    def human_edit(self, record_id: str, values: Values) -> None:
        path = self.out if self.out.exists() else self.src
        rows = [dict(row) for row in self._read(path)]
        header = list(rows[0])
        for row in rows:
            if row["Id"] == record_id:
                row.update(values)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, header, delimiter=";", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_bytes(buf.getvalue().encode("cp1251"))
        if path == self.src:
            self.original_bytes = path.read_bytes()

    def check_removed(self, record_id: str, master_id: str) -> None:
        path = self.out if self.out.exists() else self.src
        assert all(row["Id"] != record_id for row in self._read(path)), record_id

    def check_rolled_back(self, undo: dict[str, Any], original: dict[str, Values], merged_away: int) -> None:
        assert undo["cannot_restore"] == []
        assert self.src.read_bytes() == self.original_bytes  # apply wrote to the output, never the input
        # the output is the input again, byte for byte: values, order, encoding, delimiter, line ends
        assert self.out.read_bytes() == self.original_bytes

    def apply_with_faults(self, plan_file: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, set[str]]:
        # the process dies right after sending its second batch: those writes never reach the file
        def die(phase: str, batch: int) -> None:
            if (phase, batch) == ("sent", 2):
                raise _Crash

        monkeypatch.setattr(engine_module, "CRASH_HOOK", die)
        with pytest.raises(_Crash):
            self.cli("apply", plan_file, "--yes", "--json", "--batch-size", "50")
        runs = self.cli.json("runs", "--command", "apply")
        assert isinstance(runs, list) and runs[0]["status"] == "interrupted", runs[:1]
        return str(runs[0]["run_id"]), set()

    def clear_faults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(engine_module, "CRASH_HOOK", None)


TARGETS: list[type[Target]] = [CsvFileTarget, SalesforceTarget, HubSpotTarget, Bitrix24Target, AmoCRMTarget]


# ---------------------------------------------------------------- the contract


def check_applied(target: Target, plan_file: Path, before: dict[str, Values],
                  skip: Set[str] = frozenset()) -> tuple[int, int]:
    """Every record against the plan: updates applied, masters hold golden values, losers merged away."""
    plan = load_plan(plan_file)
    expected, removed = expected_after_apply(plan, before, skip)
    merges = [m for m in plan.merges if f"merge:{m.cluster_id}" not in skip]
    master_of = {loser: m.master_id for m in merges for loser in m.loser_ids}
    fillers = {m.master_id: [expected[x] for x in m.loser_ids] for m in merges} if target.fills_master() else {}
    live = target.live()
    survivors = survivor_ids(target.cli)  # a merge that gave its survivor a new id: the master lives on there
    checked = 0
    for rid, want in expected.items():
        if rid in removed:
            target.check_removed(rid, survivors.get(master_of[rid], master_of[rid]))
            if not target.keeps_duplicates():
                assert rid not in live
                continue
        assert rid not in survivors or rid not in live, rid  # the old master id is gone
        got = live[survivors.get(rid, rid)]
        for field, value in want.items():
            if value is None and got.get(field) is not None and rid in fillers:
                assert any(same_text(got[field], loser[field]) for loser in fillers[rid]), (rid, field)
                continue
            assert same_text(got.get(field), value), (rid, field, got.get(field), value)
        checked += 1
    # nothing lost, nothing created twice (a target that cannot merge keeps the flagged duplicates)
    assert len(live) == len(before) - (0 if target.keeps_duplicates() else len(removed))
    return checked, len(removed)


def audit_plan_apply_rollback(target: Target, n: int, tmp_path: Path) -> None:
    """The whole loop; every record checked against the plan after apply and against the original after rollback."""
    cli = target.cli
    original = target.live()
    assert len(original) == n

    audit = cli.json("audit", target.spec, "--out", tmp_path / "audit")
    assert audit  # the summary printed on stdout is JSON too
    report = json.loads((tmp_path / "audit" / "report.json").read_text(encoding="utf-8"))
    kpis = report["kpis"]
    assert kpis["records"] == n and kpis["duplicate_records"] > n // 20 and 0 < kpis["pct_clean"] < 100, kpis
    target.check_audit(kpis, {c["code"] for c in report["checks"] if c.get("records")})
    assert target.live() == original  # the audit is read-only

    plan_file = tmp_path / "plan.json"
    cli("plan", target.spec, "-o", plan_file)
    plan = load_plan(plan_file)
    summary = plan.summary()
    assert summary["records_updated"] > n // 2 and summary["merges"] > n // 20, summary
    written = {u.field for u in plan.updates} | {f for m in plan.merges for f in m.values}
    assert written <= target.writable and target.must_write <= written, written
    target.check_plan(plan, plan_file)
    assert target.live() == original  # planning writes nothing

    run = cli.json("apply", plan_file, "--yes")
    assert run["status"] == "ok" and run["counts"]["ok"] == run["counts"]["units"], run["counts"]
    per_unit = outcomes_by_unit(cli.journal(), run["run_id"])
    assert all(len({rid for rid, _, _ in rows}) == len(rows) for rows in per_unit.values())  # one outcome per record
    checked, merged_away = check_applied(target, plan_file, original)
    assert checked == n - (0 if target.keeps_duplicates() else merged_away)
    assert merged_away == summary["records_merged_away"]
    target.check_applied_run()

    undo = cli.json("rollback", run["run_id"], "--yes")
    assert undo["status"] == "ok", undo["problems"][:5]
    target.check_rolled_back(undo, original, merged_away)

    shown = cli.json("runs", "show", run["run_id"])
    assert shown["status"] == "ok" and shown["undone_by"] == [undo["run_id"]]


def faults_and_a_human_edit_then_resume(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A person edits a record between plan and apply; apply meets scripted faults; resume finishes the rest."""
    cli = target.cli
    original = target.live()
    plan_file = tmp_path / "plan.json"
    cli("plan", target.spec, "-o", plan_file)
    plan = load_plan(plan_file)
    in_merges = {rid for m in plan.merges for rid in (m.master_id, *m.loser_ids)}
    # the person edits a field the plan writes there: a conflict on every target, whether it compares version stamps
    # or (HubSpot, whose stamp also moves on its own updates) the values of the fields a write touches
    candidates = [u for u in plan.updates if u.record_id not in in_merges]
    edited = next((u.record_id for u in candidates if u.field == target.edit_field), candidates[0].record_id)
    target.human_edit(edited, {target.edit_field: "Коммерческий директор"})
    edited_values = target.live()[edited]

    run_id, failed_first = target.apply_with_faults(plan_file, monkeypatch)
    target.clear_faults(monkeypatch)
    resumed = cli.json("apply", "--resume", run_id, "--yes", codes=(1,))
    assert resumed["status"] == "partial"
    assert {(p["record_id"], p["status"]) for p in resumed["problems"]} == {(edited, "conflict")}, \
        resumed["problems"][:5]

    per_unit = outcomes_by_unit(cli.journal(), run_id)
    assert per_unit[f"update:{edited}"][-1][1] == "conflict"
    merged_away = {rid for m in plan.merges for rid in m.loser_ids}
    for unit, rows in per_unit.items():
        if unit == f"update:{edited}":
            continue
        if rows[-1][1] == "skipped":
            # its update failed, then the run merged it away: the merge carried the values, nothing to retry;
            # or (a value-stamped target) it failed, then the run merged into it: the golden values supersede it
            assert (rows[0][0] in merged_away and "merged into" in str(rows[-1][2])) or (
                rows[0][0] in {m.master_id for m in plan.merges} and "supersede" in str(rows[-1][2])), (unit, rows)
            continue
        # each record written exactly once (a master meets a resumed merge again for the losers still left; a
        # resume that reads a write as landed — "found merged/written when resuming" — journals it, sends nothing)
        oks = Counter(rid for rid, st, msg in rows if st == "ok" and not str(msg or "").startswith("found ")
                      and not (unit.startswith("merge:") and rid == rows[0][0]))
        assert set(oks.values()) <= {1} and rows[-1][1] == "ok", (unit, rows)
    assert failed_first <= set(per_unit)  # the resume finished the failed ones
    before = dict(original)
    before[edited] = edited_values
    check_applied(target, plan_file, before, skip={f"update:{edited}"})
    assert target.live()[edited] == edited_values  # the person's edit is untouched
