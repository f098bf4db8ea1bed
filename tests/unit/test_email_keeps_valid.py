"""E-mail cleaning never turns a valid address into an invalid one (issue 12): quoted local parts, address
literals and comments keep their meaning; for any address email-validator accepts, the cleaned value is accepted."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.email import analyze_emails, email_syntax_error, normalize_email, rfc_valid

# 25 columns of 5-20 addresses: about as many addresses as 300 one-address columns, 12x fewer column pipelines
COLUMN_SETTINGS = settings(deadline=None, max_examples=25,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_rfc_forms_are_kept_whole():
    assert normalize_email('"john smith"@example.org').email == '"john smith"@example.org'
    assert normalize_email('"John.Smith"@Example.ORG').email == '"John.Smith"@example.org'
    assert normalize_email("user@[192.168.0.1]").email == "user@[192.168.0.1]"
    assert normalize_email("user@[IPv6:2001:db8::1]").email == "user@[IPv6:2001:db8::1]"
    assert normalize_email("john(work)@example.org").email == "john@example.org"
    assert normalize_email("john@example.org (John)").email == "john@example.org"
    assert normalize_email("a(c)@x.ru b@y.ru").email == "a@x.ru"
    # the vectorized column path agrees
    got = analyze_emails(pl.Series(['"john smith"@example.org', "user@[192.168.0.1]", "«ivan@x.ru»"]))
    assert got.get_column("email").to_list() == ['"john smith"@example.org', "user@[192.168.0.1]", "ivan@x.ru"]


_atom = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-",
                min_size=1, max_size=10)
_quoted = st.text(alphabet="abcdefgHIJ 0123.@,:;<>()[]!#-", min_size=1, max_size=12).map(lambda s: f'"{s}"')
_label = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\Z")
_domain = st.tuples(st.lists(_label, min_size=1, max_size=3), st.sampled_from(["com", "org", "ru", "COM", "Org"])).map(
    lambda t: ".".join([*t[0], t[1]]))
_literal = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: "[" + ".".join(map(str, t)) + "]")
_local = st.one_of(_atom, st.lists(_atom, min_size=2, max_size=3).map(".".join), _quoted)
_address = st.one_of(
    st.emails(),
    st.tuples(_local, st.one_of(_domain, _literal)).map(lambda t: f"{t[0]}@{t[1]}"),
)
_wrapped = st.tuples(st.sampled_from(["", " ", "mailto:", "  "]), _address, st.sampled_from(["", " ", "\t"])).map(
    "".join)


@COLUMN_SETTINGS
@given(st.lists(_wrapped, min_size=5, max_size=20))
def test_an_accepted_address_stays_accepted(texts):
    columns = analyze_emails(pl.Series(texts, dtype=pl.String)).get_column("email").to_list()
    for text, column in zip(texts, columns, strict=True):
        address = text.strip().removeprefix("mailto:")
        cleaned = normalize_email(text).email
        if rfc_valid(address):  # valid with quoted local parts and address literals allowed
            assert cleaned is not None and rfc_valid(cleaned), (text, cleaned)
            assert column is not None and rfc_valid(column), (text, column)
        if email_syntax_error(address) is None:  # valid for email-validator's defaults
            assert cleaned is not None and email_syntax_error(cleaned) is None, (text, cleaned)
            assert normalize_email(text).error is None
            assert column is not None and email_syntax_error(column) is None, (text, column)
