"""Completeness scoring: weights per object type, placeholders and invalid values do not count, grades."""

from __future__ import annotations

import polars as pl
import pytest
from _audit_fixture import contacts_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.config import parse_rules
from crmclean.errors import ConfigError
from crmclean.scoring import histogram, score_table, scored_records
from crmclean.table import finalize_table
from crmclean.validate import validate_table


def table(frame: pl.DataFrame, object_type: str | None = None):  # type: ignore[no-untyped-def]
    return finalize_table(frame, source="t", kind="csv", id_column="Id", object_type=object_type)


RULES = parse_rules("""
completeness:
  weights:
    contacts: {email: 40, phone: 30, company: 20, job_title: 10}
  thresholds: {green: 90, yellow: 60}
""")


def test_weighted_score_counts_only_filled_valid_values() -> None:
    frame = pl.DataFrame({
        "Id": ["1", "2", "3", "4", "5"],
        "ФИО": ["Иванов Иван", "Петров Пётр", "John Smith", "Анна", "Олег"],
        "Email": ["ivanov@romashka.ru", "нет", "john smith@acme.com", "anna@vector.ru", None],
        "Телефон": ["+7 495 123-45-67", "+7 495 123-45-67", "+1 212 555 4517", "8 (495) 123-45", "-"],
        "Компания": ["ООО «Ромашка»", "ООО «Ромашка»", "Acme LLC", None, None],
        "Должность": ["CEO", None, "VP Sales", "Бухгалтер", None],
    })
    t = table(frame)
    findings = validate_table(t, RULES).findings
    result = score_table(t, RULES, findings)
    scores = dict(zip(result.scores.get_column("record_id"), result.scores.get_column("score"), strict=True))
    assert scores == {"1": 100.0, "2": 50.0, "3": 60.0, "4": 50.0, "5": 0.0}
    grades = dict(zip(result.scores.get_column("record_id"), result.scores.get_column("grade"), strict=True))
    assert grades == {"1": "green", "2": "red", "3": "yellow", "4": "red", "5": "red"}
    fields = {f.field: f for f in result.fields}
    assert (fields["email"].filled, fields["email"].valid) == (3, 2)  # "нет" is filler; a space is invalid
    assert (fields["phone"].filled, fields["phone"].valid) == (4, 3)
    missing = dict(zip(result.scores.get_column("record_id"), result.scores.get_column("missing"), strict=True))
    assert missing["2"] == "email, job_title"
    assert result.grade_counts() == {"green": 1, "yellow": 1, "red": 3}
    assert result.average == pytest.approx((100 + 50 + 60 + 50 + 0) / 5)


def test_default_weights_by_object_type_and_absent_columns_skipped() -> None:
    t = table(contacts_frame())
    result = score_table(t, None, validate_table(t, None).findings)
    by_field = {f.field: f for f in result.fields}
    assert by_field["email|email2"].weight == 25 and by_field["phone|mobile"].weight == 20
    assert by_field["first_name|full_name"].columns == ["ФИО"]
    assert not by_field["owner"].absent and by_field["country"].columns == ["Страна"]
    companies = score_table(table(contacts_frame(), "companies"), None)
    assert {f.field for f in companies.fields} >= {"inn", "website"}
    counted = score_table(t, parse_rules("completeness:\n  missing_columns: count\n  weights:\n"
                                         "    contacts: {email: 50, Skype: 50}\n"))
    assert counted.scores.get_column("score").max() == 50.0  # Skype is absent and counts as empty


def test_score_out_columns_keep_every_source_column() -> None:
    t = table(contacts_frame())
    out = scored_records(t, score_table(t))
    assert out.columns[: len(t.data_columns)] == t.data_columns
    assert out.columns[-3:] == ["completeness_score", "completeness_grade", "completeness_missing"]
    assert out.height == t.frame.height


def test_threshold_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="yellow"):
        parse_rules("completeness:\n  thresholds: {green: 40, yellow: 70}\n")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=200), st.integers(2, 20))
def test_histogram_counts_every_score_once(scores: list[float], bins: int) -> None:
    h = histogram(pl.Series(scores), bins)
    assert len(h) == bins and sum(b["count"] for b in h) == len(scores)
    assert h[0]["from"] == 0 and h[-1]["to"] == 100
