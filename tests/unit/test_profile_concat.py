"""profile._concat_lists: the long-form concatenation equals the plain per-row reading (order kept, nulls,
duplicates and dropped values left out)."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.profile import _concat_lists

_VALUE = st.sampled_from(["a@x.ru", "b@y.com", "test@x.ru", "c@example.com", "+74951234567", "d@x.ru"])
_CELL = st.one_of(st.none(), _VALUE)
_LIST = st.one_of(st.none(), st.lists(_CELL, max_size=3))
_DROP = r"^test@|@example\.\w+$"


def _reference(parts: list[list[object]], drop: str | None) -> list[list[str]]:
    out = []
    for row in zip(*parts, strict=True):
        seen: list[str] = []
        for part in row:
            for v in ([part] if not isinstance(part, list) else part) if part is not None else []:
                if v is not None and v not in seen and not (drop and re.search(drop, v)):
                    seen.append(v)
        out.append(seen)
    return out


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 6), data=st.data(), drop=st.sampled_from([None, _DROP]))
def test_concat_lists_matches_the_per_row_reading(n: int, data: st.DataObject, drop: str | None) -> None:
    kinds = data.draw(st.lists(st.booleans(), min_size=1, max_size=4))  # True: a list column, False: a text column
    parts = [data.draw(st.lists(_LIST if is_list else _CELL, min_size=n, max_size=n)) for is_list in kinds]
    series = [pl.Series(p, dtype=pl.List(pl.String) if is_list else pl.String) for p, is_list in
              zip(parts, kinds, strict=True)]
    out = _concat_lists(series, n, drop=drop)
    assert out.dtype == pl.List(pl.String)
    assert out.to_list() == _reference(parts, drop)


def test_concat_lists_of_nothing() -> None:
    assert _concat_lists([], 3).to_list() == [[], [], []]
    assert _concat_lists([pl.Series([None, None], dtype=pl.String)], 2).to_list() == [[], []]
