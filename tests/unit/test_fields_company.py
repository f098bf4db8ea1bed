"""Company-name knowledge (crmclean.fields.company): legal forms, quotes, the matching key."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.fields.company import company_key, legal_form_of, normalize_company


def test_russian_and_foreign_legal_forms():
    cases = {
        'Общество с ограниченной ответственностью "Ромашка"': ("ООО «Ромашка»", "ООО"),
        "ООО Ромашка": ("ООО «Ромашка»", "ООО"),
        "Ромашка, ООО": ("ООО «Ромашка»", "ООО"),
        'Публичное акционерное общество "Газпром нефть"': ("ПАО «Газпром нефть»", "ПАО"),
        "Банк ВТБ (ПАО)": ("ПАО «Банк ВТБ»", "ПАО"),
        "ИП Иванов Иван Иванович": ("ИП Иванов Иван Иванович", "ИП"),
        "ЗАО “Торговый дом “Север””": ("ЗАО «Торговый дом „Север“»", "ЗАО"),
        "Acme, Inc": ("Acme Inc.", "Inc."),
        "Globex L.L.C.": ("Globex LLC", "LLC"),
        "Initech Limited": ("Initech Ltd", "Ltd"),
        "Müller GmbH & Co. KG": ("Müller GmbH & Co. KG", "GmbH & Co. KG"),
        "Philips B.V.": ("Philips B.V.", "B.V."),
        "IBM": ("IBM", None),
    }
    for raw, expected in cases.items():
        assert normalize_company(raw) == expected, raw


def test_split_mode_and_key():
    assert normalize_company("ООО «Ромашка»", mode="split") == ("Ромашка", "ООО")
    assert company_key("ООО «Ромашка»") == company_key("Ромашка, ООО") == company_key('ооо "РОМАШКА"') == "ромашка"
    assert company_key("Acme, Inc.") == company_key("ACME LLC") == "acme"
    assert legal_form_of("Siemens AG") == "AG"


names = st.sampled_from(["Ромашка", "ромашка", "Acme", "Торговый дом", '"Север"', "«Лютик»", "Globex Corp"])
forms = st.sampled_from(["ООО", "ооо", "АО", "ИП", "Общество с ограниченной ответственностью", "", "LLC", "Inc.",
                         ", ООО", "GmbH", "(ПАО)"])


@settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(forms, names, st.booleans())
def test_normalize_company_is_idempotent(form, name, form_first):
    raw = f"{form} {name}" if form_first else f"{name} {form}"
    once, _ = normalize_company(raw.strip())
    assert normalize_company(once)[0] == once
    assert company_key(once) == company_key(raw.strip())
