"""INN001 on numbers Excel/pandas stored as floats (issue 12): the float spelling goes, the leading zeros a number
cannot keep come back as a fix when exactly one reading has a valid checksum, else the cell is kept and suggested."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.taxid import inn_error
from tests._std_helpers import column, run

# real INNs from python-stdnum's tests (found online), with leading zeros
VALUES = ["108003670.0", "273074555,0", "2.73074555E+08", "7709442668.0", "5826107187.0", "7.70944E+09", "108003670"]


def test_float_spellings_of_inns():
    result = run({"ИНН": VALUES}, "INN001")
    assert column(result, "ИНН") == [
        "0108003670", "0273074555", "0273074555", "7709442668",
        "5826107187.0",  # valid as 5826107187 and as 005826107187: kept, suggested
        "7.70944E+09",  # digits lost in the float: nothing to restore
        "108003670",  # no float spelling: the lost zero is only suggested
    ]
    sugg = result.changes.filter(pl.col("confidence") == "suggest")
    assert set(sugg.get_column("after").to_list()) >= {"005826107187", "0108003670"}
    applied = run({"ИНН": VALUES}, "INN001", apply_suggestions=True)
    assert column(applied, "ИНН")[4] == "005826107187"


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=10_000_000, max_value=999_999_999_999))
def test_a_float_never_becomes_a_different_valid_inn(n):
    digits = str(n)
    result = run({"ИНН": [f"{n}.0"]}, "INN001")
    after = column(result, "ИНН")[0]
    assert after is not None
    if after != f"{n}.0" and inn_error(after) is None:
        assert after.lstrip("0") == digits  # only leading zeros added back
