"""One date reader (crmclean.fields.dates): real CRM spellings give the same date in every place crmclean reads one.

The checks (DATE001/DATE003), the staleness checks (STALE001 via ``last_touch``) and survivorship
(``oldest`` / ``newest`` masters) are each driven over the same table of spellings and must agree.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/_match_helpers.py

from _match_helpers import table_from_rows

from crmclean.config import parse_rules
from crmclean.config.dedupe import SurvivorshipSettings
from crmclean.fields.dates import (
    date_digits,
    parse_dates,
    parse_dates_expr,
    to_dates,
    unreadable_dates,
)
from crmclean.matching.survivorship import golden_records
from crmclean.rules.checks._common import CheckContext
from crmclean.rules.checks.dates import parsed_column
from crmclean.rules.checks.hygiene import last_touch
from crmclean.validate import validate_table

D = datetime(2023, 1, 15)
DT = datetime(2023, 1, 15, 14, 30)

# (where the spelling comes from, the cell as exported, the datetime it means)
SPELLINGS: list[tuple[str, str, datetime]] = [
    ("ISO date (CSV exports, HubSpot date properties)", "2023-01-15", D),
    ("ISO datetime", "2023-01-15 14:30:00", DT),
    ("Salesforce REST / Bulk datetime", "2023-01-15T14:30:00.000+0000", DT),
    ("Salesforce / HubSpot API, UTC", "2023-01-15T14:30:00Z", DT),
    ("HubSpot API with milliseconds", "2023-01-15T14:30:00.123Z", DT),
    ("Bitrix24 REST", "2023-01-15T14:30:00+03:00", DT),
    ("HubSpot epoch milliseconds", "1673793000000", DT),
    ("amoCRM unix seconds", "1673793000", DT),
    ("1C export", "15.01.2023 0:00:00", D),
    ("1C export, afternoon", "15.01.2023 14:30:00", DT),
    ("Russian Excel/CSV", "15.01.2023", D),
    ("Russian with time (Bitrix24 CSV)", "15.01.2023 14:30", DT),
    ("Russian, two-digit year", "15.01.23", D),
    ("Russian, no leading zeros", "5.1.2023", datetime(2023, 1, 5)),
    ("Russian with 'г.'", "15.01.2023 г.", D),
    ("European slashes", "15/01/2023", D),
    ("dashes, day first", "15-01-2023", D),
    ("Russian month name", "15 января 2023", D),
    ("Russian short month and 'г.'", "15 янв 2023 г.", D),
    ("Russian short month with a dot", "15 янв. 2023 г.", D),
    ("English (US report)", "Jan 15, 2023", D),
    ("English long", "January 15th, 2023", D),
    ("Excel / Oracle", "15-Jan-2023", D),
    ("US export, month first with AM/PM", "1/15/2023 2:30 PM", DT),
    ("RFC 2822 (email-synced activity)", "Sun, 15 Jan 2023 14:30:00 GMT", DT),
    ("year first with dots", "2023.01.15", D),
    ("year first with slashes", "2023/01/15", D),
    ("compact YYYYMMDD", "20230115", D),
    ("Excel serial (1900 system)", "44941", D),
    ("Excel serial read from XLSX as a float", "44941.0", D),
    ("blanks around", "  15.01.2023 ", D),
]
TODAY = date(2026, 11, 23)


def _iso_day(moment: datetime, shift: int) -> str:
    return (moment + timedelta(days=shift)).strftime("%Y-%m-%d")


def test_the_table_has_enough_real_spellings() -> None:
    assert len(SPELLINGS) >= 20
    assert len({s for _, s, _ in SPELLINGS}) == len(SPELLINGS)


@pytest.mark.parametrize(("source", "spelling", "expected"), SPELLINGS, ids=[s for s, _, _ in SPELLINGS])
def test_each_spelling_alone(source: str, spelling: str, expected: datetime) -> None:
    assert parse_dates(pl.Series([spelling])).to_list() == [expected], source


def test_the_whole_table_as_one_column() -> None:
    values = pl.Series("Created", [s for _, s, _ in SPELLINGS])
    assert parse_dates(values).to_list() == [e for _, _, e in SPELLINGS]
    assert pl.DataFrame({"Created": values}).select(parse_dates_expr(pl.col("Created"))).to_series().to_list() == [
        e for _, _, e in SPELLINGS]
    assert not unreadable_dates(values).any()
    assert to_dates(values).to_list() == [e.date() for _, _, e in SPELLINGS]


def _rows(created: list[str], modified: list[str]) -> list[dict[str, str]]:
    return [{"Id": str(100 + i), "ФИО": f"Иванов Иван{i}", "Email": f"ivanov{i}@romashka.ru", "Дата создания": c,
             "Дата изменения": m} for i, (c, m) in enumerate(zip(created, modified, strict=True))]


def test_checks_and_staleness_read_every_spelling_as_the_table_says() -> None:
    spellings = [s for _, s, _ in SPELLINGS]
    expected = [e for _, _, e in SPELLINGS]
    table = table_from_rows(_rows(spellings, spellings))
    assert table.by_role.get("created_at") == ["Дата создания"]
    assert table.by_role.get("updated_at") == ["Дата изменения"]
    ctx = CheckContext(frame=table.frame, roles=table.by_role, id_column=table.id_column, today=TODAY)
    assert parsed_column(ctx, "Дата создания").to_list() == expected  # the checks' reader
    touch = last_touch(ctx)  # the staleness checks' reader
    assert touch is not None
    latest, present, unreadable = touch
    assert latest.to_list() == expected
    assert present.all() and not unreadable.any()

    rules = parse_rules("version: 1\n")
    found = validate_table(table, rules, today=TODAY, select=["DATE001", "STALE003"]).findings
    assert found.height == 0  # every spelling is readable to DATE001 and to staleness


def test_date_order_check_agrees_with_the_table() -> None:
    """DATE003 compares each spelling with an ISO day before/after the date the table says it is."""
    spellings = [s for _, s, _ in SPELLINGS]
    rules = parse_rules("version: 1\n")
    earlier = table_from_rows(_rows(spellings, [_iso_day(e, -1) for _, _, e in SPELLINGS]))
    later = table_from_rows(_rows(spellings, [_iso_day(e, 1) for _, _, e in SPELLINGS]))
    flagged = validate_table(earlier, rules, today=TODAY, select=["DATE003"]).findings
    assert sorted(flagged.get_column("record_id").to_list()) == sorted(earlier.frame.get_column("Id").to_list())
    assert validate_table(later, rules, today=TODAY, select=["DATE003"]).findings.height == 0


def test_staleness_agrees_with_the_table() -> None:
    spellings = [s for _, s, _ in SPELLINGS]
    table = table_from_rows(_rows(spellings, spellings))
    rules = parse_rules("version: 1\nvalidate:\n  stale_days: 30\n")
    newest = max(e for _, _, e in SPELLINGS).date()
    oldest = min(e for _, _, e in SPELLINGS).date()
    # the day after the 30th day since the newest date: every record is stale; on the 30th day of the oldest, none
    stale = validate_table(table, rules, today=newest + timedelta(days=31), select=["STALE001"]).findings
    assert stale.height == table.frame.height
    fresh = validate_table(table, rules, today=oldest + timedelta(days=30), select=["STALE001"]).findings
    assert fresh.height == 0


def test_survivorship_oldest_and_newest_agree_with_the_table() -> None:
    """Per spelling two clusters: the spelled record vs an ISO record a day younger, and one a day older."""
    created: list[str] = []
    clusters: list[str] = []
    for k, (_, spelling, moment) in enumerate(SPELLINGS):
        created += [_iso_day(moment, 1), spelling]  # the spelled record is the oldest of cluster Yk
        clusters += [f"Y{k}", f"Y{k}"]
        created += [_iso_day(moment, -1), spelling]  # ... and the newest of cluster Ok
        clusters += [f"O{k}", f"O{k}"]
    table = table_from_rows(_rows(created, created))
    ids = table.frame.get_column("Id").to_list()
    spelled = {clusters[i]: ids[i] for i in range(1, len(ids), 2)}
    label = pl.Series(clusters)

    def masters(rule: str) -> dict[str, str]:
        g = golden_records(table.frame, label, id_column=table.id_column, data_columns=table.data_columns,
                           roles=table.by_role, settings=SurvivorshipSettings(master=[rule]))
        ranks = g.masters.filter(pl.col("rank") == 0)
        return dict(zip(ranks.get_column("cluster_id"), ranks.get_column("record_id"), strict=True))

    oldest, newest = masters("oldest"), masters("newest")
    recent = masters("most_recently_modified")
    for k, (source, _, _) in enumerate(SPELLINGS):
        assert oldest[f"Y{k}"] == spelled[f"Y{k}"], source
        assert newest[f"O{k}"] == spelled[f"O{k}"], source
        assert recent[f"O{k}"] == spelled[f"O{k}"], source


# ---------------------------------------------------------------- decisions


def test_two_digit_years_pivot_like_excel() -> None:
    got = parse_dates(pl.Series(["01.01.00", "31.12.29", "01.01.30", "15.01.99", "1/15/23"])).to_list()
    assert got == [datetime(2000, 1, 1), datetime(2029, 12, 31), datetime(1930, 1, 1), datetime(1999, 1, 15),
                   datetime(2023, 1, 15)]


def test_ambiguous_slashes_follow_the_region_unambiguous_ones_never_do() -> None:
    assert parse_dates(pl.Series(["03/04/2024"])).to_list() == [datetime(2024, 4, 3)]  # default RU: day first
    assert parse_dates(pl.Series(["03/04/2024"]), region="RU").to_list() == [datetime(2024, 4, 3)]
    assert parse_dates(pl.Series(["03/04/2024"]), region="us").to_list() == [datetime(2024, 3, 4)]
    assert parse_dates(pl.Series(["03/04/2024"]), region="US", order="day_first").to_list() == [datetime(2024, 4, 3)]
    for region in ("RU", "US", "DE"):
        assert parse_dates(pl.Series(["13/04/2024", "04/13/2024"]), region=region).to_list() == [
            datetime(2024, 4, 13)] * 2
    # dotted dates are day first even for a US file
    assert parse_dates(pl.Series(["03.04.2024"]), region="US").to_list() == [datetime(2024, 4, 3)]


def test_the_column_decides_ambiguous_values_when_it_shows_one_order() -> None:
    assert parse_dates(pl.Series(["03/04/2024", "12/31/2024"])).to_list()[0] == datetime(2024, 3, 4)
    assert parse_dates(pl.Series(["03/04/2024", "31/12/2024"]), region="US").to_list()[0] == datetime(2024, 4, 3)
    # both orders present: the region decides
    assert parse_dates(pl.Series(["03/04/2024", "31/12/2024", "12/31/2024"])).to_list()[0] == datetime(2024, 4, 3)


def test_time_zones_keep_the_wall_clock_day() -> None:
    got = parse_dates(pl.Series(["2023-01-15T01:30:00+03:00", "2023-01-15T23:30:00-05:00"])).to_list()
    assert [g.date() for g in got] == [date(2023, 1, 15)] * 2


@pytest.mark.parametrize("value", [
    "31.02.2024", "29.02.2023", "2024-13-01", "2024-02-30", "32.01.2024", "15.01.2023 25:00", "15.01.2023 10:61",
    "13/13/2024", "вчера", "last week", "Q3", "n/a", "", "   ", "2024", "12345", "19999", "80001", "123456789",
    "0000-01-01", "15 мартобря 2023", "1/15/2023 13:30 PM",
])
def test_not_dates_are_null(value: str) -> None:
    assert parse_dates(pl.Series([value])).to_list() == [None]


def test_excel_serials_only_in_the_plausible_range() -> None:
    got = parse_dates(pl.Series(["20000", "45000", "80000"])).to_list()
    assert got == [datetime(1954, 10, 3), datetime(2023, 3, 15), datetime(2119, 1, 11)]


def test_leap_days_and_month_ends() -> None:
    got = parse_dates(pl.Series(["29.02.2024", "2000-02-29", "1900-02-28", "31.12.1999 23:59:59", "30 апреля 2024"]))
    assert got.to_list() == [datetime(2024, 2, 29), datetime(2000, 2, 29), datetime(1900, 2, 28),
                             datetime(1999, 12, 31, 23, 59, 59), datetime(2024, 4, 30)]
    assert parse_dates(pl.Series(["1900-02-29"])).to_list() == [None]


def test_date_and_number_columns() -> None:
    days = pl.Series("d", [date(2023, 1, 15), None])
    assert parse_dates(days).to_list() == [D, None]
    assert parse_dates(pl.Series("n", [1673793000000, None])).to_list() == [DT, None]
    aware = pl.Series("t", [datetime(2023, 1, 15, 14, 30, tzinfo=UTC)])
    assert parse_dates(aware).to_list() == [DT]
    assert parse_dates(pl.Series("e", [None, None], dtype=pl.String)).to_list() == [None, None]


def test_date_digits_are_iso_order_whatever_the_spelling() -> None:
    got = date_digits(pl.Series(["15.01.2023", "2023-01-15", "15 января 2023", "1/2/3/4"])).to_list()
    assert got == ["20230115", "20230115", "20230115", "1234"]


def test_fast_paths_agree_with_the_general_parser() -> None:
    from crmclean.fields.dates import _parse_unique

    values = pl.Series([s for _, s, _ in SPELLINGS] + ["31.02.2024", "2024-02-30T10:00:00Z", "15.01.2023 24:00",
                                                       "1.2.2023 9:05:00", "0000-01-01", "9999999999"])
    assert parse_dates(values).to_list() == _parse_unique(values, region=None, order="auto").to_list()


# ---------------------------------------------------------------- every spelling, any date

_RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
              "ноября", "декабря")
_RU_SHORT = ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")


def _spell(kind: str, moment: datetime) -> tuple[str, str | None] | None:
    """(spelling, region) of ``moment`` in one CRM style, or None when that style cannot say it."""
    d = moment
    epoch = int(d.replace(tzinfo=UTC).timestamp())
    serial = (d.date() - date(1899, 12, 30)).days
    styles: dict[str, tuple[str, str | None] | None] = {
        "iso": (d.date().isoformat(), None),
        "iso_time": (d.strftime("%Y-%m-%d %H:%M:%S"), None),
        "salesforce": (d.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), None),
        "bitrix": (d.strftime("%Y-%m-%dT%H:%M:%S+03:00"), None),
        "utc": (d.strftime("%Y-%m-%dT%H:%M:%SZ"), None),
        "ru": (d.strftime("%d.%m.%Y"), None),
        "ru_time": (d.strftime("%d.%m.%Y %H:%M"), None),
        "1c": (f"{d:%d.%m.%Y} {d.hour}:{d:%M:%S}", None),
        "ru_nopad": (f"{d.day}.{d.month}.{d.year}", None),
        "ru_yy": (d.strftime("%d.%m.%y"), None) if 1930 <= d.year <= 2029 else None,
        "ru_slash": (d.strftime("%d/%m/%Y"), "RU"),
        "ru_dash": (d.strftime("%d-%m-%Y"), None),
        "ru_month": (f"{d.day} {_RU_MONTHS[d.month - 1]} {d.year}", None),
        "ru_short": (f"{d.day} {_RU_SHORT[d.month - 1]}. {d.year} г.", None),
        "en": (f"{d:%b} {d.day}, {d.year}", None),
        "en_dash": (d.strftime("%d-%b-%Y"), None),
        "us": (f"{d.month}/{d.day}/{d.year} {(d.hour % 12) or 12}:{d:%M} {'PM' if d.hour >= 12 else 'AM'}", "US"),
        "dots_ymd": (d.strftime("%Y.%m.%d"), None),
        "epoch_ms": (str(epoch * 1000), None) if datetime(2001, 9, 9, 1, 46, 40) <= d < datetime(2286, 11, 20) else None,
        "epoch_s": (str(epoch), None) if datetime(2001, 9, 9, 1, 46, 40) <= d < datetime(2286, 11, 20) else None,
        "excel": (str(serial), None) if 20000 <= serial <= 80000 else None,
    }
    return styles[kind]


_KINDS = ("iso", "iso_time", "salesforce", "bitrix", "utc", "ru", "ru_time", "1c", "ru_nopad", "ru_yy", "ru_slash",
          "ru_dash", "ru_month", "ru_short", "en", "en_dash", "us", "dots_ymd", "epoch_ms", "epoch_s", "excel")
_TIMED = {"iso_time", "salesforce", "bitrix", "utc", "1c", "epoch_ms", "epoch_s"}
_MINUTES = {"ru_time", "us"}


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)),
       st.sampled_from(_KINDS))
def test_any_date_in_any_spelling_reads_back(moment: datetime, kind: str) -> None:
    moment = moment.replace(microsecond=0)
    spelled = _spell(kind, moment)
    if spelled is None:
        return
    text, region = spelled
    want = moment if kind in _TIMED else moment.replace(second=0) if kind in _MINUTES else datetime(
        moment.year, moment.month, moment.day)
    assert parse_dates(pl.Series([text]), region=region).to_list() == [want], text


def test_a_million_cells_in_about_a_second() -> None:
    n = 1_000_000
    base = datetime(2015, 1, 1)
    iso = pl.select((pl.lit(base) + pl.duration(seconds=pl.int_range(0, n) * 337)).dt.strftime(
        "%Y-%m-%dT%H:%M:%S.000+0000")).to_series()
    ru = pl.select((pl.lit(base) + pl.duration(days=pl.int_range(0, n) % 3000)).dt.strftime("%d.%m.%Y")).to_series()
    for column in (iso, ru):
        start = time.perf_counter()
        parsed = parse_dates(column)
        elapsed = time.perf_counter() - start
        assert parsed.null_count() == 0
        assert elapsed < 5.0, elapsed  # ~0.2–0.5 s on a quiet machine; generous for shared CI cores


def test_survivorship_without_date_columns_falls_through_to_the_next_rule() -> None:
    table = table_from_rows([{"Id": "1", "ФИО": "Иванов Иван", "Email": ""},
                             {"Id": "2", "ФИО": "Иванов Иван", "Email": "ivanov@romashka.ru"}])
    g = golden_records(table.frame, pl.Series(["A", "A"]), id_column=table.id_column,
                       data_columns=table.data_columns, roles=table.by_role,
                       settings=SurvivorshipSettings(master=["oldest", "most_complete"]))
    assert g.frame.get_column("master_id").to_list() == ["2"]


def test_no_date_spellings_are_blank_and_a_four_digit_year_is_that_year() -> None:
    # 1C writes an empty date as 01.01.0001 0:00:00, MySQL as 0000-00-00: blank, not 2001-01-01, not unreadable
    import polars as pl

    from crmclean.fields.dates import parse_dates, unreadable_dates

    values = pl.Series(["01.01.0001 0:00:00", "0001-01-01T00:00:00", "0000-00-00 00:00:00", "0000-00-00",
                        "15.01.2023 0:00:00", "01.01.01", "вчера"])
    parsed = parse_dates(values).to_list()
    assert parsed[:4] == [None] * 4 and parsed[4].year == 2023 and parsed[5].year == 2001 and parsed[6] is None
    assert unreadable_dates(values).to_list() == [False] * 6 + [True]
