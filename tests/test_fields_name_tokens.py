"""The column-wise token classes (fields.names.token_classes) equal token_class per token."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.fields.names import given_names, token_class, token_classes

_KNOWN = sorted(given_names())[:: max(1, len(given_names()) // 200)]
_token = st.one_of(
    st.sampled_from(_KNOWN),
    st.sampled_from(_KNOWN).map(str.upper),
    st.sampled_from(["J.", "j", "Ж.", "Иванов", "Петровна", "Smith", "O'Neil", "Mary-Ann", "5.", "_", "É.", "Straße"]),
    st.text(alphabet="AbzZ.'-_5", min_size=1, max_size=6),
    st.text(alphabet="АбвЁё.-5z", min_size=1, max_size=6),
    st.none(),
)


@settings(max_examples=20, deadline=None)
@given(st.lists(_token, max_size=30))
def test_token_classes_match_token_class(tokens: list[str | None]) -> None:
    series = pl.Series("t", tokens, dtype=pl.String)
    assert token_classes(series).to_list() == [None if t is None else token_class(t) for t in tokens]
