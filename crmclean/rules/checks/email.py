"""Email check: deliverability (on request); the per-column syntax analysis cross-field checks read.

Invalid addresses, domain typos and role addresses are each flagged by one rule: EMAIL002,
EMAIL003 and EMAIL005 (EMAILV001, EMAILV004 and EMAILV003 are their retired codes).

Syntax is decided column-wise: a strict ASCII pattern accepts the common case at polars
speed; everything else (Unicode, quotes, odd dots) is judged by ``email-validator`` once
per distinct value.
"""

from __future__ import annotations

import functools

from crmclean._lazy import polars as pl
from crmclean.fields.email import domain_typo, email_errors, fix_hint, free_domains, role_local_parts
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
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
