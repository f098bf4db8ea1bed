"""Email checks: syntax, deliverability (on request), role addresses, typo'd popular domains.

Syntax is decided column-wise: a strict ASCII pattern accepts the common case at polars
speed; everything else (Unicode, quotes, odd dots) is judged by ``email-validator`` once
per distinct value.
"""

from __future__ import annotations

import functools
import re

import polars as pl

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

# Accepting this is safe: every address it matches is also valid for email-validator.
_SIMPLE_EMAIL = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$"
)


def role_localparts() -> frozenset[str]:
    """info, sales, office …: the standardizer's list (EMAIL005), one definition for both."""
    from crmclean.rules.standardizers.emails import _role

    return _role()


def free_mail_domains() -> frozenset[str]:
    """gmail.com, mail.ru, yandex.ru …: the standardizer's list (EMAIL004)."""
    from crmclean.rules.standardizers.emails import _free

    return _free()


def _validator_verdict(value: str) -> str | None:
    """None when valid, else email-validator's reason (the standardizer's syntax check)."""
    from crmclean.rules.standardizers.emails import email_syntax_error

    return email_syntax_error(value)


def email_errors(values: pl.Series) -> pl.Series:
    """Per row: null when the address is valid (or blank), else why not."""
    stripped = values.str.strip_chars()
    simple = stripped.str.to_lowercase().str.contains(_SIMPLE_EMAIL).fill_null(False)
    blank = (stripped.is_null() | (stripped == "")).fill_null(True)
    rest = stripped.set(simple | blank, None)
    return map_unique(rest, _validator_verdict, pl.String).alias(values.name)


def _fix_hint(value: str) -> str:
    """A steward-friendly fix for a common email mistake."""
    v = value.strip()
    m = re.search(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", v)
    if m:
        return f"keep only the address: {m.group(1)}"
    if re.search(r"[,;\s]", v) and v.count("@") > 1:
        return "one address per field: move the others to a second email column"
    if " " in v:
        return f"remove spaces: {v.replace(' ', '')}"
    if "@" not in v:
        return "the @ and domain are missing"
    if v.count("@") > 1:
        return "more than one @"
    local, _, domain = v.rpartition("@")
    if "," in domain:
        return f"comma instead of dot: {local}@{domain.replace(',', '.')}"
    if "." not in domain:
        return f"the domain has no zone (.ru, .com): {v}"
    if re.search(r"[а-яё]", v, re.I):
        return "Cyrillic letters in the address (keyboard layout?)"
    if ".." in v or v.endswith(".") or local.startswith(".") or local.endswith("."):
        return "misplaced dot"
    return "check the address with the contact"


@functools.cache
def _domain_typo(domain: str) -> str | None:
    """The popular domain ``domain`` is a typo of (gmial.com -> gmail.com): the standardizer's EMAIL003 logic."""
    from crmclean.rules.standardizers.emails import domain_typo

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
