"""HubSpotConnector against the HubSpot emulator over real HTTP with the real hubspot-api-client (no mocks).

Sleeps go to a fake clock shared with the emulator's rate window, so waits cost no wall time.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmclean.connectors import ConnectorOptions, FieldUpdate, MergeRequest, open_connector
from crmclean.connectors.hubspot import HubSpotConnector, RequestBudget, parse_where
from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.connectors.hubspot.emulator import server as hubspot_emulator
from crmclean.errors import ConnectorError, ExitCode, UsageError


class FakeClock:
    """Time that only moves when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def _contacts(n: int) -> list[dict[str, Any]]:
    stages = ("lead", "customer", "subscriber")
    return [{"email": f"person{i}@example.com", "firstname": f"First{i}", "lastname": f"Last{i}",
             "lifecyclestage": stages[i % 3], "city": "Moscow" if i % 2 else None} for i in range(n)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(objects={"contacts": _contacts(60)}, clock=clock, timeout_delay=0.6,
                         merge_new_id=False) as server:  # same-id merges; new ids: test_hubspot_official.py
        yield server


def connect(emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, obj: str = "contacts",
            **options: Any) -> HubSpotConnector:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
    extra = {"timeout": "0.3", **options.pop("extra", {})}
    return HubSpotConnector(obj, ConnectorOptions(extra=extra, **options), sleep=clock.sleep, clock=clock,
                            rng=random.Random(1))


def _ids(pages: list[pl.DataFrame]) -> list[str]:
    return [i for page in pages for i in page.get_column("hs_object_id").to_list()]


def test_open_connector_and_describe(emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", emu.access_token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
    conn = open_connector("hubspot:Contact", ConnectorOptions())
    assert isinstance(conn, HubSpotConnector) and conn.object_type == "contacts" and conn.kind == "hubspot"
    assert conn.id_field == "hs_object_id" and conn.max_batch == 100
    assert conn.capabilities == {"update", "merge", "create", "delete"}
    fields = {f.name: f for f in conn.describe()}
    assert fields["email"].label == "Email" and fields["email"].updateable
    assert fields["lifecyclestage"].type == "picklist" and "lead" in fields["lifecyclestage"].picklist
    assert not fields["hs_object_id"].updateable and not fields["lastmodifieddate"].updateable
    assert fields["createdate"].type == "datetime"


def test_paging_3000_records_100_per_request(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSpotEmulator(objects={"contacts": _contacts(3000)}, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch)
        seen: list[tuple[int, int | None]] = []
        conn.progress = lambda done, total: seen.append((done, total))
        pages = list(conn.read_pages(fields=["email", "city"]))
        ids = _ids(pages)
        assert len(ids) == len(set(ids)) == 3000 and len(pages) == 30
        assert pages[0].columns == ["hs_object_id", "email", "city", "lastmodifieddate"]
        assert all(dtype == pl.String for page in pages for dtype in page.dtypes)
        assert pages[0].get_column("city").null_count() == 50  # HubSpot nulls stay None
        lists = [r for r in emu.requests if r.path == "/crm/v3/objects/contacts"]
        assert len(lists) == 30 and all(int(r.query["limit"][0]) <= 100 for r in lists)
        assert conn.request_count == emu.request_count() == 32  # + properties + one count for progress
        assert seen[-1] == (3000, 3000) and seen[0] == (100, 3000)


def test_default_fields_skip_hidden_properties_and_wide_lists_use_batch_read(
        clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    many = [{"name": f"custom_property_with_a_long_name_{i:03d}"} for i in range(150)]
    rows = [{"email": f"p{i}@example.com", "custom_property_with_a_long_name_007": f"v{i}"} for i in range(150)]
    with HubSpotEmulator(objects={"contacts": rows}, properties={"contacts": many}, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch)
        pages = list(conn.read_pages())
        frame = pl.concat(pages)
        assert "hs_all_contact_vids" not in frame.columns  # hidden
        assert frame.height == 150 and frame.get_column("custom_property_with_a_long_name_007")[3] == "v3"
        # 150 names do not fit a URL: ids are listed, values come from POST batch/read (2 pages -> 2 + 2 requests)
        assert emu.request_count("/batch/read") == 2 and emu.request_count("/crm/v3/objects/contacts",
                                                                            method="GET") == 2


def test_archived_records_are_not_read_or_fetched(emu: HubSpotEmulator, clock: FakeClock,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    gone = [r["id"] for r in emu.records("contacts")[:5]]
    assert [o.status for o in conn.delete(gone)] == ["ok"] * 5
    ids = _ids(list(conn.read_pages(fields=["email"])))
    assert len(ids) == 55 and not set(gone) & set(ids)
    assert conn.fetch(gone) == {}


def test_where_filter_uses_search(emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    pages = list(conn.read_pages(fields=["email", "lifecyclestage", "city"],
                                 where="lifecyclestage = lead AND city HAS_PROPERTY OR email IN (person2@example.com)"))
    frame = pl.concat(pages)
    expected = {f"person{i}@example.com" for i in range(60) if (i % 3 == 0 and i % 2 == 1) or i == 2}
    assert set(frame.get_column("email").to_list()) == expected
    assert emu.request_count("/search") == 1 and emu.request_count("/crm/v3/objects/contacts", method="GET") == 0
    with pytest.raises(UsageError, match="no property 'lifecycle'"):
        list(conn.read_pages(where="lifecycle = lead"))


def test_search_pages_past_the_10000_cap_by_id(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hubspot_emulator, "SEARCH_MAX_RESULTS", 500)  # HubSpot's 10,000 cap, scaled down
    with HubSpotEmulator(objects={"contacts": _contacts(1300)}, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch)
        ids = _ids(list(conn.read_pages(fields=["email"], where="email CONTAINS_TOKEN person*")))
        assert len(ids) == len(set(ids)) == 1300
        assert emu.request_count("/search", status=400) == 0 and emu.request_count("/search") == 7


def test_parse_where_grammar_and_errors() -> None:
    props = {"amount": {"type": "number"}, "closedate": {"type": "datetime"}, "dealstage": {"type": "enumeration"},
             "name": {"type": "string"}}
    groups = parse_where("amount BETWEEN 10 AND 20 and dealstage NOT IN (closedlost, 'closed won') "
                         "OR closedate >= 2024-01-01 OR name CONTAINS_TOKEN 'acme*' AND name NOT_HAS_PROPERTY", props)
    assert groups == [
        {"filters": [{"propertyName": "amount", "operator": "BETWEEN", "value": "10", "highValue": "20"},
                     {"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedlost", "closed won"]}]},
        {"filters": [{"propertyName": "closedate", "operator": "GTE", "value": "1704067200000"}]},
        {"filters": [{"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "acme*"},
                     {"propertyName": "name", "operator": "NOT_HAS_PROPERTY"}]},
    ]
    assert parse_where("name != \"x y\"")[0]["filters"][0] == {"propertyName": "name", "operator": "NEQ",
                                                               "value": "x y"}
    for bad, message in [("name", "operator"), ("name LIKE x", "unknown operator"), ("name = a b", "AND or OR"),
                         ("nme = a", "no property"), (" OR ".join(["name = a"] * 6), "OR-groups"),
                         ("closedate > tomorrow", "not a date"), ("name IN (a, b", "expected")]:
        with pytest.raises(UsageError, match=message):
            parse_where(bad, props)


def test_fetch_in_batches_of_100_with_version_stamps(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSpotEmulator(objects={"contacts": _contacts(250)}, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch)
        ids = [r["id"] for r in emu.records("contacts")] + ["99999999", "not-an-id"]
        got = conn.fetch(ids, ["email"])
        assert len(got) == 250 and emu.request_count("/batch/read") == 3
        first = got[ids[0]]
        assert set(first) == {"hs_object_id", "email", "lastmodifieddate"} and first["email"] == "person0@example.com"
        assert conn.version_of(first) == first["lastmodifieddate"]
        assert conn.version_of({"email": "x"}) != conn.version_of({"email": "y"})  # no stamp: hash of values


def test_human_edit_changes_the_version_stamp(emu: HubSpotEmulator, clock: FakeClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    page = next(conn.read_pages(fields=["firstname"]))
    row = page.row(0, named=True)
    rid = row["hs_object_id"]
    assert conn.version_of(conn.fetch([rid], ["firstname"])[rid]) == conn.version_of(row)
    emu.human_edit("contacts", rid, {"firstname": "Changed by a person"})
    now = conn.fetch([rid], ["firstname"])[rid]
    assert conn.version_of(now) != conn.version_of(row) and now["firstname"] == "Changed by a person"


def test_update_captures_207_partial_failure_per_record(emu: HubSpotEmulator, clock: FakeClock,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    ids = [r["id"] for r in emu.records("contacts")[:4]]
    emu.inject("partial_failure", fail_ids=[ids[2]])
    updates = [FieldUpdate(i, {"city": "Kazan", "firstname": None}) for i in ids] + [FieldUpdate("77777777",
                                                                                                {"city": "X"})]
    outcomes = conn.update(updates)
    assert [o.status for o in outcomes] == ["ok", "ok", "failed", "ok", "failed"]
    assert "emulated partial failure" in (outcomes[2].error or "")
    assert "not found" in (outcomes[4].error or "")
    assert emu.request_count("/batch/update") == 1
    stored = emu.record("contacts", ids[0])
    assert stored is not None and stored["properties"]["city"] == "Kazan" and stored["properties"]["firstname"] is None
    assert emu.record("contacts", ids[2])["properties"]["city"] != "Kazan"  # type: ignore[index]


def test_update_isolates_invalid_values_and_checks_properties_locally(
        emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    ids = [r["id"] for r in emu.records("contacts")[:10]]
    updates = [FieldUpdate(i, {"email": "broken" if n == 6 else f"new{n}@example.com"}) for n, i in enumerate(ids)]
    updates += [FieldUpdate(ids[0], {"no_such_property": "x"}), FieldUpdate(ids[1], {"createdate": "2020-01-01"})]
    before = emu.request_count()
    outcomes = conn.update(updates)
    # ids[0] and ids[1] are one write each with their bad second update, so they fail whole
    assert [o.status for o in outcomes] == ["failed", "failed"] + ["ok"] * 4 + ["failed"] + ["ok"] * 3 + ["failed"] * 2
    assert "INVALID_EMAIL" in (outcomes[6].error or "")
    assert "no property" in (outcomes[10].error or "") and outcomes[0].error == outcomes[10].error
    assert "read-only" in (outcomes[11].error or "")
    assert emu.request_count() - before <= 8  # bisection, not one request per record


def test_concurrent_batch_updates(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSpotEmulator(objects={"contacts": _contacts(450)}, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch, concurrency=4)
        ids = [r["id"] for r in emu.records("contacts")]
        outcomes = conn.update([FieldUpdate(i, {"city": f"City {i}"}) for i in ids])
        assert all(o.status == "ok" for o in outcomes) and emu.request_count("/batch/update") == 5
        assert {r["properties"]["city"] for r in emu.records("contacts")} == {f"City {i}" for i in ids}


def test_merge_cluster_of_four_in_steps(emu: HubSpotEmulator, clock: FakeClock,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    master, *losers = (r["id"] for r in emu.records("contacts")[:4])
    outcomes = conn.merge(MergeRequest(master, tuple(losers), {"firstname": "Golden", "city": "Tver"}))
    assert [(o.record_id, o.status) for o in outcomes] == [(master, "ok")] + [(x, "ok") for x in losers]
    assert emu.request_count("/merge") == 3 and emu.request_count("/batch/update") == 1
    for loser in losers:
        assert emu.record("contacts", loser)["archived"] is True  # type: ignore[index]
        assert emu.merged_into("contacts", loser) == master
    survivor = emu.record("contacts", master)
    assert survivor is not None and not survivor["archived"]
    assert survivor["properties"]["firstname"] == "Golden" and survivor["properties"]["city"] == "Tver"
    assert set(survivor["properties"]["hs_merged_object_ids"].split(";")) == set(losers)
    again = conn.merge(MergeRequest(master, (losers[0],)))
    assert again[0].status == "failed" and again[1].status == "failed" and "merged" in (again[1].error or "")


def test_merge_retried_after_a_landed_504_checks_first(emu: HubSpotEmulator, clock: FakeClock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 2: the merge landed but its answer was a 504; the retry must not report it failed."""
    conn = connect(emu, clock, monkeypatch)
    master, loser = (r["id"] for r in emu.records("contacts")[:2])
    emu.inject("landed_504", path_contains="/merge")
    outcomes = conn.merge(MergeRequest(master, (loser,), {"firstname": "Golden"}))
    assert [(o.record_id, o.status) for o in outcomes] == [(master, "ok"), (loser, "ok")]
    assert emu.request_count("/merge") == 1  # not sent again
    assert emu.merged_into("contacts", loser) == master
    assert emu.record("contacts", master)["properties"]["firstname"] == "Golden"  # type: ignore[index]


def test_merged_away_id_reads_as_its_survivor(clock: FakeClock) -> None:
    with HubSpotEmulator(objects={"companies": [{"name": "A"}, {"name": "B"}]}, merge_new_id=True,
                         clock=clock) as emu:
        a, b = (r["id"] for r in emu.records("companies"))
        req = urllib.request.Request(f"{emu.base_url}/crm/v3/objects/companies/merge", method="POST",
                                     data=json.dumps({"primaryObjectId": a, "objectIdToMerge": b}).encode(),
                                     headers={"Authorization": f"Bearer {emu.access_token}",
                                              "Content-Type": "application/json"})
        new = json.loads(urllib.request.urlopen(req).read())["id"]
        for old in (a, b):
            get = urllib.request.Request(f"{emu.base_url}/crm/v3/objects/companies/{old}",
                                         headers={"Authorization": f"Bearer {emu.access_token}"})
            assert json.loads(urllib.request.urlopen(get).read())["id"] == new


def test_merge_follows_a_new_survivor_id(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"name": f"Acme {i}", "domain": "acme.example"} for i in range(3)]
    with HubSpotEmulator(objects={"companies": rows}, merge_new_id=True, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch, obj="company")
        master, *losers = (r["id"] for r in emu.records("companies"))
        outcomes = conn.merge(MergeRequest(master, tuple(losers), {"name": "Acme"}))
        final = outcomes[0].new_id
        assert final is not None and final not in (master, *losers)
        assert all(emu.merged_into("companies", x) == final for x in (master, *losers))
        assert emu.record("companies", final)["properties"]["name"] == "Acme"  # type: ignore[index]


def test_create_then_delete_for_rollback(emu: HubSpotEmulator, clock: FakeClock,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    old = emu.records("contacts")[0]
    snapshot = dict(old["properties"])
    conn.merge(MergeRequest(emu.records("contacts")[1]["id"], (old["id"],)))
    recreated = conn.create([{**snapshot, "__row_id": "1", "email": "moved@example.com"},
                             {"firstname": "Bad", "no_such_property": "x"}])
    assert recreated[0].status == "ok" and recreated[0].record_id == old["id"] and recreated[0].new_id
    assert recreated[1].status == "failed" and "no property" in (recreated[1].error or "")
    stored = emu.record("contacts", recreated[0].new_id)
    assert stored is not None and stored["properties"]["firstname"] == snapshot["firstname"]
    gone = conn.delete([recreated[0].new_id, "not-an-id"])
    assert [o.status for o in gone] == ["ok", "failed"]
    assert emu.record("contacts", recreated[0].new_id)["archived"] is True  # type: ignore[index]


def test_create_isolates_a_conflicting_email(emu: HubSpotEmulator, clock: FakeClock,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    outcomes = conn.create([{"email": "fresh1@example.com"}, {"email": "person5@example.com"},
                            {"email": "fresh2@example.com"}])
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert "already exists" in (outcomes[1].error or "")


def test_429_waits_retry_after(emu: HubSpotEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    conn.describe()
    emu.inject("429", count=2, retry_after=7)
    ids = _ids(list(conn.read_pages(fields=["email"])))
    assert len(ids) == 60 and emu.request_count(status=429) == 2
    assert clock.sleeps.count(7) >= 2 and conn.retries == 2


def test_client_budget_keeps_under_the_server_limit(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubSpotEmulator(objects={"contacts": _contacts(1200)}, rate_limit=5, rate_interval=10, clock=clock) as emu:
        conn = connect(emu, clock, monkeypatch)  # configured for 100 / 10 s; adopts the server's 5
        start = clock.now
        assert len(_ids(list(conn.read_pages(fields=["email"])))) == 1200
        assert emu.request_count(status=429) == 0 and emu.request_count() == 13
        assert clock.now - start >= 20  # 13 requests at 5 per 10 s


def test_budget_is_a_rolling_window() -> None:
    clock = FakeClock()
    budget = RequestBudget(3, 10.0, clock=clock, sleep=clock.sleep, margin=0.05)
    for _ in range(7):
        budget.acquire()
    assert clock.now - 1000.0 == pytest.approx(21.0)  # 3 now, 3 after 10.5 s, 1 after 21 s


def test_503_and_timeouts_are_retried(emu: HubSpotEmulator, clock: FakeClock,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch)
    conn.describe()
    emu.inject("503", count=2)
    emu.inject("timeout", count=1, path_contains="/batch/update")
    assert len(_ids(list(conn.read_pages(fields=["email"])))) == 60
    rid = emu.records("contacts")[0]["id"]
    assert conn.update([FieldUpdate(rid, {"city": "Perm"})])[0].status == "ok"
    assert conn.retries == 3 and emu.request_count(status=503) == 2
    assert emu.request_count("/batch/update") == 2


def test_persistent_server_errors_become_a_connector_error(emu: HubSpotEmulator, clock: FakeClock,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    conn = connect(emu, clock, monkeypatch, extra={"max_attempts": "3"})
    conn.describe()
    emu.inject("502", count=3)
    with pytest.raises(ConnectorError) as info:
        list(conn.read_pages())
    assert info.value.exit_code == ExitCode.SOURCE and "502" in str(info.value) and "3 attempts" in str(info.value)
    emu.inject("503", count=3, path_contains="/batch/update")
    rid = emu.records("contacts")[0]["id"]
    outcome = conn.update([FieldUpdate(rid, {"city": "Ufa"})])[0]
    assert outcome.status == "failed" and "503" in (outcome.error or "")


def test_token_never_appears_in_messages(emu: HubSpotEmulator, clock: FakeClock,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(ConnectorError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpotConnector("contacts", ConnectorOptions())
    secret = "pat-na1-secret-0123456789"
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", secret)
    monkeypatch.setenv("HUBSPOT_BASE_URL", emu.base_url)
    conn = HubSpotConnector("contacts", ConnectorOptions(extra={"max_attempts": "2"}), sleep=clock.sleep, clock=clock)
    with pytest.raises(ConnectorError) as info:
        conn.describe()
    assert "401" in str(info.value) and secret not in str(info.value) and secret not in repr(conn)
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    offline = HubSpotConnector("contacts", ConnectorOptions(extra={"max_attempts": "2", "timeout": "0.5"}),
                               sleep=clock.sleep, clock=clock)
    with pytest.raises(ConnectorError) as down:
        offline.describe()
    assert "no answer from HubSpot" in str(down.value) and secret not in str(down.value)


def test_credentials_file_yaml_and_env_style(emu: HubSpotEmulator, clock: FakeClock, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("HUBSPOT_BASE_URL", raising=False)
    yaml_file = tmp_path / "creds.yaml"
    yaml_file.write_text(f"hubspot:\n  access_token: {emu.access_token}\n  base_url: {emu.base_url}\n")
    env_file = tmp_path / "creds.env"
    env_file.write_text(f"# test\nexport HUBSPOT_ACCESS_TOKEN='{emu.access_token}'\nHUBSPOT_BASE_URL={emu.base_url}\n")
    for path in (yaml_file, env_file):
        conn = HubSpotConnector("contacts", ConnectorOptions(credentials_file=str(path)), sleep=clock.sleep,
                                clock=clock)
        assert conn.base_url == emu.base_url and len(conn.describe()) > 10
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"token: [{emu.access_token}\n")
    with pytest.raises(ConnectorError) as info:
        HubSpotConnector("contacts", ConnectorOptions(credentials_file=str(broken)))
    assert emu.access_token not in str(info.value)
