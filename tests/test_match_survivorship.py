"""Survivorship: master rules with tie-breakers and per-column field rules build each cluster's golden record."""

from __future__ import annotations

import json

import polars as pl
from _match_helpers import table_from_rows

from crmclean.config.dedupe import SurvivorshipSettings
from crmclean.matching.survivorship import golden_records, rank_members

ROWS = [
    {"Id": "10", "ФИО": "Иванов Иван", "Email": "", "Телефон": "+7 495 111-22-33", "Компания": "ООО Ромашка",
     "Комментарий": "Звонил, просил КП", "Сумма": "1200", "Дата создания": "15.03.2021 10:00",
     "Дата изменения": "01.02.2024 12:00"},
    {"Id": "11", "ФИО": "Иванов Иван Иванович", "Email": "ivanov@romashka.ru", "Телефон": "+7 916 555-44-33",
     "Компания": "Ромашка", "Комментарий": "VIP", "Сумма": "900", "Дата создания": "2019-06-01 09:00:00",
     "Дата изменения": "2020-01-01 00:00:00"},
    {"Id": "12", "ФИО": "Ivanov Ivan", "Email": "ivan@gmail.com", "Телефон": "+7 495 111-22-33",
     "Компания": "Romashka LLC", "Комментарий": "VIP", "Сумма": "", "Дата создания": "2022-01-01",
     "Дата изменения": "2025-05-05"},
    {"Id": "20", "ФИО": "Smith John", "Email": "john@acme.com", "Телефон": "", "Компания": "Acme",
     "Комментарий": "", "Сумма": "", "Дата создания": "2020-01-01", "Дата изменения": "2020-01-02"},
]


def _golden(settings: SurvivorshipSettings) -> tuple[pl.DataFrame, pl.DataFrame]:
    table = table_from_rows(ROWS)
    clusters = pl.Series(["A", "A", "A", "B"])
    g = golden_records(table.frame, clusters, id_column=table.id_column, data_columns=table.data_columns,
                       roles=table.by_role, settings=settings)
    return g.frame, g.masters


def test_most_complete_then_oldest_picks_the_master() -> None:
    frame, masters = _golden(SurvivorshipSettings())
    assert frame.height == 1  # single-record clusters get no golden record
    row = frame.row(0, named=True)
    assert row["master_id"] == "11"  # most complete (every field filled) and oldest
    assert set(row["loser_ids"].split("; ")) == {"10", "12"}
    assert masters.filter(pl.col("record_id") == "20").get_column("rank")[0] == 0


def test_master_rules_in_order_are_tie_breakers() -> None:
    frame, _ = _golden(SurvivorshipSettings(master=["most_recently_modified"]))
    assert frame.row(0, named=True)["master_id"] == "12"
    frame, _ = _golden(SurvivorshipSettings(master=["newest"]))
    assert frame.row(0, named=True)["master_id"] == "12"
    frame, _ = _golden(SurvivorshipSettings(master=["oldest"]))
    assert frame.row(0, named=True)["master_id"] == "11"


def test_field_rules() -> None:
    settings = SurvivorshipSettings(
        master=["oldest"],
        fields={"Комментарий": "concat_unique", "Телефон": "keep_all", "Сумма": "max", "ФИО": "longest",
                "Email": "most_recent", "Компания": "most_frequent"},
    )
    frame, _ = _golden(settings)
    row = frame.row(0, named=True)
    assert row["Комментарий"] == "VIP; Звонил, просил КП"  # master's first, duplicates removed
    assert row["Телефон"] == "+7 916 555-44-33"  # master's value ...
    assert set(row["Телефон__all"].split("; ")) == {"+7 916 555-44-33", "+7 495 111-22-33"}  # ... and all others
    assert row["Сумма"] == "1200"  # numeric max, not text max ("900" > "1200" as text)
    assert row["ФИО"] == "Иванов Иван Иванович"
    assert row["Email"] == "ivan@gmail.com"  # from the most recently modified record
    reasons = json.loads(row["reasons"])
    assert reasons["Email"] == {"rule": "most_recent", "from": "12"}
    assert reasons["Сумма"]["from"] == "10"


def test_source_priority_master_rule() -> None:
    table = table_from_rows([dict(r, Источник=s) for r, s in zip(ROWS, ["Import", "Сайт", "Salesforce", "Сайт"],
                                                                  strict=True)])
    settings = SurvivorshipSettings(master=["source_priority"], source_column="Источник",
                                    source_priority=["Salesforce", "Сайт"])
    ranked = rank_members(table.frame, pl.Series(["A", "A", "A", "B"]), id_column=table.id_column,
                          data_columns=table.data_columns, roles=table.by_role, settings=settings)
    assert ranked.filter(pl.col("rank") == 0).sort("cluster_id").get_column("record_id").to_list() == ["12", "20"]


def test_placeholder_never_becomes_a_golden_value() -> None:
    import polars as pl

    from crmclean.config.dedupe import SurvivorshipSettings
    from crmclean.matching.survivorship import golden_records

    frame = pl.DataFrame({
        "Id": ["1", "2"],
        "Email": ["n/a", "ivan.petrov@romashka.ru"],
        "Телефон": ["нет", "+74951234567"],
        "Created": ["2020-01-01", "2024-01-01"],
    })
    out = golden_records(frame, pl.Series(["1", "1"]), id_column="Id", data_columns=frame.columns,
                         roles={"email": ["Email"], "phone": ["Телефон"], "created_at": ["Created"]},
                         settings=SurvivorshipSettings())
    row = out.frame.row(0, named=True)
    assert row["Email"] == "ivan.petrov@romashka.ru"
    assert row["Телефон"] == "+74951234567"


def test_the_column_wise_fullest_fold_agrees_with_the_per_cluster_rule() -> None:
    """fullest decides clusters of simple names whose spellings differ column-wise (_fullest_fold): on clusters of
    abbreviations, initials, padded, cased and glued spellings — and cells outside the simple characters (ß, Greek,
    tabs, no-break spaces) that stay with the loop — it gives what _safe_value gives each cluster, value and source."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from crmclean.matching.survivorship import _safe_part, _safe_value

    names = st.sampled_from([None, "", " ", "Жуков А.В.", "Жуков Алексей Викторович", "Жуков А. В.", "Жуков",
                             "жуков алексей", "Жуков АВ", "  Жуков  Алексей ", "Жуков.Алексей", "АВ", "J. Smith",
                             "John Smith", "Smith J.R.", "Smith John Robert", "ООО «Ромашка»", "ООО «Ромашка» Москва",
                             "Straße S.", "Straße Stefan", "Σ. Σίσυφος", "a\tb", "a\u00a0b"])
    cell = st.one_of(names, st.text(alphabet="ЖжАаВв. JjSs", max_size=8))
    clusters = st.lists(st.lists(cell, min_size=1, max_size=6), min_size=1, max_size=8)

    @settings(max_examples=25, deadline=None)
    @given(clusters)
    def check(groups: list[list[str | None]]) -> None:
        rows = pl.DataFrame({
            "cluster_id": [f"c{k}" for k, g in enumerate(groups) for _ in g],
            "record_id": [f"r{k}_{j}" for k, g in enumerate(groups) for j in range(len(g))],
            "v": [c for g in groups for c in g]}, schema={"cluster_id": pl.String, "record_id": pl.String,
                                                          "v": pl.String})
        got = _safe_part(rows, "v", "fullest")
        for k, g in enumerate(groups):
            want = _safe_value([f"r{k}_{j}" for j in range(len(g))], g, "fullest")
            assert (got["v"][k], got["_src_v"][k]) == want, g

    check()


def test_the_column_wise_safe_rules_agree_with_the_per_cluster_rule() -> None:
    """_safe_part decides plain clusters column-wise (_uniform_aggs) and the rest one by one (_safe_value):
    on any clusters of cells — plain, blank, padded, multi-valued, restrictive — both must give what
    _safe_value gives each cluster."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from crmclean.matching.survivorship import _safe_part, _safe_value

    cell = st.sampled_from([None, "", " ", "да", "нет", "Yes", "no", "Иванов", "Иванов И.", "Иванов Иван",
                            "+74951234567", "+74951234567, +79161234567", " x ", "a; b", "a / b", "b"])
    clusters = st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=6)

    @settings(max_examples=60, deadline=None)
    @given(clusters, st.sampled_from(["most_restrictive:opt_out", "most_restrictive:consent", "fullest",
                                      "all_values"]))
    def check(groups: list[list[str | None]], rule: str) -> None:
        rows = pl.DataFrame({
            "cluster_id": [f"c{k}" for k, g in enumerate(groups) for _ in g],
            "record_id": [f"r{k}_{j}" for k, g in enumerate(groups) for j in range(len(g))],
            "v": [c for g in groups for c in g]}, schema={"cluster_id": pl.String, "record_id": pl.String,
                                                          "v": pl.String})
        got = _safe_part(rows, "v", rule)
        assert got.get_column("cluster_id").to_list() == [f"c{k}" for k in range(len(groups))]
        for k, g in enumerate(groups):
            want = _safe_value([f"r{k}_{j}" for j in range(len(g))], g, rule)
            assert (got["v"][k], got["_src_v"][k]) == want, (g, rule)

    check()


def test_masters_list_every_record_in_the_frames_order() -> None:
    """golden_records' masters hold every record once, in the frame's row order (the engine reads each record's
    rank by position), the members of a cluster ranked 0, 1, ... and a single record ranked 0."""
    table = table_from_rows(ROWS)
    clusters = pl.Series(["B", "A", "B", "C"])  # clusters interleaved with the rows
    g = golden_records(table.frame, clusters, id_column=table.id_column, data_columns=table.data_columns,
                       roles=table.by_role, settings=SurvivorshipSettings())
    assert g.masters.get_column("record_id").to_list() == ["10", "11", "12", "20"]
    assert g.masters.get_column("cluster_id").to_list() == ["B", "A", "B", "C"]
    ranks = g.masters.get_column("rank").to_list()
    assert sorted([ranks[0], ranks[2]]) == [0, 1] and ranks[1] == 0 and ranks[3] == 0
