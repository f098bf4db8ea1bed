"""The plan: built from change logs and golden records, saved, loaded with precise errors, shown as a diff."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli import app
from crmclean.connectors.base import values_hash
from crmclean.errors import ConfigError, CrmcleanError
from crmclean.rules.base import CHANGE_SCHEMA
from crmclean.sources import SourceOptions, open_source
from crmclean.table import finalize_table
from crmclean.writeback.plan import (
    MergeOp,
    Plan,
    build_plan,
    load_plan,
    parse_plan,
    plan_from_results,
    render_plan_diff,
    save_plan,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contacts.csv"
runner = CliRunner()


def table_of(rows: list[dict], id_column: str | None = "Id"):
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    return finalize_table(frame, source="crm.csv", kind="csv", id_column=id_column)


ROWS = [
    {"Id": "1", "ФИО": "ИВАНОВ ИВАН ИВАНОВИЧ", "Телефон": "8 (495) 123-45-67", "Город": "г. москва", "Email": None},
    {"Id": "2", "ФИО": "Иванов И.И.", "Телефон": "+7 495 1234567", "Город": "Москва", "Email": "ivanov@romashka.ru"},
    {"Id": "3", "ФИО": "Smith, John", "Телефон": "212.555.4517", "Город": "London", "Email": "JOHN@NORTHWIND.CO.UK"},
    {"Id": "4", "ФИО": "нет", "Телефон": "000", "Город": "-", "Email": "test@test.ru"},
]


def changes(*rows: tuple) -> pl.DataFrame:
    cols = list(CHANGE_SCHEMA)
    return pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], schema=CHANGE_SCHEMA)


def test_successive_rules_on_one_cell_collapse_to_first_before_last_after() -> None:
    t = table_of(ROWS)
    ch = changes(
        ("1", "Город", "г. москва", "москва", "CITY002", "fix", "prefix removed"),
        ("1", "Город", "москва", "Москва", "CITY001", "fix", "capitalized"),
        ("3", "Email", "JOHN@NORTHWIND.CO.UK", "john@northwind.co.uk", "EMAIL001", "fix", ""),
        ("3", "Телефон", "212.555.4517", "+12125554517", "PHONE001", "suggest", "country guessed"),
        ("4", "ФИО", "нет", "", "FILLER001", "fix", "filler"),
        ("2", "Email__domain", None, "romashka.ru", "EMAIL001", "fix", "derived"),
    )
    plan = plan_from_results(t, ch)
    ups = {(u.record_id, u.field): u for u in plan.updates}
    city = ups[("1", "Город")]
    assert (city.before, city.after, city.rule) == ("г. москва", "Москва", "CITY002+CITY001")
    assert city.reason == "prefix removed; capitalized"
    assert ("3", "Телефон") not in ups  # a suggestion needs --include-suggestions
    assert ups[("4", "ФИО")].after is None  # blanking a filler is a missing value
    assert all(u.field != "Email__domain" for u in plan.updates)
    assert any("Email__domain" in n for n in plan.notes)
    assert set(plan.versions) == {"1", "3", "4"}
    assert plan.versions["1"] == values_hash(t.frame.row(0, named=True))

    with_suggestions = plan_from_results(t, ch, include_suggestions=True)
    assert ("3", "Телефон") in {(u.record_id, u.field) for u in with_suggestions.updates}


def test_before_is_what_the_source_holds_and_noop_changes_vanish() -> None:
    t = table_of(ROWS)
    ch = changes(
        ("2", "Город", "МОСКВА", "Москва", "CITY001", "fix", ""),  # stale before: the source already says Москва
        ("1", "Телефон", "stale", "+7 495 123-45-67", "PHONE001", "fix", ""),
    )
    plan = plan_from_results(t, ch)
    assert [(u.record_id, u.before) for u in plan.updates] == [("1", "8 (495) 123-45-67")]


def test_golden_frame_from_dedupe_becomes_merges_pinned_to_post_update_versions() -> None:
    t = table_of(ROWS)
    ch = changes(("1", "Город", "г. москва", "Москва", "CITY001", "fix", ""))
    golden = pl.DataFrame({
        "cluster_id": ["1", "3"], "master_id": ["1", "3"], "loser_ids": ["2", "4"],
        "ФИО": ["Иванов Иван Иванович", "Smith, John"], "Телефон": ["8 (495) 123-45-67", "212.555.4517"],
        "Город": ["Москва", "London"], "Email": ["ivanov@romashka.ru", "JOHN@NORTHWIND.CO.UK"],
        "Email__all": ["ivanov@romashka.ru", None],
        "reasons": [json.dumps({"Email": {"rule": "most_complete", "from": "2"}}), "{}"],
        "decision": ["match", "review"],
    })
    plan = plan_from_results(t, ch, golden)
    assert len(plan.merges) == 1  # a `review` cluster is never merged automatically
    m = plan.merges[0]
    assert (m.master_id, m.loser_ids) == ("1", ["2"])
    assert m.values == {"ФИО": "Иванов Иван Иванович", "Email": "ivanov@romashka.ru"}  # Город already planned
    assert m.reasons["Email"] == "most_complete (from 2)"
    after_update = dict(t.frame.row(0, named=True), **{"Город": "Москва"})
    assert values_hash(after_update) in m.versions["1"]
    assert plan.versions["1"] in m.versions["1"]  # also acceptable before the updates land
    assert m.snapshots["2"]["ФИО"] == "Иванов И.И."


def test_merges_are_left_out_for_a_file_without_id_column() -> None:
    rows = [{k: v for k, v in r.items() if k != "Id"} for r in ROWS]
    t = table_of(rows, id_column=None)
    assert t.id_column == "__row_id"
    golden = [{"cluster_id": "c", "master_id": "1", "loser_ids": ["2"], "values": {}, "reasons": {}}]
    plan = plan_from_results(t, None, golden)
    assert plan.merges == []
    assert any("no id column" in n for n in plan.notes)


def test_save_load_round_trip_and_errors(tmp_path: Path) -> None:
    t = table_of(ROWS)
    plan = plan_from_results(t, changes(("3", "Email", "JOHN@NORTHWIND.CO.UK", "john@northwind.co.uk", "EMAIL001",
                                         "fix", "")),
                             [{"cluster_id": "k", "master_id": "1", "loser_ids": "2; 4", "values": {}, "reasons": {}}])
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert "ИВАНОВ ИВАН ИВАНОВИЧ" in path.read_text(encoding="utf-8")  # readable, not \\u-escaped
    again = load_plan(path)
    assert again == plan
    assert isinstance(again.operations[1], MergeOp) and again.operations[1].loser_ids == ["2", "4"]

    bad = tmp_path / "bad.json"
    bad.write_text('{"plan_version": 1,\n  "source": }', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_plan(bad)
    assert err.value.line == 2 and "not valid JSON" in str(err.value)

    data = json.loads(path.read_text(encoding="utf-8"))
    del data["operations"][0]["record_id"]
    with pytest.raises(ConfigError, match=r"operations\.0\.update\.record_id"):
        parse_plan(json.dumps(data), "p.json")
    data["plan_version"] = 7
    with pytest.raises(ConfigError, match="plan_version 7 is not supported"):
        parse_plan(json.dumps(data), "p.json")
    with pytest.raises(CrmcleanError, match="plan file not found"):
        load_plan(tmp_path / "missing.json")


def test_diff_shows_each_change_and_merge() -> None:
    t = table_of(ROWS)
    plan = plan_from_results(
        t, changes(("4", "ФИО", "нет", None, "FILLER001", "fix", "")),
        [{"cluster_id": "k1", "master_id": "1", "loser_ids": ["2"], "values": {"Email": "ivanov@romashka.ru"},
          "reasons": {"Email": {"rule": "most_complete", "from": "2"}}}],
    )
    text = render_plan_diff(plan)
    assert '~ record 4  (нет)' in text
    assert 'ФИО  "нет" → ∅  [FILLER001]' in text
    assert "± merge k1: keep 1 (ИВАНОВ ИВАН ИВАНОВИЧ), merge away 2" in text
    assert 'Email  ∅ → "ivanov@romashka.ru"  (most_complete (from 2))' in text
    assert text.rstrip().endswith("Plan: 1 field update(s) in 1 record(s), 1 merge(s) (1 record(s) merged away).")


def test_build_plan_on_the_sample_export() -> None:
    table, rules, connector = open_source(str(EXAMPLE), None, SourceOptions())
    plan = build_plan(table, rules, version_of=connector.version_of)
    assert isinstance(plan, Plan)
    assert plan.source.id_column == "Id" and plan.source.kind == "csv"
    fields = {u.field for u in plan.updates}
    assert {"Телефон", "Email", "ФИО"} <= fields
    assert all(u.rule for u in plan.updates)
    touched = {u.record_id for u in plan.updates} | {m.master_id for m in plan.merges}
    assert touched <= set(plan.versions)
    for m in plan.merges:
        assert m.master_id not in m.loser_ids and set(m.snapshots) == {m.master_id, *m.loser_ids}


def test_cli_plan_saves_shows_and_refuses_bad_steps(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", str(EXAMPLE), "--steps", "standardize", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)["summary"]
    assert summary["updates"] > 0 and summary["merges"] == 0
    shown = runner.invoke(app, ["plan", "--show", str(out), "--limit", "2"])
    assert shown.exit_code == 0 and "more record(s) with updates" in shown.output
    as_json = runner.invoke(app, ["plan", "--show", str(out), "--json"])
    assert json.loads(as_json.output)["plan_version"] == 1
    bad = runner.invoke(app, ["plan", str(EXAMPLE), "--steps", "score"])
    assert isinstance(bad.exception, CrmcleanError) and "--steps" in str(bad.exception)
    nothing = runner.invoke(app, ["plan"])
    assert isinstance(nothing.exception, CrmcleanError)
