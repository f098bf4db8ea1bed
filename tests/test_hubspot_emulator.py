"""The HubSpot emulator behaves like HubSpot CRM v3 where crmclean depends on it (real hubspot-api-client, real HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hubspot
import pytest
import urllib3
from hubspot.crm.contacts import PublicMergeInput
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)
from hubspot.crm.objects.exceptions import ApiException

from crmclean.connectors.hubspot.emulator import HubSpotEmulator
from crmclean.connectors.hubspot.emulator import server as hubspot_emulator


class FakeClock:
    """Time that only moves when someone sleeps: rate windows without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def _contacts(n: int) -> list[dict[str, Any]]:
    stages = ("lead", "customer", "subscriber")
    return [{"email": f"person{i}@example.com", "firstname": f"First{i}", "lastname": f"Last{i}",
             "lifecyclestage": stages[i % 3], "city": "Moscow" if i % 2 else None} for i in range(n)]


@pytest.fixture
def emu() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(objects={"contacts": _contacts(30)}, merge_new_id=False) as server:
        yield server


def _client(emu: HubSpotEmulator, token: str | None = None) -> Any:
    return hubspot.HubSpot(access_token=token or emu.access_token, host=emu.base_url, retry=urllib3.Retry(0))


def _raw(emu: HubSpotEmulator, method: str, path: str, body: Any = None,
         token: str | None = None) -> tuple[int, dict[str, str], Any]:
    """A plain HTTP request, for status codes and headers the typed client hides."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(emu.base_url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token or emu.access_token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            text = resp.read()
            return resp.status, dict(resp.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, dict(err.headers), json.loads(text) if text else None


def test_properties_describe_types_options_and_read_only(emu: HubSpotEmulator) -> None:
    props = {p.name: p for p in _client(emu).crm.properties.core_api.get_all("contacts").results}
    assert props["email"].type == "string" and props["email"].label == "Email"
    assert "lead" in [o.value for o in props["lifecyclestage"].options]
    assert props["hs_object_id"].modification_metadata.read_only_value is True
    assert props["lastmodifieddate"].type == "datetime"
    assert props["hs_all_contact_vids"].hidden is True
    assert props["city"].modification_metadata.read_only_value is False


def test_list_pages_with_after_cursor_and_limit_cap(emu: HubSpotEmulator) -> None:
    api = _client(emu).crm.contacts.basic_api
    first = api.get_page(limit=20, properties=["email", "city"])
    assert len(first.results) == 20 and first.paging.next.after
    second = api.get_page(limit=20, after=first.paging.next.after, properties=["email"])
    assert len(second.results) == 10 and second.paging is None
    ids = [r.id for r in first.results + second.results]
    assert len(set(ids)) == 30 and ids == sorted(ids, key=int)
    assert set(first.results[0].properties) >= {"hs_object_id", "createdate", "lastmodifieddate", "email", "city"}
    status, _, body = _raw(emu, "GET", "/crm/v3/objects/contacts?limit=101")
    assert status == 400 and body["category"] == "VALIDATION_ERROR" and body["status"] == "error"
    assert "correlationId" in body


def test_archived_records_are_listed_only_on_request(emu: HubSpotEmulator) -> None:
    api = _client(emu).crm.contacts.basic_api
    victim = emu.records("contacts")[0]["id"]
    status, _, _ = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": victim}]})
    assert status == 204
    live = api.get_page(limit=100).results
    archived = api.get_page(limit=100, archived=True).results
    assert victim not in [r.id for r in live] and [r.id for r in archived] == [victim]
    assert archived[0].archived is True


def test_bad_token_answers_401_with_hubspot_error_body(emu: HubSpotEmulator) -> None:
    with pytest.raises(ApiException) as info:
        _client(emu, token="wrong").crm.objects.basic_api.get_page("contacts")
    assert info.value.status == 401
    assert json.loads(info.value.body)["category"] == "INVALID_AUTHENTICATION"


def test_batch_read_reports_unknown_ids_with_207(emu: HubSpotEmulator) -> None:
    ids = [r["id"] for r in emu.records("contacts")[:3]] + ["999999"]
    request = BatchReadInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in ids],
                                                 properties=["email"], properties_with_history=[])
    answer = _client(emu).crm.objects.batch_api.read("contacts", request)
    assert sorted(r.id for r in answer.results) == sorted(ids[:3])
    assert answer.errors[0].category == "OBJECT_NOT_FOUND" and answer.errors[0].context == {"ids": ["999999"]}
    by_email = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/read",
                    {"idProperty": "email", "inputs": [{"id": "person3@example.com"}], "properties": ["firstname"]})
    assert by_email[0] == 200 and by_email[2]["results"][0]["properties"]["firstname"] == "First3"
    too_many = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/read",
                    {"inputs": [{"id": str(i)} for i in range(101)], "properties": []})
    assert too_many[0] == 400


def test_batch_update_validates_and_bumps_last_modified(emu: HubSpotEmulator) -> None:
    rec = emu.records("contacts")[0]
    before = rec["properties"]["lastmodifieddate"]
    batch = _client(emu).crm.objects.batch_api
    batch.update("contacts", BatchInputSimplePublicObjectBatchInput(
        inputs=[SimplePublicObjectBatchInput(id=rec["id"], properties={"city": "Kazan", "firstname": ""})]))
    after = emu.record("contacts", rec["id"])
    assert after is not None
    assert after["properties"]["city"] == "Kazan" and after["properties"]["firstname"] is None
    assert after["properties"]["lastmodifieddate"] > before
    for bad in ({"email": "not-an-email"}, {"lifecyclestage": "alien"}, {"createdate": "2020-01-01"},
                {"no_such_prop": "x"}):
        status, _, body = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/update",
                               {"inputs": [{"id": rec["id"], "properties": bad}]})
        assert status == 400 and body["category"] == "VALIDATION_ERROR", bad
    dup = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/update",
               {"inputs": [{"id": rec["id"], "properties": {}}, {"id": rec["id"], "properties": {}}]})
    assert dup[0] == 400


def test_partial_failure_answers_207_with_errors_per_record(emu: HubSpotEmulator) -> None:
    ids = [r["id"] for r in emu.records("contacts")[:4]]
    emu.inject("partial_failure", fail_ids=[ids[1]])
    body = {"inputs": [{"id": i, "properties": {"city": "Omsk"}} for i in ids] + [{"id": "424242", "properties": {}}]}
    status, _, answer = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/update", body)
    assert status == 207 and answer["numErrors"] == 2
    assert sorted(r["id"] for r in answer["results"]) == sorted([ids[0], ids[2], ids[3]])
    by_category = {e["category"]: e["context"]["ids"] for e in answer["errors"]}
    assert by_category == {"VALIDATION_ERROR": [ids[1]], "OBJECT_NOT_FOUND": ["424242"]}
    assert emu.record("contacts", ids[1])["properties"]["city"] != "Omsk"  # type: ignore[index]


def test_batch_create_echoes_trace_ids_and_rejects_existing_email(emu: HubSpotEmulator) -> None:
    batch = _client(emu).crm.objects.batch_api
    created = batch.create("contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        SimplePublicObjectBatchInputForCreate(properties={"email": "new@example.com"}, object_write_trace_id="t1")]))
    assert created.results[0].object_write_trace_id == "t1"
    assert emu.record("contacts", created.results[0].id)["properties"]["email"] == "new@example.com"  # type: ignore[index]
    status, _, body = _raw(emu, "POST", "/crm/v3/objects/contacts/batch/create",
                           {"inputs": [{"properties": {"email": "PERSON1@example.com"}}]})
    assert status == 409 and body["category"] == "CONFLICT" and "Existing ID" in body["message"]
    batch.archive("contacts", BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=created.results[0].id)]))
    assert emu.record("contacts", created.results[0].id)["archived"] is True  # type: ignore[index]


def _search(emu: HubSpotEmulator, groups: list[dict[str, Any]], **extra: Any) -> tuple[int, Any]:
    status, _, body = _raw(emu, "POST", "/crm/v3/objects/contacts/search",
                           {"filterGroups": groups, "properties": ["email", "city"], "limit": 200, **extra})
    return status, body


@pytest.mark.parametrize(("flt", "expected"), [
    ({"propertyName": "lifecyclestage", "operator": "EQ", "value": "LEAD"}, 10),  # EQ ignores case
    ({"propertyName": "lifecyclestage", "operator": "NEQ", "value": "lead"}, 20),
    ({"propertyName": "city", "operator": "HAS_PROPERTY"}, 15),
    ({"propertyName": "city", "operator": "NOT_HAS_PROPERTY"}, 15),
    ({"propertyName": "lifecyclestage", "operator": "IN", "values": ["lead", "customer"]}, 20),
    ({"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["lead"]}, 20),
    ({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "person1*"}, 11),
    ({"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": "person1*"}, 19),
    ({"propertyName": "hs_object_id", "operator": "GT", "value": "1010"}, 20),
    ({"propertyName": "hs_object_id", "operator": "LTE", "value": "1010"}, 10),
    ({"propertyName": "hs_object_id", "operator": "BETWEEN", "value": "1005", "highValue": "1009"}, 5),
])
def test_search_operators(emu: HubSpotEmulator, flt: dict[str, Any], expected: int) -> None:
    status, body = _search(emu, [{"filters": [flt]}])
    assert status == 200 and body["total"] == expected and len(body["results"]) == expected


def test_search_groups_sorts_paging_and_limits(emu: HubSpotEmulator) -> None:
    emu.search_rate_limit = None  # nine searches in a burst here; the 5-a-second limit: test_hubspot_official.py
    groups = [{"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"}]},
              {"filters": [{"propertyName": "city", "operator": "HAS_PROPERTY"},
                           {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}]
    status, body = _search(emu, groups, sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}])
    ids = [int(r["id"]) for r in body["results"]]
    assert status == 200 and ids == sorted(ids, reverse=True) and body["total"] == 15
    api = _client(emu).crm.contacts.search_api
    page = api.do_search(PublicObjectSearchRequest(limit=7, after="7"))
    assert len(page.results) == 7 and page.paging.next.after == "14" and page.total == 30
    assert _search(emu, [], limit=201)[0] == 400
    assert _search(emu, [], after="9900", limit=200)[0] == 400  # never past 10,000 results
    assert _search(emu, [{"filters": [{"propertyName": "nope", "operator": "HAS_PROPERTY"}]}])[0] == 400
    status, _, body = _raw(emu, "POST", "/crm/v3/objects/contacts/search", {"query": "first2", "limit": 100})
    assert status == 200 and body["total"] == 11


def test_merge_keeps_primary_archives_the_other_and_remembers_it(emu: HubSpotEmulator) -> None:
    primary, loser = (r["id"] for r in emu.records("contacts")[:2])  # primary 1001 has no city, loser does
    api = _client(emu).crm.contacts.basic_api
    survivor = api.merge(PublicMergeInput(primary_object_id=primary, object_id_to_merge=loser))
    assert survivor.id == primary
    stored = emu.record("contacts", primary)
    assert stored is not None
    assert stored["properties"]["email"] == "person0@example.com"  # primary value wins
    assert stored["properties"]["city"] == "Moscow"  # empty on the primary: taken from the merged record
    assert stored["properties"]["hs_merged_object_ids"] == loser
    assert emu.record("contacts", loser)["archived"] is True  # type: ignore[index]
    assert emu.merged_into("contacts", loser) == primary
    status, _, body = _raw(emu, "POST", "/crm/v3/objects/contacts/merge",
                           {"primaryObjectId": primary, "objectIdToMerge": loser})
    assert status == 400 and "merged" in body["message"]


def test_merge_can_give_the_survivor_a_new_id() -> None:
    with HubSpotEmulator(objects={"companies": [{"name": "A"}, {"name": "B"}]}, merge_new_id=True) as emu:
        a, b = (r["id"] for r in emu.records("companies"))
        status, _, body = _raw(emu, "POST", "/crm/v3/objects/companies/merge", {"primaryObjectId": a,
                                                                                  "objectIdToMerge": b})
        assert status == 200 and body["id"] not in (a, b)
        assert emu.merged_into("companies", a) == body["id"] == emu.merged_into("companies", b)
        assert [r["id"] for r in emu.records("companies")] == [body["id"]]


def test_rate_limit_answers_429_with_hubspot_headers() -> None:
    clock = FakeClock()
    with HubSpotEmulator(objects={"contacts": _contacts(3)}, rate_limit=3, rate_interval=10, clock=clock) as emu:
        statuses = [_raw(emu, "GET", "/crm/v3/objects/contacts")[0] for _ in range(3)]
        status, headers, body = _raw(emu, "GET", "/crm/v3/objects/contacts")
        assert statuses == [200, 200, 200] and status == 429
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert headers["Retry-After"] == "10"
        assert headers["X-HubSpot-RateLimit-Max"] == "3" and headers["X-HubSpot-RateLimit-Remaining"] == "0"
        assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        clock.sleep(10)
        assert _raw(emu, "GET", "/crm/v3/objects/contacts")[0] == 200


def test_injected_faults_and_seeded_random_faults(emu: HubSpotEmulator) -> None:
    emu.inject(503, count=2, path_contains="/search")
    assert _raw(emu, "GET", "/crm/v3/objects/contacts")[0] == 200  # path filter: not a search
    assert [_search(emu, [])[0] for _ in range(3)] == [503, 503, 200]
    emu.inject("429", retry_after=4)
    status, headers, _ = _raw(emu, "GET", "/crm/v3/objects/contacts")
    assert status == 429 and headers["Retry-After"] == "4"
    emu.timeout_delay = 0.5
    emu.inject("timeout")
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(urllib.request.Request(
            emu.base_url + "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {emu.access_token}"}),
            timeout=0.1)

    def run(seed: int) -> list[int]:
        emu.random_faults(0.5, seed=seed, kinds=("502", "503"))
        try:
            return [_raw(emu, "GET", "/crm/v3/objects/contacts")[0] for _ in range(12)]
        finally:
            emu.random_faults(0)

    first, again = run(7), run(7)
    assert first == again and {502, 503} & set(first) and 200 in first


def test_human_edit_moves_the_version_stamp_without_a_request(emu: HubSpotEmulator) -> None:
    rec = emu.records("contacts")[0]
    count = emu.request_count()
    stamp = emu.human_edit("contacts", rec["id"], {"firstname": "Edited"})
    assert stamp > rec["properties"]["lastmodifieddate"] and emu.request_count() == count
    got = _client(emu).crm.contacts.basic_api.get_by_id(rec["id"], properties=["firstname"])
    assert got.properties["firstname"] == "Edited" and got.properties["lastmodifieddate"] == stamp


def test_request_log_counts_and_filters(emu: HubSpotEmulator) -> None:
    emu.reset_requests()
    _raw(emu, "GET", "/crm/v3/objects/contacts?limit=5&properties=email,city")
    _raw(emu, "GET", "/crm/v3/objects/contacts", token="bad")
    assert emu.request_count() == 2 and emu.request_count(status=401) == 1
    assert emu.request_count("/crm/v3/objects/contacts", method="GET") == 2
    assert emu.requests[0].query["limit"] == ("5",)
    assert emu.access_token not in repr(emu)


def test_cli_serves_a_csv_until_interrupted(tmp_path: Path) -> None:
    csv_path = tmp_path / "contacts.csv"
    csv_path.write_text("\ufeffid,email,firstname\n501,a@example.com,Ann\n502,b@example.com,\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmclean.testing.hubspot_emulator", "--port", "0", "--load", str(csv_path),
         "--token", "cli-token"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        base = next(line.split("=", 1)[1].strip() for line in lines if "HUBSPOT_BASE_URL=" in line)
        assert "loaded 2 contacts" in lines[0]
        request = urllib.request.Request(base + "/crm/v3/objects/contacts?properties=firstname",
                                         headers={"Authorization": "Bearer cli-token"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            results = json.loads(resp.read())["results"]
        assert [(r["id"], r["properties"]["firstname"]) for r in results] == [("501", "Ann"), ("502", None)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_emulator_rejects_non_numeric_ids() -> None:
    with pytest.raises(ValueError, match="numbers"):
        HubSpotEmulator(objects={"contacts": [{"id": "abc"}]})
    assert hubspot_emulator.normalize_object_type("Contact") == "contacts"
