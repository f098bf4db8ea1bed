"""Match features: full-name splitting fallback, phone keys, company keys (matching-only normalization)."""

from __future__ import annotations

import polars as pl
import pytest
from _match_helpers import table_from_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.matching import dedupe
from crmclean.matching.features import _company_tokens, _phone_key, split_full_name
from crmclean.table import finalize_table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов Иван Иванович", ("Иван", "Иванович", "Иванов")),
        ("Иван Петров", ("Иван", "", "Петров")),
        ("Иванов И.И.", ("И", "И", "Иванов")),
        ("John Smith", ("John", "", "Smith")),
        ("Андрей Ильич Белов", ("Андрей", "Ильич", "Белов")),
    ],
)
def test_split_full_name(text: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(text) == expected


@settings(deadline=None)  # the first example loads the name dictionaries (0.7 s on a loaded machine)
@given(st.lists(st.sampled_from(["Иванов", "Иван", "Петрович", "John", "Smith", "И.", "van", "O'Brien"]),
                min_size=1, max_size=4))
def test_split_full_name_keeps_every_word(words: list[str]) -> None:
    first, middle, last = split_full_name(" ".join(words))
    kept = " ".join(p for p in (first, middle, last) if p).replace(".", "").split()
    assert sorted(kept) == sorted(w.replace(".", "") for w in words)


def test_phone_keys_ignore_format_and_filler() -> None:
    assert _phone_key("+74951234567") == _phone_key("8 (495) 123-45-67") == _phone_key("495 123 45 67")
    assert _phone_key("000") is None and _phone_key("1111111") is None


def test_company_keys_drop_legal_forms_and_script() -> None:
    assert _company_tokens("ООО «Ромашка»") == _company_tokens("Romashka LLC") == _company_tokens("ромашка, ооо")
    assert _company_tokens("Общество с ограниченной ответственностью \"Вектор\"") == _company_tokens("Vector Inc.")


def test_empty_and_single_record_tables() -> None:
    empty = finalize_table(pl.DataFrame({"Id": pl.Series([], dtype=pl.String), "ФИО": pl.Series([], dtype=pl.String)}),
                           source="empty", kind="csv", id_column="Id")
    result = dedupe(empty)
    assert result.clusters.height == 0 and result.pairs.height == 0 and result.golden.height == 0
    one = dedupe(table_from_rows([{"Id": "1", "ФИО": "Иванов Иван", "Email": "i@romashka.ru"}]))
    assert one.clusters.row(0) == ("1", "1", "single", None)
