"""EMAIL001-006: cleaning, splitting, validation, typo suggestions, free/role/disposable flags."""

from __future__ import annotations

import polars as pl
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.email import analyze_emails, domain_typo, normalize_email
from tests._std_helpers import column, run

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def test_cleaning_lowercases_and_strips_wrappers():
    assert normalize_email(" Ivan.Petrov@Mail.RU ").email == "ivan.petrov@mail.ru"
    assert normalize_email('"Иван Петров" <ivan@acme.ru>').email == "ivan@acme.ru"
    assert normalize_email("mailto:John.Smith@Acme.com").email == "john.smith@acme.com"
    assert normalize_email("ivan @ mail.ru").email == "ivan@mail.ru"
    assert normalize_email("ivan@mail.ru.").email == "ivan@mail.ru"
    several = normalize_email("ivan@acme.ru; petrov@gmail.com, o.smith@acme.com")
    assert several.email == "ivan@acme.ru" and several.extra == ("petrov@gmail.com", "o.smith@acme.com")


def test_invalid_addresses_have_a_reason():
    assert normalize_email("ivan.petrov@").error
    assert normalize_email("ivan..petrov@mail.ru").error
    assert normalize_email("john smith@acme").error
    assert normalize_email("ivan@mail.ru").error is None


def test_domain_typos_are_proposed_not_applied():
    assert domain_typo("gmial.com") == "gmail.com"
    assert domain_typo("yadnex.ru") == "yandex.ru"
    assert domain_typo("mail.ry") == "mail.ru"
    assert domain_typo("gmail.co") == "gmail.com"
    assert domain_typo("acme.ru") is None
    assert domain_typo("yandex.kz") is None  # a real domain, not a typo
    result = run({"Email": ["ivan@gmial.com", "olga@acme.ru"]}, "EMAIL001", "EMAIL003")
    assert column(result, "Email") == ["ivan@gmial.com", "olga@acme.ru"]
    sugg = result.changes.filter(pl.col("rule") == "EMAIL003")
    assert sugg.get_column("after").to_list() == ["ivan@gmail.com"]
    assert sugg.get_column("confidence").to_list() == ["suggest"]
    applied = run({"Email": ["ivan@gmial.com"]}, "EMAIL001", "EMAIL003", apply_suggestions=True)
    assert column(applied, "Email") == ["ivan@gmail.com"]


def test_flags_free_role_disposable_and_invalid():
    result = run({"Email": ["petrov@yandex.ru", "info@romashka.ru", "x1@mailinator.com", "bad@", "i.ivanov@acme.ru"]},
                 "EMAIL002", "EMAIL004", "EMAIL005", "EMAIL006")
    by_rule = dict(zip(result.findings.get_column("rule"), result.findings.get_column("record_id"), strict=True))
    assert by_rule == {"EMAIL004": "1", "EMAIL005": "2", "EMAIL006": "3", "EMAIL002": "4"}


def test_split_cell_keeps_every_address_and_shows_extras_in_derived_column():
    # issue 11: a multi-value cell keeps every address (each cleaned, in the cell's own separator)
    result = run({"E-mail": ["a.petrov@acme.ru; Petrov@Gmail.com"]}, "EMAIL001")
    assert column(result, "E-mail") == ["a.petrov@acme.ru; petrov@gmail.com"]
    assert result.derived.get_column("E-mail__extra").to_list() == ["petrov@gmail.com"]


local = st.text(alphabet="abcxyz019._-+", min_size=1, max_size=12)
domain = st.text(alphabet="abcxyz019-.", min_size=1, max_size=12)
tld = st.sampled_from(["ru", "com", "org", "local", "test", "r", "xn", "рф", "c0m"])


@SETTINGS
@given(local, domain, tld)
def test_fast_path_agrees_with_email_validator(lp, dom, top):
    address = f"{lp}@{dom}.{top}"
    info = analyze_emails(pl.Series([address]))
    try:
        validate_email(address, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    assert (info.get_column("error")[0] is None) == valid, address


@SETTINGS
@given(st.text(alphabet="AbcИв@. <>\"';,mailto:", max_size=30))
def test_normalize_is_idempotent(text):
    first = normalize_email(text)
    if first.email is None:
        return
    assert normalize_email(first.email).email == first.email


email_cells = st.lists(
    st.sampled_from(["ivan@acme.ru", "Petrov@Mail.RU", "info@acme.ru", "bad@", "x@gmial.com", "и", "mailto:a@b.ru",
                     "o.smith@acme.co.uk"]),
    min_size=1, max_size=3,
).flatmap(lambda parts: st.sampled_from(["; ", ", ", " "]).map(lambda sep: sep.join(parts)))


@SETTINGS
@given(st.lists(email_cells, min_size=1, max_size=8))
def test_vectorized_cells_agree_with_the_python_normalizer(values):
    frame = analyze_emails(pl.Series(values))
    for value, row in zip(values, frame.to_dicts(), strict=True):
        slow = normalize_email(value)
        assert row["email"] == slow.email, value
        assert row["extra"] == ("; ".join(slow.extra) or None), value
        assert (row["error"] is None) == (slow.error is None), value


@SETTINGS
@given(st.lists(st.one_of(email_cells, st.builds(lambda lp, dom, top: f"{lp}@{dom}.{top}", local, domain, tld),
                          st.sampled_from(["petrov@yadnex.ru", "olga@mail.ry", "john@gmail.co", "IVAN@GMIAL.COM"])),
                min_size=1, max_size=12))
def test_analysis_without_suggestions_differs_only_in_the_suggestion(values):
    """analyze_emails(suggestions=False) (EMAIL001 in the match profile's run) skips only the typo lookup: every
    other column is the full analysis's, and a suggestion it keeps is the full analysis's."""
    full = analyze_emails(pl.Series(values))
    quick = analyze_emails(pl.Series(values), suggestions=False)
    assert full.drop("suggestion").equals(quick.drop("suggestion"))
    kept = quick.get_column("suggestion").is_not_null()
    assert full.get_column("suggestion").filter(kept).equals(quick.get_column("suggestion").filter(kept))


def test_a_bracket_in_a_cell_without_an_at_sign_is_no_comment():
    # probe (session 10): 'ivan(at)mail.ru' was written 'ivanmail.ru' as a fix: "(at)" was dropped as an RFC comment
    result = run({"Email": ["ivan(at)mail.ru", "ivan@x.ru (Иван)"]}, "EMAIL001", "EMAIL002")
    assert column(result, "Email") == ["ivan(at)mail.ru", "ivan@x.ru"]
    assert result.findings.get_column("value").to_list() == ["ivan(at)mail.ru"]


def test_a_filler_address_with_a_trailing_dot_is_still_a_filler():
    # probe (session 10): 'mary@example.com.' was cleaned to mary@example.com while 'mary@example.com' was a filler
    result = run({"Email": ["mary@example.com.", "ivan@mail.ru."]}, "PLACEHOLDER001", "EMAIL001")
    suggested = result.changes.filter(pl.col("rule") == "PLACEHOLDER001").get_column("before").to_list()
    assert suggested == ["mary@example.com."]
