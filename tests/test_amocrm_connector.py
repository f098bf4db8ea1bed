"""amoCRM connector against its emulator: paging, multi-value cells, validation errors, limits, tag-instead-of-merge."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.connectors.amocrm import DUPLICATE_TAG, AmoCRMConnector, multi_values
from crmclean.connectors.base import FieldUpdate, MergeRequest
from crmclean.errors import ConnectorError, UsageError
from crmclean.testing.amocrm_emulator import AmoCRMEmulator
from crmclean.writeback.plan import MergeOp, Plan, PlanSource, render_plan_diff
from tests._crm_e2e import FakeClock


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[AmoCRMEmulator]:
    clock = FakeClock()
    defaults = AmoCRMConnector.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "sleep", clock.sleep)
    monkeypatch.setitem(defaults, "clock", clock)
    with AmoCRMEmulator(clock=clock) as emulator:
        for key, value in emulator.env().items():
            monkeypatch.setenv(key, value)
        emulator.fake_clock = clock  # type: ignore[attr-defined]
        yield emulator


def _connector(entity: str = "contacts", **extra: str) -> AmoCRMConnector:
    con = open_connector(f"amocrm:{entity}", ConnectorOptions(extra=dict(extra)))
    assert isinstance(con, AmoCRMConnector)
    return con


def test_reads_every_page_by_id_and_stops_at_204(emu: AmoCRMEmulator) -> None:
    emu.add_records("contacts", [{"first_name": f"Имя{i}", "last_name": "Иванов"} for i in range(520)])
    con = _connector()
    pages = list(con.read_pages())
    assert [p.height for p in pages] == [250, 250, 20]
    ids = [int(i) for p in pages for i in p["id"].to_list()]
    assert ids == sorted(ids) and len(set(ids)) == 520
    assert con.request_count == 1 + 3  # custom_fields, then three pages (the last has no _links.next)
    empty = AmoCRMEmulator()
    status, body, _ = empty.handle("GET", "/api/v4/contacts?page=1&limit=250", {
        "Authorization": f"Bearer {empty.access_token}"}, b"")
    assert status == 204 and body is None
    status, _, _ = empty.handle("GET", "/api/v4/contacts?limit=251", {
        "Authorization": f"Bearer {empty.access_token}"}, b"")
    assert status == 400


def test_phones_and_emails_are_one_cell_and_round_trip_without_loss(emu: AmoCRMEmulator) -> None:
    [rid] = emu.add_records("contacts", [{"first_name": "Иван", "phone": "8 916 123-45-67", "phone:MOB": None,
                                          "email": "ivan@x.ru"}])
    emu.human_edit("contacts", rid, {"phone": "8 916 123-45-67, 8 (495) 111-22-33", "email": "ivan@x.ru, I@Y.RU"})
    con = _connector()
    before = con.fetch([str(rid)])[str(rid)]
    assert before["phone"] == "8 916 123-45-67, 8 (495) 111-22-33" and before["email"] == "ivan@x.ru, I@Y.RU"
    enums_before = [v["enum_code"] for cf in emu.record("contacts", rid)["custom_fields_values"]  # type: ignore[index]
                    if cf["field_code"] == "PHONE" for v in cf["values"]]
    # the phone standardizer writes the main number only (extras go to Phone__extra): the second number stays
    [out] = con.update([FieldUpdate(str(rid), {"phone": "+79161234567", "email": "ivan@x.ru, i@y.ru"})])
    assert out.status == "ok"
    after = con.fetch([str(rid)])[str(rid)]
    assert after["phone"] == "+79161234567, 8 (495) 111-22-33" and after["email"] == "ivan@x.ru, i@y.ru"
    enums_after = [v["enum_code"] for cf in emu.record("contacts", rid)["custom_fields_values"]  # type: ignore[index]
                   if cf["field_code"] == "PHONE" for v in cf["values"]]
    assert enums_after == enums_before  # each value keeps its WORK/MOB/... code
    # rollback writes the before-cell: exactly the original values come back
    con.update([FieldUpdate(str(rid), {"phone": before["phone"], "email": before["email"]})])
    again = con.fetch([str(rid)])[str(rid)]
    assert (again["phone"], again["email"]) == (before["phone"], before["email"])
    # an empty cell clears the field
    con.update([FieldUpdate(str(rid), {"email": None})])
    assert con.fetch([str(rid)])[str(rid)]["email"] is None


def test_multi_values_pairs_by_number_keeps_enums_and_adds_new() -> None:
    current = [{"value": "8 916 123-45-67", "enum_code": "MOB"}, {"value": "8 495 111-22-33", "enum_code": "WORK"}]
    assert multi_values(current, "+7 495 111-22-33, +7 916 123-45-67", "PHONE", "WORK") == [
        {"value": "+7 495 111-22-33", "enum_code": "WORK"}, {"value": "+7 916 123-45-67", "enum_code": "MOB"}]
    assert multi_values(current, "+7 903 000-00-00", "PHONE", "WORK")[-1] == {  # type: ignore[index]
        "value": "8 495 111-22-33", "enum_code": "WORK"}
    assert multi_values([], "a@b.ru", "EMAIL", "WORK") == [{"value": "a@b.ru", "enum_code": "WORK"}]
    assert multi_values(current, None, "PHONE", "WORK") is None


def test_validation_errors_fail_only_their_records(emu: AmoCRMEmulator) -> None:
    ids = [str(i) for i in emu.add_records("contacts", [{"first_name": f"N{i}", "email": f"n{i}@x.ru"}
                                                         for i in range(120)])]
    con = _connector()
    updates = [FieldUpdate(rid, {"email": "broken" if n in (3, 77) else f"new{n}@x.ru"}) for n, rid in enumerate(ids)]
    outcomes = con.update(updates)
    failed = {o.record_id for o in outcomes if o.status == "failed"}
    assert failed == {ids[3], ids[77]}
    assert all("InvalidEmail" in (o.error or "") for o in outcomes if o.status == "failed")
    flat = emu.flat("contacts")
    assert flat[ids[5]]["email"] == "new5@x.ru" and flat[ids[3]]["email"] == "n3@x.ru"
    assert emu.request_count(method="PATCH") == 3 + 2  # 3 arrays of at most 50; each with a bad item once more


def test_unknown_or_read_only_fields_fail_per_record(emu: AmoCRMEmulator) -> None:
    [rid] = emu.add_records("contacts", [{"first_name": "A"}])
    con = _connector()
    [a, b] = con.update([FieldUpdate(str(rid), {"no_such_field": "x"}), FieldUpdate("C-1", {"first_name": "x"})])
    assert a.status == "failed" and "no writable field" in (a.error or "")
    assert b.status == "failed"


def test_paces_itself_to_seven_requests_a_second(emu: AmoCRMEmulator) -> None:
    emu.add_records("contacts", [{"first_name": f"N{i}"} for i in range(30 * 250)])
    con = _connector()
    assert sum(p.height for p in con.read_pages()) == 7500
    assert emu.request_count(status=429) == 0 and emu.request_count(status=403) == 0
    assert emu.fake_clock.slept >= (con.request_count - 7) / 7 * 0.95  # type: ignore[attr-defined]


def test_429_is_retried_and_403_block_is_final(emu: AmoCRMEmulator) -> None:
    emu.add_records("contacts", [{"first_name": "A"}])
    emu.inject("429", count=2)
    con = _connector()
    assert sum(p.height for p in con.read_pages()) == 1
    assert emu.request_count(status=429) == 2
    emu.inject("403", count=1)
    with pytest.raises(ConnectorError, match="403"):
        list(_connector().read_pages())


def test_ip_is_blocked_after_repeated_abuse() -> None:
    clock = FakeClock()
    emu = AmoCRMEmulator(clock=clock, block_after=5)
    auth = {"Authorization": f"Bearer {emu.access_token}"}
    statuses = [emu.handle("GET", "/api/v4/contacts", auth, b"")[0] for _ in range(20)]
    assert statuses[:7] == [204] * 7 and 429 in statuses and statuses[-1] == 403
    clock.sleep(61)
    assert emu.handle("GET", "/api/v4/contacts", auth, b"")[0] == 403 or clock.sleep(0) is None


def test_lost_reply_write_lands_and_retry_is_idempotent(emu: AmoCRMEmulator) -> None:
    [rid] = emu.add_records("contacts", [{"first_name": "A", "phone": "8 916 123-45-67"}])
    emu.inject("lost_reply", count=1, method="PATCH")
    con = _connector()
    [out] = con.update([FieldUpdate(str(rid), {"phone": "+79161234567"})])
    assert out.status == "ok"
    assert emu.flat("contacts")[str(rid)]["phone"] == "+79161234567"
    assert emu.request_count(status=500) == 1


def test_merge_tags_duplicates_and_notes_the_master_then_rollback_withdraws(emu: AmoCRMEmulator) -> None:
    master, dup1, dup2 = (str(i) for i in emu.add_records("contacts", [
        {"first_name": "Иван", "last_name": "Петров", "tags": "VIP"},
        {"first_name": "Ваня", "last_name": "Петров", "tags": "выставка"},
        {"first_name": "Иван", "last_name": "Петров"}]))
    con = _connector()
    assert "merge" in con.capabilities and "delete" not in con.capabilities and con.merge_keeps_records
    outcomes = con.merge(MergeRequest(master, (dup1, dup2), {"email": "ivan@x.ru"}))
    assert [(o.record_id, o.status) for o in outcomes] == [(master, "ok"), (dup1, "ok"), (dup2, "ok")]
    flat = emu.flat("contacts")
    assert flat[master]["email"] == "ivan@x.ru" and flat[master]["tags"] == "VIP"
    assert flat[dup1]["tags"] == f"выставка, {DUPLICATE_TAG}" and flat[dup2]["tags"] == DUPLICATE_TAG
    assert len(flat) == 3  # nothing merged or deleted: a steward merges them in the UI
    [note] = emu.notes_of("contacts", dup1)
    assert f"#{master}" in note["params"]["text"]
    con.update([FieldUpdate(dup1, {"tags": "выставка"})])  # what rollback writes
    assert emu.flat("contacts")[dup1]["tags"] == "выставка"
    assert emu.notes_of("contacts", dup1)[0]["params"]["text"].startswith("[withdrawn")
    assert con.delete([dup2])[0].status == "failed" and con.create([{"first_name": "x"}])[0].status == "failed"


def test_plan_show_says_duplicates_are_tagged_not_merged() -> None:
    plan = Plan(source=PlanSource(spec="amocrm:contacts", kind="amocrm", id_column="id"),
                operations=[MergeOp(cluster_id="c1", master_id="1", loser_ids=["2", "3"])])
    shown = render_plan_diff(plan)
    assert "tag as duplicates 2, 3" in shown and "merge away" not in shown
    assert "amoCRM cannot merge or delete through its API" in shown and "none removed" in shown
    hub = Plan(source=PlanSource(spec="hubspot:contacts", kind="hubspot", id_column="hs_object_id"),
               operations=[MergeOp(cluster_id="c1", master_id="1", loser_ids=["2"])])
    assert "merge away 2" in render_plan_diff(hub)


def test_credentials_are_required_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMOCRM_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("AMOCRM_BASE_URL", "https://example.amocrm.ru")
    with pytest.raises(ConnectorError, match="AMOCRM_ACCESS_TOKEN"):
        open_connector("amocrm:contacts")
    monkeypatch.setenv("AMOCRM_ACCESS_TOKEN", "secret-token-123")
    con = open_connector("amocrm:contacts")
    assert "secret-token-123" not in repr(con)
    with pytest.raises(UsageError):
        open_connector("amocrm:tasks")


def test_wrong_token_is_a_connector_error(emu: AmoCRMEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMOCRM_ACCESS_TOKEN", "tok-XYZ-secret")
    with pytest.raises(ConnectorError, match="401") as info:
        list(_connector().read_pages())
    assert "tok-XYZ-secret" not in str(info.value)


def test_companies_and_leads(emu: AmoCRMEmulator) -> None:
    emu.add_records("companies", [{"name": "ООО Ромашка", "phone": "8 495 111-22-33", "web": "romashka.ru"}])
    emu.add_records("leads", [{"name": "Сделка", "price": "1000"}])
    company = next(iter(_connector("companies").read_pages())).row(0, named=True)
    assert company["name"] == "ООО Ромашка" and company["phone"] == "8 495 111-22-33" and company["web"] == "romashka.ru"
    lead = next(iter(_connector("leads").read_pages())).row(0, named=True)
    assert lead["price"] == "1000"


def test_python_m_prints_the_variables_to_export(tmp_path: pytest.TempPathFactory) -> None:
    csv_file = tmp_path / "c.csv"  # type: ignore[operator]
    csv_file.write_text("Id,First Name,Phone,Mobile,Email\nC1,Иван,8 916 123-45-67,8 903 000-00-00,i@x.ru\n",
                        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "crmclean.testing.amocrm_emulator", "--load", str(csv_file)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    text = "".join(lines)
    assert "loaded 1 contacts" in text and "export AMOCRM_BASE_URL=http://127.0.0.1:" in text
    assert "export AMOCRM_ACCESS_TOKEN=" in text
