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


def test_phone_keys_equal_a_plain_per_value_reading() -> None:
    """phone_keys (non-digits removed a run at a time, one repeated digit found by a one-character shift) equals the
    plain reading of each value: its digits (any script's), null under seven or when one digit repeats, else the last
    ten."""
    import random

    from crmclean.matching.features import phone_keys

    def plain(text: str | None) -> str | None:
        if text is None:
            return None
        digits = "".join(ch for ch in text if ch.isdecimal())
        return digits[-10:] if len(digits) >= 7 and len(set(digits)) > 1 else None

    rng = random.Random(5)
    values: list[str | None] = [None, "", "1111111", "7777777 ", "٣٣٣٣٣٣٣", "+7 (495) 123-45-67", "12-34-56", "1111112"]
    values += ["".join(rng.choice("0123456789 +-()x٣७a") for _ in range(rng.randint(0, 16))) for _ in range(300)]
    got = phone_keys(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [plain(v) for v in values]


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
