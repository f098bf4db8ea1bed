"""Email checks: syntax, deliverability (on request), role addresses, typo'd popular domains.

Syntax is decided column-wise: a strict ASCII pattern accepts the common case at polars
speed; everything else (Unicode, quotes, odd dots) is judged by ``email-validator`` once
per distinct value.
"""

from __future__ import annotations

import functools

import polars as pl

from crmclean.fields.email import domain_typo, email_errors, fix_hint, free_domains, role_local_parts
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    blank_mask,
    concat_findings,
    empty_mask,
    findings_where,
    placeholder_mask,
    severity_of,
)


def role_localparts() -> frozenset[str]:
    """info, sales, office …: the one list (fields.email, EMAIL005)."""
    return role_local_parts()


def free_mail_domains() -> frozenset[str]:
    """gmail.com, mail.ru, yandex.ru …: the one list (fields.email, EMAIL004)."""
    return free_domains()


_fix_hint = fix_hint


@functools.cache
def _domain_typo(domain: str) -> str | None:
    """The popular domain ``domain`` is a typo of (gmial.com -> gmail.com): EMAIL003's built-in logic."""
    return domain_typo(domain)


def email_analysis(ctx: CheckContext, column: str) -> pl.Series:
    cache: dict[str, pl.Series] = ctx.__dict__.setdefault("_emails", {})
    if column not in cache:
        cache[column] = email_errors(ctx.frame.get_column(column))
    return cache[column]


@register
class InvalidEmail(BaseCheck):
    """An email address is not valid (syntax).

    **What it does.** Flags addresses that no mail server could accept: missing ``@`` or domain,
    spaces, two addresses in one field, a display name (``"Ivan" <ivan@x.ru>``), Cyrillic
    letters typed in the wrong keyboard layout, a comma instead of a dot. The hint proposes the fix.
    """

    code = "EMAILV001"
    name = "email.syntax"
    summary = "An email address is not syntactically valid."
    severity = "error"
    invalidates = True
    kpi = "invalid_email"
    roles = ("email", "email2")
    examples = (
        Example("ivan.petrov@romashka", "flagged; hint: the domain has no zone"),
        Example("anna ivanova@mail.ru", "flagged; hint: remove spaces"),
        Example('"Susan" <susan.smith@northwind.co.uk>', "flagged; hint: keep only the address"),
        Example("j.smith@acme.com", "not flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            errors = email_analysis(ctx, column)
            # generic filler ("-", "нет") is REQ002's business; a truncated address (ivan@romashka) is invalid
            # even though the placeholder rules count it as filler
            generic_filler = placeholder_mask(values, ctx.validate.placeholders, None)
            bad = errors.is_not_null() & ~blank_mask(values) & ~generic_filler
            if not bad.any():
                continue
            hints = map_unique(values.set(~bad, None), _fix_hint, pl.String)
            message = pl.select(pl.format("invalid email: {}", pl.lit(errors))).to_series()
            parts.append(findings_where(bad, column, values, message, hints, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class UndeliverableEmail(BaseCheck):
    """The email's domain does not accept mail (no MX/A record). Runs only when asked.

    Enable with ``validate.email_deliverability: true``: it looks up each distinct domain in DNS,
    which needs network access and takes time on large files.
    """

    code = "EMAILV002"
    name = "email.deliverable"
    summary = "The email domain has no mail server (DNS; only with validate.email_deliverability)."
    severity = "warning"
    invalidates = True
    kpi = "invalid_email"
    roles = ("email", "email2")
    examples = (Example("ivan@romashka-nonexistent.ru", "flagged: domain does not exist"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        if not ctx.validate.email_deliverability:
            return RuleResult()
        from email_validator import EmailNotValidError, validate_email

        @functools.cache
        def domain_problem(domain: str) -> str | None:
            try:
                validate_email(f"postmaster@{domain}", check_deliverability=True, timeout=5)
            except EmailNotValidError as exc:
                return str(exc)
            return None

        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            ok = email_analysis(ctx, column).is_null() & ~empty_mask(ctx, values)
            domains = values.str.strip_chars().str.to_lowercase().str.split("@").list.last().set(~ok, None)
            problems = map_unique(domains, domain_problem, pl.String)
            parts.append(findings_where(problems.is_not_null(), column, values,
                                        pl.select(pl.format("undeliverable: {}", pl.lit(problems))).to_series(),
                                        "confirm the address with the contact", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class RoleEmail(BaseCheck):
    """A person's record has a shared role address (info@, sales@, office@) instead of a personal one.

    **Why.** Role mailboxes do not reach the person, are often excluded from marketing sends,
    and make different contacts of one company look like duplicates.
    """

    code = "EMAILV003"
    name = "email.role"
    summary = "A contact or lead has a role address (info@, sales@, office@) instead of a personal one."
    severity = "info"
    invalidates = False
    kpi = "role_email"
    roles = ("email",)
    objects = ("contacts", "leads")
    examples = (Example("info@romashka.ru on contact Иванов Иван", "flagged: role address"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            local = values.str.strip_chars().str.to_lowercase().str.extract(r"^([^@\s]+)@", 1)
            bad = local.str.replace(r"[\d._-]+$", "").is_in(list(role_localparts())).fill_null(False)
            parts.append(findings_where(bad, column, values, "role address, not a person's",
                                        "ask for the contact's personal work address", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class EmailDomainTypo(BaseCheck):
    """The email's domain is one keystroke away from a popular mail domain (gmial.com, yandex.ry).

    **Why.** Such addresses are syntactically valid but bounce; the fix is almost always obvious.
    """

    code = "EMAILV004"
    name = "email.domain_typo"
    summary = "The email domain looks like a typo of a popular domain (gmial.com → gmail.com)."
    severity = "warning"
    invalidates = True
    kpi = "invalid_email"
    roles = ("email", "email2")
    examples = (
        Example("ivan@gmial.com", "flagged; hint: ivan@gmail.com"),
        Example("petrov@yandex.ry", "flagged; hint: petrov@yandex.ru"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            ok = email_analysis(ctx, column).is_null() & ~empty_mask(ctx, values)
            lowered = values.str.strip_chars().str.to_lowercase()
            domains = lowered.str.split("@").list.last().set(~ok, None)
            fixed = map_unique(domains, _domain_typo, pl.String)
            bad = fixed.is_not_null()
            if not bad.any():
                continue
            hint = pl.select(pl.format("did you mean {}@{}?", pl.lit(lowered.str.split("@").list.first()),
                                       pl.lit(fixed))).to_series()
            parts.append(findings_where(bad, column, values, "email domain looks like a typo", hint,
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
