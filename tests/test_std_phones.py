"""PHONE001/PHONE002: E.164 in the record's country, extensions and extra numbers, invalid numbers never rewritten."""

from __future__ import annotations

import re

import phonenumbers
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.phone import fast_e164, normalize_phone, parse_phone, split_phones
from tests._std_helpers import column, run

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
# whole-column analyses cost a polars pipeline per example (up to 20 cells each): fewer examples, same reach
COLUMN_SETTINGS = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])


def test_russian_formats_become_e164():
    for raw in ("8 (495) 123-45-67", "+7 495 123 45 67", "7-495-123-45-67", "8.495.123.45.67", "84951234567",
                "+7(495)1234567", "тел.: 8 (495) 123-45-67", "495 123 45 67"):
        assert normalize_phone(raw, "RU").phone == "+74951234567", raw


def test_extensions_and_several_numbers_are_kept_apart():
    r = normalize_phone("8 495 123-45-67 доб. 123", "RU")
    assert (r.phone, r.ext) == ("+74951234567", "123")
    assert normalize_phone("+1 212 555 0142 ext 45", "US").ext == "45"
    assert normalize_phone("(212) 555-0142 x45", "US").ext == "45"
    many = normalize_phone("8-916-123-45-67, 8 (495) 765-43-21", "RU")
    assert many.phone == "+79161234567" and many.extra == ("+74957654321",)
    assert split_phones("моб. 8-916-1234567 / раб. 8-495-1234567") == ["моб. 8-916-1234567", "раб. 8-495-1234567"]


def test_invalid_numbers_keep_their_text_and_get_a_reason():
    short = normalize_phone("8 (495) 123-45", "RU")
    assert short.phone is None and "too short" in (short.error or "")
    assert "no such number range" in (normalize_phone("+7 123 456 78 90", "RU").error or "")
    assert normalize_phone("+999 123 4567", "RU").error == "unknown or missing country code"
    plus8 = normalize_phone("+8 916 123 45 67", "RU")
    assert plus8.phone is None and plus8.suggestion == "+79161234567"


def test_phone_type_is_derived():
    assert parse_phone("+7 916 123 45 67", "RU").type == "mobile"
    assert parse_phone("8 495 123 45 67", "RU").type == "fixed_line"
    assert parse_phone("8 800 555 35 35", "RU").type == "toll_free"


def test_rule_uses_the_record_country_and_writes_derived_columns():
    result = run(
        {"Phone": ["(212) 555-0142 ext 45", "8 (495) 123-45-67", "020 7946 0958", "8 (495) 123-45"],
         "Country": ["USA", "Россия", "UK", "RU"]},
        "COUNTRY001", "PHONE001", "PHONE002",
    )
    # issue 11: the extension stays in the cell with its number (and is shown in Phone__ext)
    assert column(result, "Phone") == ["+12125550142 ext. 45", "+74951234567", "+442079460958", "8 (495) 123-45"]
    assert column(result, "Phone__ext") == ["45", None, None, None]
    findings = result.findings.filter(pl.col("rule") == "PHONE002")
    assert findings.get_column("record_id").to_list() == ["4"]
    assert "too short" in findings.get_column("message")[0]
    assert result.derived.get_column("Phone__type").to_list()[1] == "fixed_line"


def test_output_format_option():
    result = run({"Телефон": ["8 495 123 45 67"]}, "PHONE001",
                 extra="  rules:\n    PHONE001: {format: INTERNATIONAL}\n")
    assert column(result, "Телефон") == ["+7 495 123-45-67"]


@st.composite
def dialled(draw):
    region = draw(st.sampled_from(["RU", "US", "GB", "DE", "FR", "BY", "UA", "KZ", "IT"]))
    prefix = draw(st.sampled_from(["", "+", "8", "7", "+7", "0", "1", "+44", "+49", "00", "810"]))
    digits = draw(st.text(alphabet="0123456789", min_size=5, max_size=12))
    sep = draw(st.sampled_from(["", " ", "-", "."]))
    body = sep.join(re.findall(".{1,3}", digits))
    return prefix + body, region


@COLUMN_SETTINGS  # 25 columns of 20-80 numbers: as many numbers as 150 columns of 1-20 (~1,100), 6x fewer pipelines
@given(st.lists(dialled(), min_size=20, max_size=80))
def test_fast_path_agrees_with_phonenumbers(cases):
    values = pl.Series([v for v, _ in cases])
    regions = pl.Series([r for _, r in cases])
    e164, _ = fast_e164(values, regions)
    for (value, region), fast in zip(cases, e164.to_list(), strict=True):
        if fast is None:
            continue  # the slow path decides
        num = phonenumbers.parse(value, region)
        assert phonenumbers.is_valid_number(num), value
        assert phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) == fast, (value, region)


@COLUMN_SETTINGS
@given(st.lists(dialled(), min_size=1, max_size=20))
def test_fast_path_invalid_only_where_phonenumbers_finds_no_number(cases):
    """_fast_scan's ``invalid`` (no valid reading for sure; leading-0 national numbers too, whose message only
    phonenumbers writes) holds parse_phone to no E.164, and ``error`` to parse_phone's own message."""
    from crmclean.fields.phone import _fast_scan

    values = pl.Series([v for v, _ in cases])
    regions = pl.Series([r for _, r in cases])
    _, _, error, invalid = _fast_scan(values, regions)
    for (value, region), why, none in zip(cases, error.to_list(), invalid.to_list(), strict=True):
        if why is not None:
            assert none and parse_phone(value, region).error == why, (value, region)
        if none:
            assert parse_phone(value, region).e164 is None, (value, region)


@COLUMN_SETTINGS
@given(st.lists(st.tuples(dialled(), st.sampled_from(["", "\n", "\n8 916 123 45 67", ", 8 916 123 45 67", " доб. 5"])),
                min_size=1, max_size=20))
def test_analysis_without_reasons_differs_only_in_the_reason(cases):
    """analyze_phones(reasons=False) (the match profile's PHONE001) skips phonenumbers only for a message: every
    column but ``error`` equals the full analysis, on one-line and several-line cells, and the error is kept
    wherever it is kept at all."""
    from crmclean.fields.phone import analyze_phones

    # "01234\n8 495 …": no number as one line, a valid second number once split; then numbers of no region
    # with a label and an extension (resolved without phonenumbers when no reasons are asked)
    fixed = ["01234\n8 495 123 45 67", "тел. 212-434-7374 ext. 208", "(212) 399-4501 доб. 589",
             "+44 20 9884 5110 доб. 672", "тел.: 8 (812) 955-61 #5", "02027264835 #248", "1-415-431-8646 x 603"]
    values = pl.Series([v + tail for (v, _), tail in cases] + fixed)
    regions = pl.Series([r for (_, r), _ in cases] + ["RU"] * len(fixed))
    full, quick = analyze_phones(values, regions), analyze_phones(values, regions, reasons=False)
    assert full.drop("error").equals(quick.drop("error"))
    kept = quick.get_column("error").is_not_null()
    assert full.get_column("error").filter(kept).equals(quick.get_column("error").filter(kept))


@SETTINGS
@given(dialled())
def test_normalize_never_invents_digits_and_is_idempotent(case):
    value, region = case
    result = normalize_phone(value, region)
    if result.phone is None:
        return
    in_digits = re.sub(r"\D", "", value)
    national = phonenumbers.parse(result.phone).national_number
    assert str(national) in in_digits  # the subscriber digits all come from the input
    again = normalize_phone(result.phone, region)
    assert again.phone == result.phone


cells = st.lists(
    st.sampled_from(["8 (495) 123-45-67", "+7 916 123 45 67", "тел.: 8-916-123-45-67", "(212) 555-0142",
                     "8 495 123-45-67 доб. 12", "x45", "123", "8 (495) 123-45", "+44 20 7946 0958", "доб. 7"]),
    min_size=1, max_size=3,
).map(lambda parts: ", ".join(parts))


@COLUMN_SETTINGS  # 25 columns of 15-60 cells: as many cells as 150 columns of 1-8 (~600-700), 6x fewer pipelines
@given(st.lists(cells, min_size=15, max_size=60), st.sampled_from(["RU", "US"]))
def test_vectorized_cells_agree_with_the_python_normalizer(values, region):
    from crmclean.fields.phone import analyze_phones

    frame = analyze_phones(pl.Series(values), region)
    for value, row in zip(values, frame.to_dicts(), strict=True):
        slow = normalize_phone(value, region)
        assert (row["phone"], row["ext"], row["extra"]) == (slow.phone, slow.ext, "; ".join(slow.extra) or None), value


def test_a_number_a_spreadsheet_stored_as_a_float_is_read_back_exactly_or_flagged():
    # probe (session 10): 7.9161234567E+10 (every digit kept) was "invalid phone: not a phone number", and
    # 7.91E+10 (digits lost) got the same message, which does not say what happened
    result = run({"Телефон": ["7.9161234567E+10", "7,9161234567E+10", "79161234567.0", "7.91E+10"]},
                 "PHONE001", "PHONE002")
    assert column(result, "Телефон") == ["+79161234567", "+79161234567", "+79161234567", "7.91E+10"]
    messages = result.findings.get_column("message").to_list()
    assert len(messages) == 1 and "scientific notation and dropped its last digits" in messages[0]


def test_a_label_after_the_number_and_the_00_prefix_are_read():
    # probe (session 10): "8-916-123-45-67 (моб.)" was "not a phone number", "+7 916 123-45-67 (WhatsApp)" "too
    # long", and "00 7 916 123 45 67" in a Russian record (Russia dials 810, not 00) "wrong length for RU"
    values = ["8-916-123-45-67 (моб.)", "+7 916 123-45-67 (WhatsApp)", "8 495 123-45-67 раб.", "00 7 916 123 45 67",
              "0044 20 7946 0958", "00 999 123"]
    result = run({"Телефон": values}, "PHONE001", "PHONE002")
    assert column(result, "Телефон") == ["+79161234567", "+79161234567", "+74951234567", "+79161234567",
                                         "+442079460958", "00 999 123"]
    assert result.findings.get_column("value").to_list() == ["00 999 123"]


def test_numbers_on_two_lines_and_an_area_code_before_a_slash():
    # probe (session 10): two numbers on two lines of one cell became one "too long" number (TEXT001 made the line
    # break a space), and the German '030/1234567' (area code, slash, number) was "no such number range in DE"
    result = run({"Phone": ["8 (916) 123-45-67\n8 (495) 123-45-67", "030/1234567", "8 916 123-45-67 / 8 495 123-45-67"],
                  "Country": ["RU", "DE", "RU"]}, "TEXT001", "PHONE001", "PHONE002",
                 roles={"Phone": "phone", "Country": "country"})
    assert column(result, "Phone")[:2] == ["+79161234567\n+74951234567", "+49301234567"]
    assert result.findings.is_empty()
