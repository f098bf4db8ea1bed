"""The column-wise INN checksum (fields.taxid.inn_errors_clean) gives python-stdnum's verdict per value."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.ru import inn as stdnum_inn

from crmclean.fields.taxid import clean_tax_id, inn_error, inn_errors_clean, inn_valid, is_valid_inn, tax_id_errors

_digits = st.text(alphabet="0123456789", min_size=10, max_size=10)
_valid10 = _digits.map(lambda d: d[:9] + stdnum_inn.calc_company_check_digit(d[:9]))
_valid12 = st.text(alphabet="0123456789", min_size=10, max_size=10).map(
    lambda d: d + stdnum_inn.calc_personal_check_digits(d))
_value = st.one_of(
    _valid10,
    _valid12,
    st.text(alphabet="0123456789", min_size=10, max_size=10),  # mostly a wrong check digit
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.text(alphabet="0123456789", min_size=0, max_size=15),  # wrong lengths, blank
    st.text(alphabet="0123456789A-. ٣²", min_size=9, max_size=13),  # non-digits, Unicode digits
    _valid10.map(lambda v: f"ИНН {v[:4]}-{v[4:]}"),  # raw spellings clean_tax_id undoes
    _valid12.map(lambda v: f"{v}.0"),
    st.none(),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(_value, min_size=0, max_size=40))
def test_inn_column_matches_stdnum_per_value(values: list[str | None]) -> None:
    raw = pl.Series("inn", values, dtype=pl.String)
    cleaned = raw.map_elements(clean_tax_id, return_dtype=pl.String)
    assert inn_errors_clean(cleaned).to_list() == [None if v is None else inn_error(v) for v in cleaned.to_list()]
    assert inn_valid(raw).to_list() == [v is not None and is_valid_inn(v) for v in values]
    assert tax_id_errors(raw, "inn").to_list() == [
        None if v is None else inn_error(clean_tax_id(v)) for v in values]
