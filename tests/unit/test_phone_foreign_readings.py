"""foreign_readings (column-wise) gives what foreign_reading gives value by value, in every default region."""

from __future__ import annotations

import polars as pl
import pytest

from crmclean.fields.phone import foreign_reading, foreign_readings

VALUES = [
    "(212) 555-0142", "(917) 555-0142", " 212.555.0142 ", "2125550142", "(212)555-0142", "1 212 555 0142",
    "1-617-526-2139", "(604) 555-0142", "44 20 7946 0958", "020 8439 7465", "02013551440", "07955913116",
    "8 495 123 45 67", "84951234567", "8-915-582-93-40", "7 988 4628666", "(212) 555-0142 доб. 5",
    "030 8455592 ext. 222", "0000000000", "1111111111", "+1 212 555 0142", "тел. 212-555-0142", "", "12345",
    None,
]


@pytest.mark.parametrize("region", ["RU", "US", "CA", "GB", "DE", "KZ"])
def test_same_as_one_by_one(region: str) -> None:
    got = foreign_readings(pl.Series(VALUES, dtype=pl.String), region)
    for value, (kind, e164, where) in zip(VALUES, got.iter_rows(), strict=True):
        one = foreign_reading(value, region) if value is not None else None
        assert (kind, e164, where) == ((one.kind, one.e164, one.region) if one else (None, None, None)), value


_SEP = ["", " ", "-", ".", "(", ")"]


@pytest.mark.parametrize("region", ["RU", "US"])
def test_same_as_one_by_one_on_any_plain_number(region: str) -> None:
    """The batch path takes its readings from the fast parser: over random digit strings with separators (ten to
    thirteen digits, leading 0, 1, 7 or 8 and others), it must agree with the one-by-one reading everywhere."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    digit = st.sampled_from("0123456789")
    number = st.tuples(st.sampled_from(["0", "1", "7", "8", "2", "4", "9"]),
                       st.lists(st.tuples(st.sampled_from(_SEP), digit), min_size=9, max_size=12)).map(
        lambda t: t[0] + "".join(s + d for s, d in t[1]))

    @settings(max_examples=25, deadline=None)
    @given(st.lists(number, min_size=1, max_size=15))
    def check(values: list[str]) -> None:
        got = foreign_readings(pl.Series(values, dtype=pl.String), region)
        for value, row in zip(values, got.iter_rows(), strict=True):
            one = foreign_reading(value, region)
            assert row == ((one.kind, one.e164, one.region) if one else (None, None, None)), value

    check()


@pytest.mark.parametrize("region", ["RU", "US"])
def test_profile_run_reads_what_changes_a_value(region: str) -> None:
    """A run that keeps no proposals (the match profile) reads other countries only for cells the default region
    reads: PHONE001's fixed values and derived columns are the same as a full run's on any plain, North-American,
    labelled or extension number (an "elsewhere" reading is only a suggestion)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from crmclean.rules.standardizers.phones import PhoneE164
    from crmclean.standardize import StandardizeContext

    digit = st.sampled_from("0123456789")
    plain = st.tuples(st.sampled_from(["0", "1", "7", "8", "2", "4", "9"]),
                      st.lists(st.tuples(st.sampled_from(_SEP), digit), min_size=9, max_size=12)).map(
        lambda t: t[0] + "".join(s + d for s, d in t[1]))
    area = st.one_of(st.sampled_from(["917", "212", "903", "495", "812", "604"]), st.text("0123456789", min_size=3,
                                                                                     max_size=3))
    nanp = st.tuples(st.sampled_from(["", "1 ", "1-"]), area,
                     st.sampled_from(["({}) ", "{}-", "{}.", "{} "]), st.text("0123456789", min_size=7, max_size=7),
                     st.sampled_from(["-", " ", "."])).map(
        lambda t: t[0] + t[2].format(t[1]) + t[3][:3] + t[4] + t[3][3:])
    number = st.tuples(st.one_of(plain, nanp), st.sampled_from(["", " доб. 12", " ext 5", "тел. "])).map(
        lambda t: t[1] + t[0] if t[1] == "тел. " else t[0] + t[1])

    @settings(max_examples=10, deadline=None)  # two PHONE001 runs per example
    @given(st.lists(st.one_of(number, st.none()), min_size=1, max_size=15))
    def check(values: list[str | None]) -> None:
        values = values + VALUES  # "(917) 555-0142" is both a Russian mobile and a New York number
        frame = pl.DataFrame({"id": [str(i) for i in range(len(values))], "Phone": pl.Series(values, dtype=pl.String)})
        runs = []
        for proposals in (True, False):
            ctx = StandardizeContext(frame=frame, roles={"phone": ["Phone"]}, id_column="id", default_region=region,
                                     proposals=proposals)
            runs.append(PhoneE164().transform_column(frame.get_column("Phone"), "Phone", ctx))
        full, profile = runs
        fixes = [[e.after.to_list() for e in r.edits if isinstance(e.confidence, str) and e.confidence == "fix"]
                 for r in runs]
        assert fixes[0] == fixes[1]
        # the reasons (PHONE002's) are left out when no finding is kept; every other derived column is the same
        assert set(full.derived) - set(profile.derived) == {"Phone__error", "Phone__suggestion"}
        for name, series in profile.derived.items():
            assert series.to_list() == full.derived[name].to_list(), name

    check()
