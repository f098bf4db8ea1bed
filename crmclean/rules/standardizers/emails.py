"""E-mail rules (EMAIL001-006): thin classes over :mod:`crmclean.fields.email`.

EMAIL002 (invalid), EMAIL003 (domain typos) and EMAIL005 (role addresses) are the one rule for
their problem: they carry the retired check codes EMAILV001, EMAILV004 and EMAILV003.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.email import (
    EMAIL_ROLES,
    analyze_emails,
    cleaned_emails,
    disposable_domains,
    email_domain,
    email_local,
    fix_hint,
    free_domains,
    role_local_parts,
    skip_fillers,
)
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, map_unique, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    FlagOptions,
    StdResult,
    derived_name,
    findings_where,
    flag_severity,
    unfilled_mask,
)


@register
class EmailNormalize(ColumnRule):
    """Clean email cells: trim, lower-case, strip mailto: and display names, split several addresses.

    What it does: turns ``"Ivan" <Ivan@Mail.RU>`` into ``ivan@mail.ru``, drops ``mailto:``,
    surrounding quotes/brackets and trailing dots, removes spaces around ``@``, and keeps
    every address of a cell holding several ("a@x.ru; b@y.ru"), each cleaned, in the cell's own separator
    (``<column>__extra`` shows the others). Invalid addresses are cleaned the same way but reported by
    EMAIL002.

    Why: the same address written "Ivan@Mail.ru" and "ivan@mail.ru" escapes duplicate
    checks and breaks mail-merge and sync keys.
    """

    code = "EMAIL001"
    name = "email.normalize"
    summary = "Trim and lower-case emails, strip mailto: and display names, split several addresses."
    roles = EMAIL_ROLES
    order = 80
    reads_roles = ()
    examples = (
        Example(" Ivan.Petrov@Mail.RU ", "ivan.petrov@mail.ru"),
        Example('"Иван Петров" <Ivan.Petrov@Romashka.RU>', "ivan.petrov@romashka.ru"),
        Example('"Ivan Petrov" <ivan@acme.ru>', "ivan@acme.ru"),
        Example("mailto:John.Smith@Acme.com", "john.smith@acme.com"),
        Example("ivan@acme.ru; Petrov@Gmail.com", "ivan@acme.ru; petrov@gmail.com", "every address kept"),
        Example("ivan @ mail.ru", "ivan@mail.ru"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        work = skip_fillers(values)
        # typo suggestions are proposals (EMAIL003's): a run that keeps none does not look for them
        info = analyze_emails(work, suggestions=ctx.proposals)
        after = _whole_cell(values, info).fill_null(values).alias(column)
        reason = pl.DataFrame({"x": info.get_column("extra")}).select(
            pl.when(pl.col("x").is_not_null())
            .then(pl.lit("email cleaned; every address of the cell kept"))
            .otherwise(pl.lit("email cleaned"))
        ).to_series()
        derived = {
            derived_name(column, "error"): info.get_column("error"),
            derived_name(column, "suggestion"): info.get_column("suggestion"),
            derived_name(column, "extra"): info.get_column("extra"),
            derived_name(column, "valid"): info.get_column("error").is_null() & info.get_column("email").is_not_null(),
        }
        if not ctx.proposals:
            del derived[derived_name(column, "suggestion")]
        return StdResult(edits=[ColumnEdit(column, after, reason)], derived=derived,
                         carries={derived_name(column, "extra")})


def _whole_cell(values: pl.Series, info: pl.DataFrame) -> pl.Series:
    """The cell's addresses, each cleaned, joined in the input's own separator (a multi-value cell keeps them all)."""
    from crmclean.model.multivalue import cell_separator, join_cell

    email = info.get_column("email")
    extra = info.get_column("extra")
    rows = (email.is_not_null() & extra.is_not_null()).fill_null(False)
    if not rows.any():
        return email
    idx = rows.arg_true()
    cells = [join_cell([e, *x.split("; ")], cell_separator(v))
             for v, e, x in zip(values.gather(idx), email.gather(idx), extra.gather(idx), strict=True)]
    return email.scatter(idx, pl.Series(cells, dtype=pl.String))


@register
class EmailInvalid(ColumnRule):
    """Flag email addresses that are not valid, with the reason and the fix (syntax only, no network lookups).

    What it does: validates each address, as EMAIL001 cleans it, with ``email-validator``
    without DNS lookups and reports why it is invalid (no @, two @, no zone, spaces inside,
    Cyrillic letters typed in the wrong layout, a comma instead of a dot). The hint proposes
    the fix. A display name (``"Ivan" <ivan@x.ru>``), ``mailto:`` or surrounding brackets are
    not errors: EMAIL001 removes them. Fillers (``-``, ``нет``, noemail@…) are PLACEHOLDER001's.
    The value is not changed. Replaces the check EMAILV001.

    Why: an invalid address bounces, breaks integrations that require one, and hides
    the real contact channel.
    """

    code = "EMAIL002"
    name = "email.invalid"
    aliases = ("EMAILV001", "email.syntax")
    summary = "Flag invalid email addresses (email-validator syntax check, no DNS) with the reason and the fix."
    roles = EMAIL_ROLES
    fixes = False
    validates = True
    severity = "error"
    invalidates = True
    kpi = "invalid_email"
    order = 81
    Options = FlagOptions
    examples = (
        Example("ivan.petrov@", "ivan.petrov@", "flagged: there must be something after the @-sign"),
        Example("ivan..petrov@mail.ru", "ivan..petrov@mail.ru", "flagged: two periods in a row"),
        Example("john smith@acme", "john smith@acme", "flagged"),
        Example("a@b,ru", "a@b,ru", "flagged; hint: comma instead of dot: a@b.ru"),
        Example("иванов@", "иванов@", "flagged: nothing after the @-sign"),
        Example('"Susan" <susan.smith@northwind.co.uk>', "susan.smith@northwind.co.uk", "not flagged: EMAIL001 fixes it"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        info = _analysis(values, column, ctx)
        error = info.get_column("error")
        bad = error.is_not_null() & (error != "empty") & ~unfilled_mask(ctx, values, column)
        if not bad.any():
            return StdResult()
        message = pl.DataFrame({"e": error}).select(pl.lit("invalid email: ") + pl.col("e")).to_series()
        hints = map_unique(values.set(~bad.fill_null(False), None), fix_hint, pl.String)
        return StdResult(findings=findings_where(bad, values, column, severity=flag_severity(self),  # type: ignore[arg-type]
                                                 message=message, hint=hints))


class EmailTypoOptions(FlagOptions):
    typos: dict[str, str] = Field(default_factory=dict, description="More domain typo → domain corrections.")


@register
class EmailDomainTypo(ColumnRule):
    """Propose corrections for typos in mail domains (as `suggest`) and flag them.

    What it does: compares the domain with popular mailbox providers (gmail.com,
    yandex.ru, mail.ru, …) using a list of known typos and an edit distance of one or
    two letters (a swap counts as one), plus the ``typos`` configured here. The correction
    is a proposal for review, never applied automatically; every proposed correction of an
    otherwise valid address is also a finding ("did you mean …?"). Replaces the check EMAILV004.

    Why: "ivan@gmial.com" bounces; the steward usually knows it meant gmail.com, but
    the tool must not guess silently.
    """

    code = "EMAIL003"
    name = "email.typo_suggest"
    aliases = ("EMAILV004", "email.domain_typo")
    summary = "Propose fixes for mail-domain typos (gmial.com, yadnex.ru, mail.ry, gmail.co) as suggestions; flag them."
    roles = EMAIL_ROLES
    validates = True
    severity = "warning"
    invalidates = True
    kpi = "invalid_email"
    suggests_only = True
    order = 82
    Options = EmailTypoOptions
    examples = (
        Example("ivan@gmial.com", "ivan@gmail.com", "suggest; flagged: did you mean ivan@gmail.com?"),
        Example("petrov@yadnex.ru", "petrov@yandex.ru", "suggest"),
        Example("olga@mail.ry", "olga@mail.ru", "suggest"),
        Example("john@gmail.co", "john@gmail.com", "suggest"),
        Example("петров@gmial.com", "петров@gmail.com", "suggest"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, EmailTypoOptions)
        info = _analysis(values, column, ctx)
        sugg = info.get_column("suggestion")
        if opts.typos:
            domains = email_domain(info.get_column("email"))
            extra = domains.replace_strict({k.lower(): v.lower() for k, v in opts.typos.items()}, default=None,
                                           return_dtype=pl.String)
            user = info.get_column("email").str.replace(r"@[^@]+$", "@") + extra
            sugg = user.zip_with(user.is_not_null(), sugg)
        if not sugg.is_not_null().any():
            return StdResult()
        after = sugg.fill_null(values).alias(column)
        reason = pl.DataFrame({"d": email_domain(sugg)}).select(pl.lit("probable typo in mail domain; meant ") + pl.col("d"))
        # flagged: a typo in an otherwise valid address (an invalid one is EMAIL002's finding)
        bad = sugg.is_not_null() & info.get_column("error").is_null() & ~unfilled_mask(ctx, values, column)
        hint = pl.DataFrame({"s": sugg}).select(pl.format("did you mean {}?", pl.col("s"))).to_series()
        findings = findings_where(bad, values, column, severity=flag_severity(self),  # type: ignore[arg-type]
                                  message="email domain looks like a typo", hint=hint)
        return StdResult(edits=[ColumnEdit(column, after, reason.to_series(), "suggest")], findings=findings)


def _flag_rule_result(values: pl.Series, column: str, mask: pl.Series, severity: Any, message: str,
                      hint: str) -> StdResult:
    return StdResult(findings=findings_where(mask, values, column, severity=severity, message=message, hint=hint))


def _analysis(values: pl.Series, column: str, ctx: RuleContext) -> pl.DataFrame:
    """EMAIL001's analysis when it ran on this column (its cleaning does not change the verdict), else a fresh one."""
    known = getattr(ctx, "derived", None)  # a dict (standardize) or the derived frame (validate), or None
    if known is not None and derived_name(column, "error") in known and derived_name(column, "suggestion") in known:
        return pl.DataFrame({"email": values, "error": known[derived_name(column, "error")],
                             "suggestion": known[derived_name(column, "suggestion")]})
    return analyze_emails(skip_fillers(values))


class FreeEmailOptions(RuleOptions):
    domains: list[str] = Field(default_factory=list, description="More free-mail domains.")


@register
class EmailFree(ColumnRule):
    """Flag addresses at free mailbox providers (gmail.com, yandex.ru, mail.ru, …) where a work email is expected.

    What it does: reports addresses whose domain is a consumer mailbox provider (a list
    shipped with crmclean, extendable with ``domains``). Nothing is changed.

    Why: a free address says nothing about the company, cannot be used to link a contact
    to an account by domain, and often belongs to a person rather than their job.
    """

    code = "EMAIL004"
    name = "email.free"
    summary = "Flag free-mail addresses (gmail.com, yandex.ru, mail.ru, …)."
    roles = EMAIL_ROLES
    fixes = False
    order = 83
    Options = FreeEmailOptions
    examples = (
        Example("ivan.petrov@yandex.ru", "ivan.petrov@yandex.ru", "flagged (info)"),
        Example("john.smith@gmail.com", "john.smith@gmail.com", "flagged (info)"),
        Example("анна@яндекс.рф", "анна@яндекс.рф", "not flagged unless яндекс.рф is added to `domains`"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, FreeEmailOptions)
        domains = email_domain(cleaned_emails(values))
        free = sorted(free_domains() | {d.lower() for d in opts.domains})
        mask = domains.is_in(free)
        return _flag_rule_result(values, column, mask, "info", "free-mail address",
                                 "prefer a work address when the contact has one")


class RoleEmailOptions(FlagOptions):
    local_parts: list[str] = Field(default_factory=list, description="More role mailbox names (before the @).")


@register
class EmailRole(ColumnRule):
    """Flag role addresses (info@, sales@, office@ …) on records that should be people.

    What it does: reports addresses on contacts and leads whose part before the @ names a
    function rather than a person (a list shipped with crmclean, extendable with
    ``local_parts``; a trailing number or separator is ignored: sales2@, office_1@). A role
    address on a company record is expected and not flagged. Replaces the check EMAILV003.

    Why: info@ and sales@ are read by whoever is on duty; a contact needs a personal
    address for follow-up, and one role address on many contacts makes false duplicates.
    """

    code = "EMAIL005"
    name = "email.role_address"
    aliases = ("EMAILV003", "email.role")
    summary = "Flag role addresses (info@, sales@, office@, …) on person records (contacts, leads)."
    roles = EMAIL_ROLES
    fixes = False
    validates = True
    severity = "info"
    kpi = "role_email"
    objects = ("contacts", "leads")
    order = 84
    Options = RoleEmailOptions
    examples = (
        Example("info@romashka.ru", "info@romashka.ru", "flagged on a contact"),
        Example("sales2@acme.com", "sales2@acme.com", "flagged"),
        Example("priemnaya@romashka.ru", "priemnaya@romashka.ru", "flagged: приёмная"),
        Example("info@romashka.ru", "info@romashka.ru", "not flagged on a company"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, RoleEmailOptions)
        local = email_local(cleaned_emails(values))
        names = sorted(role_local_parts() | {x.lower() for x in opts.local_parts})
        mask = local.is_in(names) | local.str.replace(r"[\d._-]+$", "").is_in(names)
        return _flag_rule_result(values, column, mask, flag_severity(self), "role address, not a person",
                                 "ask for the contact's personal work address")


@register
class EmailDisposable(ColumnRule):
    """Flag disposable (throwaway) mailbox addresses.

    What it does: reports addresses at throwaway services (mailinator.com, yopmail.com,
    10minutemail.com, temp-mail.org, …).

    Why: such an address stops working within minutes or days; the lead is usually not
    reachable and often not genuine.
    """

    code = "EMAIL006"
    name = "email.disposable"
    summary = "Flag disposable addresses (mailinator.com, yopmail.com, temp-mail.org, …)."
    roles = EMAIL_ROLES
    fixes = False
    order = 85
    examples = (
        Example("test123@mailinator.com", "test123@mailinator.com", "flagged"),
        Example("лид@yopmail.com", "лид@yopmail.com", "flagged"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        domains = email_domain(cleaned_emails(values))
        mask = domains.is_in(sorted(disposable_domains()))
        return _flag_rule_result(values, column, mask, "warning", "disposable mailbox",
                                 "the address will not reach anyone; ask for a real one")
