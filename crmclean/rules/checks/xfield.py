"""Cross-field checks: values that are each fine but contradict each other within one record."""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.fields.company import RU_ORGANIZATION_FORMS, SOLE_TRADER_FORMS, legal_form_of
from crmclean.fields.country import country_codes
from crmclean.fields.taxid import clean_tax_ids as clean_taxid
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    severity_of,
)
from crmclean.rules.checks.email import _domain_typo, email_analysis, free_mail_domains
from crmclean.rules.checks.phone import calling_code_of, phone_analysis


def _russian_inn(ctx: CheckContext, column: str) -> pl.Series:
    """Cleaned values of a tax-id column, null where the value is read as another country's registration number
    (fields.taxid.registration_readings: its prefix, the record's country, the EIN shape). A Kazakh АО's 12-digit
    BIN or a Belarusian ОАО's УНП is not an INN: the INN length rules of XFIELD003/004 are Russian."""
    from crmclean.fields.country import alpha2_codes
    from crmclean.fields.taxid import registration_readings

    values = ctx.frame.get_column(column)
    country = ctx.first_column("country")
    foreign = registration_readings(values, alpha2_codes(ctx.frame.get_column(country)) if country else None)
    return clean_taxid(values).set(foreign.get_column("country").is_not_null(), None)


def _legal_forms(ctx: CheckContext) -> tuple[pl.Series, pl.Series] | None:
    """(is_sole_trader, is_legal_entity) per row from the profile's legal form, else the company text."""
    column = ctx.first_column("company")
    if column is None:
        return None
    form = map_unique(ctx.frame.get_column(column), legal_form_of, pl.String())
    if ctx.profile is not None and "legal_form" in ctx.profile.columns:
        form = ctx.profile.get_column("legal_form").zip_with(ctx.profile.get_column("legal_form").is_not_null(), form)
    sole = form.is_in(sorted(SOLE_TRADER_FORMS)).fill_null(False)
    entity = form.is_in(sorted(RU_ORGANIZATION_FORMS)).fill_null(False) & ~sole
    return sole, entity


@register
class PhoneCountryMismatch(BaseCheck):
    """The phone's country code contradicts the record's country column.

    **Why.** A +7 number on a record marked Germany (or +49 on Россия) means either the
    country or the phone belongs to someone else — or the record merged two people.
    """

    code = "XFIELD001"
    name = "xfield.phone_country"
    summary = "The phone number's country differs from the record's country."
    severity = "warning"
    roles = ("phone", "mobile")
    examples = (
        Example("Телефон: +49 30 1234567, Страна: Россия", "flagged: DE number, RU record"),
        Example("Phone: +7 916 123-45-67, Country: Russia", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        country_col = ctx.first_column("country")
        if country_col is None:
            return RuleResult()
        record_country = country_codes(ctx.frame.get_column(country_col))
        record_cc = record_country.replace_strict(
            {r: calling_code_of(r) for r in record_country.drop_nulls().unique().to_list()}, default=None,
            return_dtype=pl.String)
        parts = []
        for column in self.target_columns(ctx):
            info = phone_analysis(ctx, column)
            phone_cc = info.get_column("calling_code")
            # compared by calling code: +7 is shared by RU and KZ, +1 by the US and Canada
            bad = (phone_cc != record_cc).fill_null(False)
            message = pl.select(pl.format("phone is a +{} number but {} is {}", pl.lit(phone_cc),
                                          pl.lit(country_col), pl.lit(record_country))).to_series()
            parts.append(findings_where(bad, column, ctx.frame.get_column(column), message,
                                        f"check {column} and {country_col}: one of them is wrong", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


def website_domain(values: pl.Series) -> pl.Series:
    """Bare lower-case host of a website value ('https://www.Romashka.ru/about' -> 'romashka.ru')."""
    return (
        values.str.strip_chars().str.to_lowercase()
        .str.replace(r"^[a-z]+://", "").str.replace(r"^www\d?\.", "").str.replace(r"[/?#:].*$", "")
    )


def _core(domain: pl.Series) -> pl.Series:
    """Second-level label ('mail.romashka.ru' -> 'romashka'): holdings use .ru and .com alike."""
    return domain.str.split(".").list.get(-2, null_on_oob=True)


@register
class EmailDomainMismatch(BaseCheck):
    """A corporate email's domain differs from the company's website.

    **What it does.** For records with a website/domain column, compares the domain of a valid,
    non-free email (not gmail/yandex/mail.ru …) with the website's; subdomains and other zones of
    the same name (romashka.ru / romashka.com) match.

    **Why.** The person moved to another company, or the record is linked to the wrong account.
    """

    code = "XFIELD002"
    name = "xfield.email_domain"
    summary = "A corporate email's domain differs from the company website's domain."
    severity = "info"
    roles = ("email",)
    examples = (
        Example("Email: i.ivanov@vector.ru, Сайт: romashka.ru", "flagged"),
        Example("Email: i.ivanov@mail.romashka.ru, Site: https://www.romashka.com", "not flagged"),
        Example("Email: ivanov@gmail.com, Site: romashka.ru", "not flagged (free mail)"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        site_col = ctx.first_column("website")
        if site_col is None:
            return RuleResult()
        site = website_domain(ctx.frame.get_column(site_col)).set(empty_mask(ctx, ctx.frame.get_column(site_col)), None)
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            valid = email_analysis(ctx, column).is_null() & ~empty_mask(ctx, values)
            domain = values.str.strip_chars().str.to_lowercase().str.split("@").list.last().set(~valid, None)
            # a typo'd free domain (gmial.com) is EMAIL003's finding, not a company mismatch
            free = domain.is_in(list(free_mail_domains())).fill_null(False) | map_unique(
                domain, lambda d: _domain_typo(d) is not None, pl.Boolean).fill_null(False)
            if ctx.profile is not None and "email_is_free" in ctx.profile.columns and column == ctx.first_column("email"):
                free = free | ctx.profile.get_column("email_is_free").fill_null(False)
            pair = pl.DataFrame({"d": domain, "s": site, "dc": _core(domain), "sc": _core(site)})
            same = pair.select(
                ((pl.col("d") == pl.col("s")) | pl.col("d").str.ends_with("." + pl.col("s"))
                 | pl.col("s").str.ends_with("." + pl.col("d")) | (pl.col("dc") == pl.col("sc"))).fill_null(True)
            ).to_series()
            bad = ~same & ~free & domain.is_not_null() & site.is_not_null()
            message = pl.select(pl.format("email domain {} differs from website {}", pl.lit(domain), pl.lit(site))
                                ).to_series()
            hint = ("check the contact still works there, or link the right company" if ctx.object_type in
                    ("contacts", "leads") else "check that the email and the website are both this company's")
            parts.append(findings_where(bad, column, values, message, hint, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class SoleTraderInn(BaseCheck):
    """An ИП (sole trader) has a 10-digit INN; a sole trader's INN has 12 digits.

    **Why.** A 10-digit INN belongs to an organization: the record is either not an ИП, or the
    organization's INN was copied in. Invoices and ЭДО fail on the mismatch.
    """

    code = "XFIELD003"
    name = "xfield.sole_trader_inn"
    summary = "An ИП (sole trader) record has a 10-digit INN (an ИП's INN has 12 digits)."
    severity = "error"
    roles = ("inn",)
    examples = (
        Example("Компания: ИП Петров А.А., ИНН: 7707083893", "flagged: 10 digits"),
        Example("Компания: ИП Петров А.А., ИНН: 500100732259", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        forms = _legal_forms(ctx)
        if forms is None:
            return RuleResult()
        sole, _ = forms
        parts = []
        for column in self.target_columns(ctx):
            inn = _russian_inn(ctx, column)
            bad = sole & inn.str.contains(r"^\d{10}$").fill_null(False)
            parts.append(findings_where(bad, column, ctx.frame.get_column(column),
                                        "ИП with a 10-digit (organization) INN",
                                        "an ИП's INN has 12 digits; check the INN or the legal form", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class LegalEntityInn(BaseCheck):
    """A legal entity (ООО, АО, ПАО …) has a 12-digit INN; an organization's INN has 10 digits.

    **Why.** A 12-digit INN belongs to a person or an ИП — often the director's INN typed into
    the company card.
    """

    code = "XFIELD004"
    name = "xfield.legal_entity_inn"
    summary = "A legal entity (ООО, АО, ПАО …) has a 12-digit INN (an organization's INN has 10 digits)."
    severity = "error"
    roles = ("inn",)
    examples = (
        Example("Компания: ООО «Ромашка», ИНН: 500100732259", "flagged: 12 digits"),
        Example("Компания: ООО «Ромашка», ИНН: 7707083893", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        forms = _legal_forms(ctx)
        if forms is None:
            return RuleResult()
        _, entity = forms
        parts = []
        for column in self.target_columns(ctx):
            inn = _russian_inn(ctx, column)
            bad = entity & inn.str.contains(r"^\d{12}$").fill_null(False)
            parts.append(findings_where(bad, column, ctx.frame.get_column(column),
                                        "legal entity with a 12-digit (person/ИП) INN",
                                        "an organization's INN has 10 digits; check the INN or the legal form",
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
