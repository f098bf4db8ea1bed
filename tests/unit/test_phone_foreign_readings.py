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
