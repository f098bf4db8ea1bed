"""map_unique's struct results built field by field equal polars' own list-of-dicts conversion."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from crmclean.fields._unique import _to_series

_STRUCT = pl.Struct({"value": pl.String, "sure": pl.Boolean, "n": pl.Int64})
_record = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"value": st.one_of(st.none(), st.text(max_size=5)),
                                        "sure": st.one_of(st.none(), st.booleans()),
                                        "n": st.one_of(st.none(), st.integers(-5, 5)),
                                        "extra": st.integers()}),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(_record, max_size=20))
def test_struct_field_by_field_equals_polars(mapped: list[dict[str, object] | None]) -> None:
    assert_series_equal(_to_series(mapped, _STRUCT), pl.Series(mapped, dtype=_STRUCT, strict=False), check_names=False)
