"""HubSpot connector against the emulator in official-behaviour mode: merges that land behind an error and merges
that give the survivor a new id, through apply and rollback (issue 15 items 2 and 3)."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.hubspot import HubSpotConnector
from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.errors import ConnectorError
from crmclean.writeback.apply import apply_plan
from crmclean.writeback.plan import MergeOp, Plan, PlanSource, UpdateOp
from crmclean.writeback.rollback import rollback_run
from crmclean.writeback.store import Journal

FIELDS = ["email", "firstname", "lastname", "city", "phone"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _connector(emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
               timeout: str = "0.3") -> HubSpotConnector:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
    return HubSpotConnector("contacts", ConnectorOptions(fields=FIELDS, extra={"timeout": timeout}), sleep=clock.sleep,
                            clock=clock, rng=random.Random(1))


def _merge_plan(conn: HubSpotConnector, master: str, losers: list[str], values: dict[str, str | None]) -> Plan:
    current = conn.fetch([master, *losers])
    return Plan(
        source=PlanSource(spec="hubspot:contacts", kind="hubspot", id_column=conn.id_field, object_type="contacts"),
        operations=[MergeOp(cluster_id="c1", master_id=master, loser_ids=losers, values=values,
                            snapshots={rid: dict(rec) for rid, rec in current.items()})],
        versions={rid: conn.version_of(rec) for rid, rec in current.items()},
    )


def _people() -> list[dict[str, Any]]:
    return [{"email": "ann@example.com", "firstname": "Ann", "lastname": "Lee", "city": None},
            {"email": "ann.lee@example.com", "firstname": "Anna", "lastname": "Lee", "city": "Tver"},
            {"email": "other@example.com", "firstname": "Bob", "lastname": "Roe", "city": "Oslo"}]


@pytest.mark.parametrize("landed", [False, True], ids=["clean", "landed-504"])
def test_merge_with_a_new_survivor_id_is_rolled_back_on_the_survivor(
        landed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _people()}, merge_new_id=True, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        master, loser, _ = (r["id"] for r in emu.records("contacts"))
        plan = _merge_plan(conn, master, [loser], {"firstname": "Golden"})
        if landed:
            emu.inject("landed_504", path_contains="/merge")
        journal = Journal(tmp_path / "runs.duckdb")
        report = apply_plan(plan, conn, journal)
        assert report.counts["ok"] == report.counts["units"] and not report.problems, report.to_dict()
        survivor = emu.merged_into("contacts", master)
        assert survivor not in (None, master, loser) and emu.merged_into("contacts", loser) == survivor
        assert emu.record("contacts", survivor)["properties"]["firstname"] == "Golden"  # type: ignore[index]
        undo = rollback_run(str(report.run_id), journal, connector=_connector(emu, clock, monkeypatch))
        assert undo.counts["conflict"] == 0 and undo.counts["failed"] == 0, undo.to_dict()
        # the survivor has the master's values back (HubSpot cannot un-merge: it keeps the new id)
        props = emu.record("contacts", survivor)["properties"]  # type: ignore[index]
        assert (props["firstname"], props["city"]) == ("Ann", None)
        recreated = [r for r in emu.records("contacts") if not r["archived"] and r["id"] not in (survivor,)]
        assert sorted(r["properties"]["firstname"] for r in recreated) == ["Anna", "Bob"]


def test_in_filters_on_strings_and_enumerations_select_every_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 4: IN on a string property needs lowercase values; enumerations match their exact values."""
    clock = FakeClock()
    rows = [{"email": f"p{i}@example.com", "firstname": f"P{i}", "country": country, "lifecyclestage": stage}
            for i, (country, stage) in enumerate([("Russia", "lead"), ("United States", "customer"),
                                                  ("France", "lead"), ("russia", "subscriber")])]
    with HubSpotEmulator(objects={"contacts": rows}, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        picked = pl_ids(conn.read_pages(["email", "country"], where="country IN (Russia, 'United States')"))
        assert picked == {"p0@example.com", "p1@example.com", "p3@example.com"}
        assert pl_ids(conn.read_pages(["email", "country"], where="country NOT IN (RUSSIA)")) == {
            "p1@example.com", "p2@example.com"}
        assert pl_ids(conn.read_pages(["email", "lifecyclestage"], where="lifecyclestage IN (Lead, Customer)")) == {
            "p0@example.com", "p1@example.com", "p2@example.com"}
        # the emulator is as strict as HubSpot: a mixed-case value sent as is selects nothing
        status = _raw_search(emu, {"filterGroups": [{"filters": [
            {"propertyName": "country", "operator": "IN", "values": ["Russia"]}]}]})
        assert status["total"] == 0


def pl_ids(pages: Any) -> set[str]:
    return {str(v) for page in pages for v in page.get_column("email").to_list()}


def _raw_search(emu: HubSpotEmulator, body: dict[str, Any]) -> dict[str, Any]:
    req = urllib.request.Request(f"{emu.base_url}/crm/v3/objects/contacts/search", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {emu.access_token}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as answer:
        return dict(json.loads(answer.read()))


def test_a_refused_fetch_fails_its_batch_not_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 7: reads still refused after the retries (429) fail that batch; the next batches are written."""
    clock = FakeClock()
    rows = [{"email": f"p{i}@example.com", "firstname": f"P{i}", "city": "Oslo"} for i in range(6)]
    with HubSpotEmulator(objects={"contacts": rows}, clock=clock) as emu:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
        conn = HubSpotConnector("contacts", ConnectorOptions(fields=FIELDS, extra={"timeout": "0.3", "max_attempts": "2"}),
                                sleep=clock.sleep, clock=clock, rng=random.Random(1))
        ids = [r["id"] for r in emu.records("contacts")]
        current = conn.fetch(ids)
        plan = Plan(source=PlanSource(spec="hubspot:contacts", kind="hubspot", id_column=conn.id_field,
                                      object_type="contacts"),
                    operations=[UpdateOp(record_id=rid, field="city", before="Oslo", after="Tver") for rid in ids],
                    versions={rid: conn.version_of(rec) for rid, rec in current.items()})
        emu.inject("429", count=2, path_contains="/batch/read")  # the first batch's read is refused twice
        report = apply_plan(plan, conn, Journal(tmp_path / "runs.duckdb"), batch_size=3)
        assert report.counts["failed"] == 3 and report.counts["ok"] == 3, report.to_dict()
        assert all("could not read the records" in p["error"] for p in report.problems)
        cities = [r["properties"]["city"] for r in emu.records("contacts")]
        assert sorted(cities) == ["Oslo"] * 3 + ["Tver"] * 3


def test_apply_and_rollback_use_the_rules_files_crm_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 8: apply (and rollback) open the CRM with the rules file's credentials_file and concurrency."""
    from crmclean import api
    from crmclean.writeback.plan import save_plan

    clock = FakeClock()
    rows = [{"email": f"p{i}@example.com", "firstname": f"  anna{i} ", "lastname": "lee"} for i in range(5)]
    with HubSpotEmulator(objects={"contacts": rows}, clock=clock) as emu:
        monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
        monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
        creds = tmp_path / "hubspot.yaml"
        creds.write_text(f"hubspot:\n  access_token: {emu.access_token}\n", encoding="utf-8")
        rules = tmp_path / "rules.yaml"
        rules.write_text(f"version: 1\nsource:\n  credentials_file: {creds}\n  concurrency: 3\n", encoding="utf-8")
        plan = api.plan("hubspot:contacts", rules=str(rules))
        assert plan.source.options["credentials_file"] == str(creds) and plan.source.options["concurrency"] == "3"
        plan_file = tmp_path / "plan.json"
        save_plan(plan, plan_file)
        report = api.apply(plan_file, store=tmp_path / "runs.duckdb")  # no token in the environment
        assert isinstance(report, api.RunReport) and report.counts["failed"] == 0, report
        assert report.counts["ok"] > 0
        undo = api.rollback(str(report.run_id), store=tmp_path / "runs.duckdb")
        assert isinstance(undo, api.RunReport) and undo.counts["failed"] == 0, undo


def _messy_people(n: int) -> list[dict[str, Any]]:
    """n people, every third one entered twice (same e-mail, another spelling), names needing fixes."""
    first = ["anna", "boris", "vera", "gleb", "daria", "egor", "irina", "oleg"]
    last = ["ivanova", "petrov", "sidorova", "kuznetsov", "smirnova", "popov", "volkova", "sokolov", "lebedeva",
            "kozlov", "novikova", "morozov", "pavlova", "fedorov", "orlova", "makarov", "zaitseva", "belov",
            "titova", "gusev", "romanova", "vinogradov", "karpova", "frolov", "nikitina", "zakharov", "antonova",
            "medvedev", "krylova", "tarasov"]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        name = first[i % len(first)]
        rows.append({"email": f"person{i}@example.com", "firstname": f"  {name} ", "lastname": last[i % len(last)],
                     "phone": f"+7 916 555-{i:02d}-{i:02d}", "city": "Moscow" if i % 2 else None})
        if i % 3 == 0:  # HubSpot keeps e-mails unique: the duplicate has none, the same phone spelled otherwise
            rows.append({"email": None, "firstname": name.capitalize(), "lastname": last[i % len(last)].capitalize(),
                         "phone": f"8 (916) 555{i:02d}{i:02d}", "city": "Moscow" if i % 2 else "Tver"})
    return rows


def test_round_trip_with_landed_faults_at_ten_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit → plan → apply → rollback against the official-behaviour emulator (new-id merges) while 10 % of the
    requests fail, half of them after the write landed (a 504 behind a write): record by record, the CRM holds
    what the plan asked for after apply (+ resume), and its original contents after rollback."""
    from crmclean import api
    from crmclean.writeback.plan import save_plan

    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _messy_people(30)}, clock=clock) as emu:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
        defaults = HubSpotConnector.__init__.__kwdefaults__
        assert defaults is not None
        monkeypatch.setitem(defaults, "sleep", clock.sleep)
        monkeypatch.setitem(defaults, "clock", clock)

        def contents() -> list[tuple[Any, ...]]:
            return sorted(tuple(r["properties"].get(f) or "" for f in FIELDS) for r in emu.records("contacts")
                          if not r["archived"])

        original = contents()
        plan = api.plan("hubspot:contacts")
        assert plan.summary()["merges"] >= 5 and plan.summary()["updates"] >= 10, plan.summary()
        plan_file = tmp_path / "plan.json"
        save_plan(plan, plan_file)
        store = tmp_path / "runs.duckdb"
        emu.random_faults(rate=0.10, seed=5, kinds=("landed_504", "503"))
        report = api.apply(plan_file, store=store)
        assert isinstance(report, api.RunReport)
        first_run = report.run_id
        emu.clear_faults()
        if report.counts["failed"]:
            report = api.resume(str(report.run_id), store=store)
            assert isinstance(report, api.RunReport)
        assert report.counts["failed"] == 0 and report.counts["conflict"] == 0, report.to_dict()
        assert emu.request_count(status=504) > 0
        applied = contents()
        assert len(applied) == len(original) - plan.summary()["records_merged_away"]
        for op in plan.updates:
            rid = emu.merged_into("contacts", op.record_id) or op.record_id
            assert emu.record("contacts", rid)["properties"][op.field] == op.after, op  # type: ignore[index]
        undo = api.rollback(str(first_run), store=store)
        assert isinstance(undo, api.RunReport) and undo.counts["failed"] == 0 and undo.counts["conflict"] == 0, \
            undo.problems
        assert contents() == original


@pytest.mark.parametrize("email", [None, "new@example.com"], ids=["searched", "read-by-email"])
def test_create_behind_a_landed_504_is_found_not_sent_twice(email: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 9: a create answered 504 after it landed is looked up (by e-mail, else by search) and
    reported ok with the id HubSpot gave it; it is never sent again."""
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _people()}, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        emu.touch_internal("contacts", emu.records("contacts")[0]["id"])
        emu.add_records("contacts", [{"firstname": "New", "lastname": "Once", "city": "Oslo",  # a twin made before
                                      "createdate": "2024-05-01T10:00:00.000Z"}])
        emu.inject("landed_504", path_contains="/batch/create")
        outcome = conn.create([{"firstname": "New", "lastname": "Once", "email": email}])[0]
        copies = [r["id"] for r in emu.records("contacts") if r["properties"]["lastname"] == "Once"]
        assert len(copies) == 2 and emu.request_count("/batch/create") == 1
        assert outcome.status == "ok" and outcome.new_id == copies[-1], outcome


def _nameless_twins() -> list[dict[str, Any]]:  # no e-mail: a re-created copy can only be found by search
    return [{"firstname": "Ann", "lastname": "Lee", "city": None, "phone": "+7 916 000"},
            {"firstname": "Anna", "lastname": "Lee", "city": "Tver", "phone": "+7 916 001"}]


def test_rollback_re_creates_a_merged_record_once_behind_a_landed_504(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The rollback's re-create is answered 504 after it landed, and the look-up fails too: the record is reported
    failed; rolling back again finds the copy (find_created) and journals its id instead of creating it twice."""
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _nameless_twins()}, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        master, loser = (r["id"] for r in emu.records("contacts"))
        journal = Journal(tmp_path / "runs.duckdb")
        report = apply_plan(_merge_plan(conn, master, [loser], {"firstname": "Golden"}), conn, journal)
        assert report.counts["ok"] == 1, report.to_dict()
        emu.inject("landed_504", path_contains="/batch/create")
        emu.inject("503", count=6, path_contains="/search")  # the look-up is refused after all its attempts
        first = rollback_run(str(report.run_id), journal, connector=_connector(emu, clock, monkeypatch))
        assert first.counts["failed"] == 1 and "resume the run" in first.problems[0]["error"], first.to_dict()
        emu.clear_faults()
        again = rollback_run(str(report.run_id), journal, connector=_connector(emu, clock, monkeypatch))
        assert again.counts["failed"] == 0 and again.counts["conflict"] == 0, again.to_dict()
        anna = [r for r in emu.records("contacts") if r["properties"]["firstname"] == "Anna"]
        assert len(anna) == 1 and anna[0]["properties"]["city"] == "Tver"
        assert emu.request_count("/batch/create") == 1
        new_ids = journal.outcomes(str(again.run_id)).get_column("new_id").drop_nulls().to_list()
        assert new_ids == [anna[0]["id"]]


def test_daily_remaining_header_stops_before_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 9: HubSpot's daily-remaining header is read; at 0 the connector stops without another request."""
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _people()}, clock=clock, daily_limit=3) as emu:
        conn = _connector(emu, clock, monkeypatch)
        ids = [r["id"] for r in emu.records("contacts")]
        for _ in range(3):
            conn.fetch(ids[:1])  # the third answer says 0 left (the property list came first)
            if conn._budget.daily_remaining == 0:
                break
        sent = emu.request_count()
        with pytest.raises(ConnectorError, match="daily API limit"):
            conn.fetch(ids[:1])
        assert emu.request_count() == sent and emu.request_count(status=429) == 0


def _search(emu: HubSpotEmulator) -> int:
    request = urllib.request.Request(f"{emu.base_url}/crm/v3/objects/contacts/search", method="POST",
                                     data=json.dumps({"limit": 1}).encode(),
                                     headers={"Authorization": f"Bearer {emu.access_token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as reply:
            assert "X-HubSpot-RateLimit-Max" not in reply.headers  # search answers carry no rate headers
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_search_is_paced_to_five_requests_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 9: HubSpot's CRM search allows 5 requests per second per account and answers 429 past it
    (without rate-limit headers to follow); a `--where` read over many pages stays under it."""
    clock = FakeClock()
    rows = [{"email": f"p{i}@example.com", "firstname": "P", "lastname": f"L{i}", "city": "Tver"} for i in range(2400)]
    with HubSpotEmulator(objects={"contacts": rows}, clock=clock) as emu:
        assert [_search(emu) for _ in range(6)] == [200] * 5 + [429]  # the emulator holds HubSpot's limit
        clock.sleep(1.0)
        emu.reset_requests()
        conn = _connector(emu, clock, monkeypatch)
        started = clock.now
        frame = pl.concat(list(conn.read_pages(where="city = Tver")))
        assert frame.height == 2400
        searches = emu.request_count("/search")
        assert searches == 12 and emu.request_count("/search", status=429) == 0
        assert clock.now - started >= (searches - 5) / 5  # 12 searches at 5 a second: two seconds of pacing


def _stamp_plan(conn: HubSpotConnector, updates: list[tuple[str, str, str]], merge: tuple[str, str] | None) -> Plan:
    """Updates (record, field, new value) and one merge (master, loser), pinned to what HubSpot shows now."""
    ids = list(dict.fromkeys([*(u[0] for u in updates), *(merge or ())]))
    current = conn.fetch(ids)
    ops: list[UpdateOp | MergeOp] = [UpdateOp(record_id=rid, field=f, before=current[rid][f], after=v)
                                     for rid, f, v in updates]
    if merge is not None:
        ops.append(MergeOp(cluster_id="c1", master_id=merge[0], loser_ids=[merge[1]], values={"lastname": "Golden"},
                           snapshots={rid: dict(current[rid]) for rid in merge},
                           versions={rid: [conn.version_of(current[rid])] for rid in merge}))
    return Plan(source=PlanSource(spec="hubspot:contacts", kind="hubspot", id_column=conn.id_field,
                                  object_type="contacts"),
                operations=ops, versions={rid: conn.version_of(rec) for rid, rec in current.items()})


def test_internal_updates_are_no_conflict_user_edits_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 9: HubSpot moves lastmodifieddate on its own updates (workflows, calculated properties,
    associations); apply compares the values of the fields it writes and reads, so such a record is written, and a
    person's edit of one of those fields stays a conflict."""
    clock = FakeClock()
    rows = [{"email": f"p{i}@example.com", "firstname": f"P{i}", "lastname": "Lee", "city": "Oslo"} for i in range(6)]
    with HubSpotEmulator(objects={"contacts": rows}, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        a, b, c, d, master, loser = (r["id"] for r in emu.records("contacts"))
        plan = _stamp_plan(conn, [(rid, "city", "Tver") for rid in (a, b, c, d)], (master, loser))
        for rid in (a, master, loser):  # a workflow recalculates a score: the stamp moves, no user value does
            moved = emu.touch_internal("contacts", rid, hs_predictivecontactscore="42")
            assert moved != plan.versions[rid]
        emu.human_edit("contacts", b, {"firstname": "Bea"})  # a field the plan neither writes nor reads
        emu.human_edit("contacts", c, {"city": "Kazan"})  # the planned field: a person's edit wins
        emu.touch_internal("contacts", d)
        emu.human_edit("contacts", d, {"city": "Perm"})
        report = apply_plan(plan, conn, Journal(tmp_path / "runs.duckdb"))
        problems = {p["record_id"]: p["status"] for p in report.problems}
        assert problems == {c: "conflict", d: "conflict"}, report.to_dict()
        city = {r["id"]: r["properties"]["city"] for r in emu.records("contacts", include_archived=True)}
        assert (city[a], city[b], city[c], city[d]) == ("Tver", "Tver", "Kazan", "Perm")
        survivor = emu.merged_into("contacts", loser)
        assert survivor is not None and emu.record("contacts", survivor)["properties"]["lastname"] == "Golden"  # type: ignore[index]


def test_a_user_edit_of_a_merged_record_is_a_conflict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The golden values were chosen from every field of every record of the cluster: a person's edit of any of
    them (here the loser's city) stops the merge; nothing is merged."""
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _people()}, clock=clock) as emu:
        conn = _connector(emu, clock, monkeypatch)
        master, loser, _ = (r["id"] for r in emu.records("contacts"))
        plan = _stamp_plan(conn, [], (master, loser))
        emu.human_edit("contacts", loser, {"city": "Kazan"})
        report = apply_plan(plan, conn, Journal(tmp_path / "runs.duckdb"))
        assert report.counts["conflict"] == 1 and emu.merged_into("contacts", loser) is None, report.to_dict()


# -- issue 15: merge preview: the associations each merge moves to the survivor ----------------------------------


def _linked_portal(clock: FakeClock, **options: Any) -> HubSpotEmulator:
    """_messy_people(6) (persons 0 and 3 entered twice) with companies, deals and tickets on both copies: some
    shared with the master (they do not move), some only on the duplicate (they move)."""
    emu = HubSpotEmulator(objects={"contacts": _messy_people(6),
                                   "companies": [{"name": f"Co {i}", "domain": f"co{i}.example"} for i in range(4)],
                                   "deals": [{"dealname": f"Deal {i}"} for i in range(5)],
                                   "tickets": [{"subject": f"Ticket {i}"} for i in range(3)]}, clock=clock, **options)
    people = {(r["properties"]["lastname"] or "").lower() + ("" if r["properties"]["email"] else "*"): r["id"]
              for r in emu.records("contacts")}
    co, deal, ticket = ([r["id"] for r in emu.records(t)] for t in ("companies", "deals", "tickets"))
    links = [("ivanova", "companies", co[0], True), ("ivanova*", "companies", co[0], True),
             ("ivanova*", "companies", co[1], False), ("ivanova", "deals", deal[0], False),
             ("ivanova*", "deals", deal[0], False), ("ivanova*", "deals", deal[1], False),
             ("ivanova*", "deals", deal[2], False), ("ivanova*", "tickets", ticket[0], False),
             ("kuznetsov", "companies", co[2], True), ("kuznetsov*", "companies", co[3], True),
             ("kuznetsov*", "deals", deal[3], False), ("petrov", "deals", deal[4], False)]
    for person, kind, other, primary in links:
        emu.associate("contacts", people[person], kind, other, primary)
    return emu


def _moved(emu: HubSpotEmulator, master: str, losers: list[str]) -> dict[str, int]:
    """What a merge moves, from the emulator's own state: the losers' associations the master lacks."""
    out = {}
    for kind in ("companies", "deals", "tickets"):
        theirs = {i for loser in losers for i in emu.associations("contacts", loser, kind)}
        out[kind] = len(theirs - set(emu.associations("contacts", master, kind)))
    return out


def test_merge_preview_counts_the_associations_a_merge_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean.connectors.base import MergeRequest

    clock = FakeClock()
    with _linked_portal(clock, association_page_size=2) as emu:  # pages of 2: every id's pages are followed
        conn = _connector(emu, clock, monkeypatch)
        by_name = {(r["properties"]["lastname"] or "").lower() + ("" if r["properties"]["email"] else "*"): r["id"]
                   for r in emu.records("contacts")}
        ivanova, kuznetsov, petrov = (by_name["ivanova"], [by_name["ivanova*"]]), \
            (by_name["kuznetsov"], [by_name["kuznetsov*"]]), (by_name["petrov"], [by_name["sidorova"]])
        merges = [MergeRequest(m, tuple(ls)) for m, ls in (ivanova, kuznetsov, petrov)]
        preview = conn.merge_preview(merges)
        assert preview == {ivanova[0]: {"companies": 1, "deals": 2, "tickets": 1},
                           kuznetsov[0]: {"companies": 1, "deals": 1, "tickets": 0},
                           petrov[0]: {"companies": 0, "deals": 0, "tickets": 0}}
        assert preview == {m: _moved(emu, m, ls) for m, ls in (ivanova, kuznetsov, petrov)}
        # one batch read per associated type, plus one per further page (ivanova*'s 3 deals at 2 a page)
        assert emu.request_count("/crm/v4/associations/contacts/", method="POST") == 4
        for master, losers in (ivanova, kuznetsov):
            before = {k: set(emu.associations("contacts", master, k)) for k in ("companies", "deals", "tickets")}
            outcome = conn.merge(MergeRequest(master, tuple(losers)))[0]
            survivor = outcome.new_id or master
            for kind, n in preview[master].items():
                after = set(emu.associations("contacts", survivor, kind))
                assert before[kind] <= after and len(after) == len(before[kind]) + n, (kind, before, after)
        # the survivor keeps the primary record's primary company; the duplicate's stays associated, unlabeled
        survivor = emu.merged_into("contacts", kuznetsov[0])
        assert survivor is not None
        assert emu.primary_company("contacts", survivor) == emu.records("companies")[2]["id"]
        assert survivor in emu.associations("companies", emu.records("companies")[3]["id"], "contacts")


def test_association_batch_read_keeps_hubspots_limits_and_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    with _linked_portal(clock) as emu:
        def read(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            req = urllib.request.Request(f"{emu.base_url}/crm/v4/associations/contacts/companies/batch/read",
                                         method="POST", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {emu.access_token}",
                                                  "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req) as answer:
                    return answer.status, dict(json.loads(answer.read()))
            except urllib.error.HTTPError as err:
                return err.code, dict(json.loads(err.read()))

        status, body = read({"inputs": [{"id": str(i)} for i in range(1001)]})
        assert status == 400 and "1000" in body["message"]
        people = [r["id"] for r in emu.records("contacts") if r["properties"]["lastname"] in ("ivanova", "sidorova")]
        status, body = read({"inputs": [{"id": people[0]}, {"id": people[1]}]})
        assert status == 207  # the contact without companies is a per-id error
        (result,) = body["results"]
        assert result["from"]["id"] == people[0] and "paging" not in result
        (to,) = result["to"]
        assert {t["typeId"] for t in to["associationTypes"]} == {279, 1}  # unlabeled + primary company
        assert body["errors"][0]["context"] == {"fromObjectId": [people[1]]}


def test_plan_shows_the_associations_each_merge_moves_and_apply_moves_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from crmclean import api
    from crmclean.cli import app
    from crmclean.writeback.plan import render_plan_diff, save_plan

    clock = FakeClock()
    with _linked_portal(clock) as emu:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
        monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
        plan = api.plan("hubspot:contacts")
        merges = {m.master_id: m for m in plan.merges}
        assert len(merges) == 2, plan.summary()
        expected = {m.master_id: _moved(emu, m.master_id, m.loser_ids) for m in merges.values()}
        assert {rid: m.preview for rid, m in merges.items()} == expected
        assert any(sum(p.values()) for p in expected.values())  # something moves, whichever copy is the master
        shown = render_plan_diff(plan)
        for moved in expected.values():
            assert "moves to the master: " + ", ".join(f"{n} {k}" for k, n in moved.items()) in shown, shown
        plan_file = tmp_path / "plan.json"
        save_plan(plan, plan_file)
        cli = CliRunner().invoke(app, ["plan", "--show", str(plan_file)])
        assert cli.exit_code == 0 and cli.output.count("moves to the master: ") == 2, cli.output
        before = {rid: {k: set(emu.associations("contacts", rid, k)) for k in ("companies", "deals", "tickets")}
                  for rid in merges}
        everything = {rid: {k: before[rid][k] | {i for loser in m.loser_ids
                                                  for i in emu.associations("contacts", loser, k)}
                            for k in before[rid]} for rid, m in merges.items()}
        report = api.apply(plan_file, store=tmp_path / "runs.duckdb")
        assert isinstance(report, api.RunReport) and report.counts["failed"] == 0, report
        for rid, m in merges.items():
            survivor = emu.merged_into("contacts", rid)
            assert survivor not in (None, rid)  # the official behaviour: a new id
            for kind, n in m.preview.items():
                after = set(emu.associations("contacts", str(survivor), kind))
                assert after == everything[rid][kind] and len(after) - len(before[rid][kind]) == n, (kind, after)
            for loser in (rid, *m.loser_ids):  # nothing is left on the merged-away ids
                assert all(emu.associations("contacts", loser, k) == [] for k in ("companies", "deals", "tickets"))


def test_merge_preview_reads_1000_ids_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmclean.connectors.base import MergeRequest

    clock = FakeClock()
    with HubSpotEmulator(clock=clock, rate_limit=1000) as emu:
        # a 500-id batch read can take longer than the suite's 0.3 s on a loaded CI machine: a timeout's retry would
        # add a request this test does not count
        conn = _connector(emu, clock, monkeypatch, timeout="30")
        merges = [MergeRequest(str(2 * i + 1), (str(2 * i + 2),)) for i in range(501)]  # 1,002 ids
        preview = conn.merge_preview(merges)
        assert len(preview) == 501 and all(p == {"companies": 0, "deals": 0, "tickets": 0} for p in preview.values())
        assert emu.request_count("/crm/v4/associations/", status=207) == 6  # 2 requests for each of the 3 types
