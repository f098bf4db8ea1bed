"""Issue 12 on the bundled sample (examples/contacts.csv): the audit proposes no English title rewritten into
Russian and no company name that lost or gained a word (modulo the legal form's canonical spelling and case)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from crmclean.api import audit
from crmclean.fields.company import parse_company
from crmclean.sources import open_source
from crmclean.standardize import standardize_table

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "contacts.csv"
_CYR = re.compile(r"[А-Яа-яЁё]")
_LAT = re.compile(r"[A-Za-z]")


def company_words(value: str) -> Counter[str]:
    """The words of a company name with its legal form canonicalized (ООО for «Общество с ограниченной …»)."""
    parts = parse_company(value)
    words = re.findall(r"\w+", parts.name.casefold().replace("ё", "е"))
    if parts.legal_form:
        words.append("<" + parts.legal_form.casefold().replace(".", "").replace(" ", "") + ">")
    return Counter(words)


def english(value: str | None) -> bool:
    return bool(value) and not _CYR.search(value or "") and bool(_LAT.search(value or ""))


@pytest.fixture(scope="module")
def sample_changes() -> pl.DataFrame:
    result = audit(str(SAMPLE), record_run=False, dedupe=False)
    return result.changes


@pytest.fixture(scope="module")
def sample_applied() -> tuple[pl.DataFrame, pl.DataFrame]:
    table, rules, _ = open_source(str(SAMPLE))
    before = table.frame.clone()
    return before, standardize_table(table, rules, apply_suggestions=True).table.frame


def test_no_english_title_is_rewritten_into_russian(sample_changes):
    titles = sample_changes.filter(pl.col("column") == "Должность")
    assert titles.height > 0  # the sample has titles to standardize
    wrong = [(b, a) for b, a in zip(titles.get_column("before"), titles.get_column("after"), strict=True)
             if english(b) and a is not None and _CYR.search(a)]
    assert wrong == []


def test_no_company_name_loses_or_gains_a_word(sample_changes):
    companies = sample_changes.filter((pl.col("column") == "Company") & pl.col("after").is_not_null())
    assert companies.height > 0
    wrong = [(b, a) for b, a in zip(companies.get_column("before"), companies.get_column("after"), strict=True)
             if company_words(b) != company_words(a)]
    assert wrong == []


def test_whole_run_with_suggestions_applied_keeps_titles_and_company_words(sample_applied):
    before, after = sample_applied
    for b, a in zip(before.get_column("Должность"), after.get_column("Должность"), strict=True):
        assert not (english(b) and a is not None and _CYR.search(a)), (b, a)
    for b, a in zip(before.get_column("Company"), after.get_column("Company"), strict=True):
        if b is not None and a is not None:
            assert company_words(b) == company_words(a), (b, a)


def test_company_words_sees_a_lost_word():
    assert company_words("Общество с ограниченной ответственностью «ТехноСфера»") == company_words("ООО «ТехноСфера»")
    assert company_words("Spa Resort Spa") != company_words("Spa Resort")
    assert company_words("Торговый дом Гранит") != company_words("ТД Гранит")
