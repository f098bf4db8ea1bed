"""The Bitrix24 connector against its emulator: paging, multi-value round trips, verified writes, merges, findbycomm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.connectors.base import FieldUpdate, MergeRequest
from crmclean.connectors.bitrix24 import Bitrix24Connector, parse_where
from crmclean.connectors.bitrix24.multifield import item_operations, join_items
from crmclean.connectors.bitrix24.phpquery import build, parse
from crmclean.errors import ConnectorError
from crmclean.testing.bitrix24_emulator import Bitrix24Emulator
from tests._crm_e2e import FakeClock


def _people(n: int) -> list[dict[str, Any]]:
    return [{"NAME": f"Иван{i}", "LAST_NAME": "Петров", "POST": "менеджер",
             "PHONE": [{"VALUE": f"8 916 {i:07d}", "VALUE_TYPE": "MOBILE"},
                       {"VALUE": f"8 495 {i:07d}", "VALUE_TYPE": "WORK"}],
             "EMAIL": [{"VALUE": f"ivan{i}@example.ru", "VALUE_TYPE": "WORK"}],
             "UF_CRM_INN": "7707083893"} for i in range(1, n + 1)]


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Bitrix24Emulator, FakeClock]]:
    clock = FakeClock()
    with Bitrix24Emulator({"contacts": _people(120)}, clock=clock, timeout_delay=0.01) as emu:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        yield emu, clock


def _connector(clock: FakeClock, **kw: Any) -> Bitrix24Connector:
    return Bitrix24Connector("contacts", ConnectorOptions(), sleep=clock.sleep, clock=clock, **kw)


def test_php_query_round_trip() -> None:
    params = {"id": "7", "fields": {"NAME": "Иван", "PHONE": [{"ID": "3", "VALUE": "+7 916 1"}, {"VALUE": "x y&z"}]},
              "filter": {">ID": 5, "@ID": ["1", "2"]}}
    assert parse(build(params)) == {"id": "7", "fields": {"NAME": "Иван", "PHONE": [{"ID": "3", "VALUE": "+7 916 1"},
                                                                                  {"VALUE": "x y&z"}]},
                                    "filter": {">ID": "5", "@ID": ["1", "2"]}}
    assert parse("select[]=ID&select[]=NAME") == {"select": ["ID", "NAME"]}


def test_cell_to_item_operations() -> None:
    items = [{"ID": "1", "VALUE": "8 916 1234567", "VALUE_TYPE": "MOBILE"},
             {"ID": "2", "VALUE": "a@b.ru", "VALUE_TYPE": "WORK"}, {"ID": "3", "VALUE": "old", "VALUE_TYPE": "HOME"}]
    assert join_items(items) == "8 916 1234567, a@b.ru, old"
    assert item_operations(items, "8 916 1234567, a@b.ru, old") == []  # unchanged: nothing sent
    # changed -> replace in place keeping the type; removed -> DELETE; new -> no ID
    assert item_operations(items, "+7 916 123-45-67, a@b.ru") == [
        {"ID": "1", "VALUE": "+7 916 123-45-67", "VALUE_TYPE": "MOBILE"}, {"ID": "3", "DELETE": "Y"}]
    assert item_operations(items, "8 916 1234567, a@b.ru, old, new@x.ru") == [{"VALUE": "new@x.ru",
                                                                               "VALUE_TYPE": "WORK"}]
    assert item_operations(items[:2], "8 916 1234567, A@B.RU") == [{"ID": "2", "VALUE": "A@B.RU", "VALUE_TYPE": "WORK"}]


def test_where_syntax() -> None:
    assert parse_where("SOURCE_ID = CALL AND DATE_CREATE >= '2024-01-01' AND NAME ~ Ив AND ID IN (1, 2)") == {
        "=SOURCE_ID": "CALL", ">=DATE_CREATE": "2024-01-01", "%NAME": "Ив", "@ID": ["1", "2"]}


def test_key_set_paging_with_explicit_select(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    _, clock = portal
    con = open_connector("bitrix24:contacts", ConnectorOptions())
    assert isinstance(con, Bitrix24Connector) and con.kind == "bitrix24"
    con = _connector(clock)
    frame = pl.concat(list(con.read_pages()))
    assert frame.height == 120 and frame.get_column("ID").to_list() == [str(i) for i in range(1, 121)]
    # '*' would leave these out: the connector names them
    assert {"PHONE", "EMAIL", "UF_CRM_INN", "DATE_MODIFY"} <= set(frame.columns)
    assert frame.row(0, named=True)["PHONE"] == "8 916 0000001, 8 495 0000001"
    assert con.request_count == 1 + 3  # fields + three pages of 50 (the last one short)
    row = frame.row(0, named=True)
    version = con.version_of(row)
    assert con.version_of({**row, "DATE_MODIFY": "2030-01-01T00:00:00+03:00"}) == version  # the portal's own stamp
    assert con.version_of({**row, "POST": "другая"}) != version  # a person's edit
    narrowed = pl.concat(list(con.read_pages(["NAME"], where="NAME = Иван7")))
    assert narrowed.get_column("ID").to_list() == ["7"] and narrowed.columns == ["ID", "NAME", "DATE_MODIFY"]


def test_multi_value_round_trip_without_loss(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    before = emu.record("contacts", 1)
    assert before is not None
    outcomes = con.update([
        FieldUpdate("1", {"PHONE": "+7 916 000-00-01, +7 495 000-00-01"}),  # both replaced in place
        FieldUpdate("2", {"EMAIL": "ivan2@example.ru, ivan.home@example.ru"}),  # one added
        FieldUpdate("3", {"PHONE": "8 495 0000003"}),  # one removed
    ])
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"], outcomes
    one = emu.record("contacts", 1)
    assert one is not None
    assert [(i["ID"], i["VALUE"], i["VALUE_TYPE"]) for i in one["PHONE"]] == [
        (before["PHONE"][0]["ID"], "+7 916 000-00-01", "MOBILE"), (before["PHONE"][1]["ID"], "+7 495 000-00-01", "WORK")]
    two = emu.record("contacts", 2)
    assert two is not None and [i["VALUE"] for i in two["EMAIL"]] == ["ivan2@example.ru", "ivan.home@example.ru"]
    three = emu.record("contacts", 3)
    assert three is not None and [(i["VALUE"], i["VALUE_TYPE"]) for i in three["PHONE"]] == [("8 495 0000003", "WORK")]
    assert con.fetch(["1"])["1"]["PHONE"] == "+7 916 000-00-01, +7 495 000-00-01"


def test_an_ignored_write_is_reported_failed(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    emu.inject("ignore_write", count=1)
    out = con.update([FieldUpdate("4", {"POST": "Директор"}), FieldUpdate("5", {"UF_CRM_NO_SUCH": "x"}),
                      FieldUpdate("6", {"POST": "Директор"})])
    assert out[0].status == "failed" and "did not store" in str(out[0].error)
    assert out[1].status == "failed" and "UF_CRM_NO_SUCH" in str(out[1].error)  # unknown field: silently ignored
    assert out[2].status == "ok"
    assert emu.record("contacts", 6)["POST"] == "Директор"  # type: ignore[index]


def test_a_lost_answer_does_not_add_items_twice(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    emu.inject("lost_reply", count=1, method_contains="batch")
    out = con.update([FieldUpdate("7", {"EMAIL": "ivan7@example.ru, second@example.ru"})])
    assert out[0].status == "ok"
    rec = emu.record("contacts", 7)
    assert rec is not None and [i["VALUE"] for i in rec["EMAIL"]] == ["ivan7@example.ru", "second@example.ru"]
    assert emu.request_count(status=500) == 1


def test_rate_limit_is_waited_out(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    for i in range(60):  # more than the bucket: the client waits on the (fake) clock instead of being refused
        con.fetch([str(i + 1)])
    assert con.bucket.waited > 0 and emu.request_count(status=503) == 0
    emu.inject("503", count=2)
    assert con.fetch(["1"])["1"]["ID"] == "1" and con.retries >= 2


def test_secret_never_shown(portal: tuple[Bitrix24Emulator, FakeClock], monkeypatch: pytest.MonkeyPatch) -> None:
    emu, clock = portal
    monkeypatch.setenv("BITRIX24_WEBHOOK_URL", emu.webhook_url.replace(emu.secret, "wrongsecret123"))
    con = _connector(clock)
    with pytest.raises(ConnectorError) as caught:
        con.describe()
    assert "wrongsecret123" not in str(caught.value) and "***" in str(caught.value)
    assert "wrongsecret123" not in repr(con)
    monkeypatch.setenv("BITRIX24_WEBHOOK_URL", "https://x.bitrix24.ru/hook/topsecret")
    with pytest.raises(ConnectorError) as bad:
        _connector(clock)
    assert "topsecret" not in str(bad.value)


def test_batch_semantics(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    _, clock = portal
    con = _connector(clock)
    reply = con._batch({"a": ("crm.contact.get", {"id": 1}), "b": ("crm.contact.get", {"id": 99999}),
                        "c": ("crm.contact.list", {"filter": {"@ID": ["1", "2"]}, "select": ["ID"]})},
                       idempotent=True)
    assert reply["result"]["a"]["ID"] == "1" and "b" in reply["result_error"] and reply["result_total"]["c"] == 2
    with pytest.raises(Exception, match="ERROR_BATCH_LENGTH_EXCEEDED"):
        con._batch({f"x{i}": ("crm.contact.get", {"id": 1}) for i in range(51)}, idempotent=True)


def test_merge_batch_and_conflict(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    # different names: the connector makes the duplicates agree with the plan, then Bitrix24 merges
    out = con.merge(MergeRequest("10", ("11", "12"), {"POST": "CEO"}))
    assert [o.status for o in out] == ["ok", "ok", "ok"], out
    assert emu.merged_into("contacts", 11) == "10" and emu.record("contacts", 11) is None
    master = emu.record("contacts", 10)
    assert master is not None and master["POST"] == "CEO" and master["NAME"] == "Иван10"
    assert [i["VALUE"] for i in master["PHONE"]] == ["8 916 0000010", "8 495 0000010"]  # as planned: nothing pooled
    # a CONFLICT the portal still reports is never guessed: every record failed, with the merge page, nothing changed
    emu.inject("merge_conflict")
    before = {rid: emu.record("contacts", rid) for rid in (20, 21)}
    out = con.merge(MergeRequest("20", ("21",), {"POST": "CTO"}))
    assert [o.status for o in out] == ["failed", "failed"]
    assert "CONFLICT" in str(out[0].error) and "/crm/contact/merge/?id=20,21" in str(out[1].error)
    after = {rid: emu.record("contacts", rid) for rid in (20, 21)}
    assert all(after[r] is not None for r in after)
    assert {r: (after[r] or {}).get("POST") for r in after} == {r: (before[r] or {}).get("POST") for r in before}


def test_emulator_merge_semantics() -> None:
    with Bitrix24Emulator({"contacts": [{"NAME": "Иван", "EMAIL": "a@x.ru"}, {"NAME": "Иван", "POST": "CEO",
                                                                              "EMAIL": "b@x.ru"},
                                        {"NAME": "Пётр"}]}, burst=0) as emu:
        reply = emu.handle("POST", f"/rest/1/{emu.secret}/crm.entity.mergeBatch.json",
                           json.dumps({"params": {"entityTypeId": 3, "entityIds": [1, 3]}}).encode())
        assert reply.body["result"] == {"STATUS": "CONFLICT", "ENTITY_IDS": []}
        reply = emu.handle("POST", f"/rest/1/{emu.secret}/crm.entity.mergeBatch.json",
                           json.dumps({"params": {"entityTypeId": 3, "entityIds": [1, 2]}}).encode())
        assert reply.body["result"] == {"STATUS": "SUCCESS", "ENTITY_IDS": [2]}
        master = emu.record("contacts", 1)
        assert master is not None and master["POST"] == "CEO" and [i["VALUE"] for i in master["EMAIL"]] == [
            "a@x.ru", "b@x.ru"]


def test_findbycomm_finds_existing_people(portal: tuple[Bitrix24Emulator, FakeClock]) -> None:
    emu, clock = portal
    con = _connector(clock)
    frame = pl.DataFrame({"tel": ["+7 (916) 000-00-05", "+7 999 1112233", None],
                          "mail": [None, None, "IVAN9@example.ru"]})
    found = con.find_existing(frame, ["tel"], ["mail"])
    assert sorted(found.select("row", "existing_id").rows()) == [(0, "5"), (2, "9")]
    emu.reset_requests()
    many = pl.DataFrame({"tel": [f"8 916 {i:07d}" for i in range(1, 101)]})
    assert con.find_existing(many, ["tel"], []).height == 100
    assert emu.request_count("batch") == 1  # 5 findbycomm commands of 20 values in one batch


def test_validate_against_bitrix24_uses_findbycomm(portal: tuple[Bitrix24Emulator, FakeClock], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from crmclean.cli import app

    emu, _ = portal
    monkeypatch.setenv("CRMCLEAN_STORE", str(tmp_path / "runs.duckdb"))
    leads = tmp_path / "leads.csv"
    # a different name (no fuzzy match) but a phone the portal holds: only findbycomm can find this person
    leads.write_text("Id,Имя,Фамилия,Телефон,Email\nL1,Пётр,Сидоров,+7 (916) 000-00-42,\n"
                     "L2,Анна,Смирнова,+7 903 555-66-77,anna@other.ru\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", str(leads), "--against", "bitrix24:contacts", "--json",
                                      "--out", str(tmp_path / "out")], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output[-2000:]
    assert emu.request_count("batch") >= 1
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    exists = [c for c in report["checks"] if c["code"] == "EXISTS001"]
    assert exists and exists[0]["records"] == 1, exists
