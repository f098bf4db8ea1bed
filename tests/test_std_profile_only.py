"""The profile-only standardization (what `dedupe` runs) gives exactly the profile of the full run; phone fast paths agree with phonenumbers."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmclean.config import parse_rules
from crmclean.fields.phone import _slow_key, analyze_phones
from crmclean.profile import build_profile
from crmclean.standardize import standardize_table
from tests._std_helpers import make_table

MESSY = {
    "ФИО": ["  иванов  иван иванович ", "ПЕТРОВА АННА СЕРГЕЕВНА", "г-н Сидоров Пётр", "Smith, John", "Dr. Mary Jones",
            "Кузнецова\u00a0Ольга", "Test Test", "нет", "Иванов И.И.", None, "O'NEIL PATRICK", "-"],
    "Email": ["IVAN@MAIL.RU ", '"Анна" <anna.petrova@gmial.com>', "mailto:sidorov@yandex.ru",
              "john@acme.com; info@acme.com", "noemail@noemail.com", "olga@mail.ry", "test@test.com", None,
              "ivanov@bk.ru", "bad@", "sales@globex.com", ""],
    "Телефон": ["8 (495) 123-45-67", "+7 916 123 45 67 доб. 12", "8 (812) 955-61", "+1 (416) 250-1802",
                "+1 (212) 555-0142", "-", "89161234567, 8 (495) 765-43-21", "+8 916 123 45 67", "495 123 4567",
                "тел.: 8-916-123-45-67", "+7 700 123 45 67", None],
    "Должность": ["Генеральный диретор", "главбух", "CEO", "Sales Manger", "Founder & CEO", "-", None, "Юрист",
                  "VP Sales", "Mktg Mgr", "Инженер", "test"],
    "Компания": ['ООО "Ромашка"', "ооо ромашка", "АО «Вега»", "Acme, LLC", "GLOBEX INC.", "Stark GmbH", "тест",
                 "ИП Иванов И.И.", None, "Общество с ограниченной ответственностью Лютик", "-", "Hooli Ltd"],
    "Страна": ["Россия", "РФ", "russia", "Canada", "USA", "США", None, "RU", "United States", "Россия",
               "Казахстан", "US"],
    "ИНН": ["7707083893", "7707083894", "500100732259", " 7707 083 893 ", None, "123", "нет", "7736050003",
            None, "7707083893", "", "0000000000"],
}


@pytest.mark.parametrize("extra", ["version: 1\n", "standardize:\n  apply_suggestions: true\n",
                                   "standardize:\n  rules:\n    PLACEHOLDER001: {empty: true}\n"])
def test_profile_only_run_gives_the_full_runs_profile(extra: str) -> None:
    table = make_table(MESSY)
    rules = parse_rules(extra)
    full = build_profile(table, rules, std=standardize_table(table, rules))
    lean = build_profile(table, rules)
    assert full.height == len(MESSY["ФИО"])
    assert_frame_equal(full, lean)
    assert full.get_column("phone").drop_nulls().len() >= 6


def test_profile_only_run_skips_the_change_log_but_applies_the_same_values() -> None:
    table = make_table(MESSY)
    full = standardize_table(table)
    lean = standardize_table(table, profile_only=True)
    assert full.changes.height > 0 and full.findings.height > 0
    assert lean.changes.height == 0 and lean.findings.height == 0
    assert_frame_equal(full.table.frame, lean.table.frame)
    # every derived column the profile run keeps is the full run's; it leaves out only what proposals and flags
    # read: PHONE001's reasons (PHONE002's) and EMAIL001's typo suggestions (EMAIL003's)
    assert set(full.derived.columns) - set(lean.derived.columns) == {"Телефон__error", "Телефон__suggestion",
                                                                     "Email__suggestion"}
    assert_frame_equal(full.derived.select(lean.derived.columns), lean.derived)
    assert "PHONE002" in full.rules_run and "PHONE002" not in lean.rules_run


def test_vectorized_phone_paths_agree_with_phonenumbers() -> None:
    # short numbers (flagged without phonenumbers), Canadian/Caribbean +1 numbers, Kazakh +7 numbers
    values = ["8 (812) 955-61", "+1 (416) 250-1802", "+1 (204) 555-0199", "+1 264 497 1234", "+7 700 123 45 67",
              "87001234567", "+7 (495) 123-45-6", "8 495 123 45 67 89 12", "+8 916 123 45 67", "+1 809 555 1234",
              "+44 20 7946 0958", "+49 30 1234567", "495 123 4567", "8 (974) 897-95-29", "0049 30 123456"]
    for region in ("RU", "US", "KZ"):
        fast = analyze_phones(pl.Series(values), region)
        slow = pl.DataFrame([_slow_key(f"{region}\x1fE164\x1f{v}") for v in values],
                            schema=dict(fast.schema))
        assert_frame_equal(fast, slow, check_column_order=False)


# 25 columns of 10-30 numbers in one region each: about as many numbers as the 300 one-number columns this ran
# before (~400 vs 300), each number still held to phonenumbers' reading of it alone, 12x fewer pipelines
@settings(max_examples=25, deadline=None)
@given(
    numbers=st.lists(st.tuples(
        st.sampled_from(["", "+", "8 ", "+7 ", "7", "+1 ", "1", "+44 ", "+380 ", "+375 ", "0"]),
        st.text(alphabet="0123456789", min_size=4, max_size=13)), min_size=10, max_size=30),
    region=st.sampled_from(["RU", "US", "KZ", "GB", "DE", "UA", "BY", "CA"]),
)
def test_phone_fast_paths_never_disagree_with_phonenumbers(numbers: list[tuple[str, str]], region: str) -> None:
    values = [prefix + digits for prefix, digits in numbers]
    fast = analyze_phones(pl.Series(values), region)
    for value, row in zip(values, fast.iter_rows(named=True), strict=True):
        assert row == _slow_key(f"{region}\x1fE164\x1f{value}"), value
