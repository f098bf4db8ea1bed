"""Emails: clean and lower-case, split several in a cell, validate, propose domain-typo fixes, flag free/role/disposable (EMAIL001-006).

Speed: an address that already has the plain shape user@host.tld is checked by one
vectorized regex that accepts only what email-validator accepts; anything else goes to
email-validator once per unique value (no network lookups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl
from email_validator import EmailNotValidError, validate_email
from pydantic import Field
from rapidfuzz.distance import DamerauLevenshtein

from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    StdResult,
    data_set,
    derived_name,
    findings_where,
    map_unique_fast,
    memo_on_values,
)

EMAIL_ROLES = ("email", "email2")

# Only addresses email-validator accepts without question: dot-atom ASCII local part, LDH labels,
# an alphabetic TLD that is not a special-use name, no IDNA ("xn--") or "--" labels.
_FAST_RE = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_SPECIAL_TLDS = ("arpa", "invalid", "local", "localhost", "onion", "test")

# popular mailbox domains a typo is compared against
POPULAR_DOMAINS = (
    "gmail.com", "yandex.ru", "mail.ru", "ya.ru", "bk.ru", "inbox.ru", "list.ru", "rambler.ru", "yandex.com",
    "hotmail.com", "outlook.com", "yahoo.com", "icloud.com", "live.com", "aol.com", "protonmail.com",
    "googlemail.com", "yandex.by", "yandex.kz", "yandex.ua", "ukr.net", "gmx.de", "web.de", "me.com", "msn.com",
    "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "comcast.net", "internet.ru", "narod.ru", "lenta.ru",
)
# typos too far for the edit-distance rule but common in Russian data (Cyrillic layout, missing letters)
KNOWN_TYPOS = {
    "gmail.co": "gmail.com", "gmail.cm": "gmail.com", "gmai.com": "gmail.com",
    "gmial.com": "gmail.com", "gamil.com": "gmail.com", "gmal.com": "gmail.com", "gnail.com": "gmail.com",
    "gmail.con": "gmail.com", "gmail.comm": "gmail.com", "g-mail.com": "gmail.com", "gmeil.com": "gmail.com",
    "yadnex.ru": "yandex.ru", "yandeks.ru": "yandex.ru", "yandex.r": "yandex.ru", "yndex.ru": "yandex.ru",
    "yanex.ru": "yandex.ru", "yandex.ry": "yandex.ru", "yandex.tu": "yandex.ru", "jandex.ru": "yandex.ru",
    "mail.ry": "mail.ru", "mail.r": "mail.ru", "mail.rу": "mail.ru", "mali.ru": "mail.ru", "mal.ru": "mail.ru",
    "maill.ru": "mail.ru", "mail.tu": "mail.ru", "mail.eu": "mail.ru", "mail.ri": "mail.ru", "meil.ru": "mail.ru",
    "mail.ro": "mail.ru", "mai.ru": "mail.ru", "mail.rucom": "mail.ru", "mail.com.ru": "mail.ru",
    "rambler.r": "rambler.ru", "rambller.ru": "rambler.ru", "ramler.ru": "rambler.ru",
    "hotmail.co": "hotmail.com", "hotmial.com": "hotmail.com", "hotmal.com": "hotmail.com",
    "outlok.com": "outlook.com", "outllok.com": "outlook.com", "yahoo.co": "yahoo.com", "yaho.com": "yahoo.com",
    "icloud.co": "icloud.com", "iclod.com": "icloud.com", "inbox.r": "inbox.ru", "bk.r": "bk.ru", "list.r": "list.ru",
}

_DISPLAY_RE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")
_MAILTO_RE = re.compile(r"^\s*mailto:\s*", re.IGNORECASE)
_SPLIT_RE = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class EmailResult:
    """A cleaned email cell: the first address, the other addresses, and why it is invalid (if it is)."""

    email: str | None  # cleaned address (lower-case) even when invalid, None when nothing is left
    extra: tuple[str, ...]
    error: str | None  # why ``email`` is invalid; None when valid
    suggestion: str | None = None  # a probable intended address (domain typo)


def clean_email_text(text: str) -> list[str]:
    """Strip mailto:, display names and brackets, lower-case; one item per address found in the cell."""
    t = _MAILTO_RE.sub("", text.strip())
    bracketed = _DISPLAY_RE.findall(t)
    if bracketed:
        candidates = bracketed
    else:
        t = re.sub(r"\([^)]*\)", " ", t)  # "ivan@x.ru (Иван)" comments
        if t.count("@") > 1:
            candidates = [p for p in _SPLIT_RE.split(t) if "@" in p]
        elif t.count("@") == 1:
            # "ivan @ mail.ru", "ivan@mail . ru": spaces around @ and dots are typing noise
            candidates = [re.sub(r"\s*([@.])\s*", r"\1", t)]
        else:
            candidates = [t]
    out = []
    for c in candidates:
        c = _MAILTO_RE.sub("", c).strip()
        prev = None
        while prev != c:  # wrappers and trailing punctuation can nest: "<ivan@x.ru>.",
            prev = c
            c = c.strip("\"'«»<>[](){} ").lstrip(",;:").rstrip(".,;:")
        c = c.lower()
        if c:
            out.append(c)
    return out


@cache
def _free() -> frozenset[str]:
    return data_set("email_free_domains.txt")


@cache
def _disposable() -> frozenset[str]:
    return data_set("email_disposable_domains.txt")


@cache
def _role() -> frozenset[str]:
    return data_set("email_role_localparts.txt")


def email_syntax_error(address: str) -> str | None:
    """Why ``address`` is not a valid email (email-validator, no DNS lookups), or None."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def domain_typo(domain: str) -> str | None:
    """The popular mail domain ``domain`` is probably a typo of ("gmial.com" -> "gmail.com"), or None."""
    d = domain.lower()
    if d in KNOWN_TYPOS:
        return KNOWN_TYPOS[d]
    if d in POPULAR_DOMAINS or d in _free() or len(d) < 6:
        return None
    best: tuple[int, str] | None = None
    for cand in POPULAR_DOMAINS:
        limit = 1 if len(cand) <= 8 else 2
        dist = DamerauLevenshtein.distance(d, cand, score_cutoff=limit)
        if dist <= limit and (best is None or dist < best[0]):
            best = (dist, cand)
    if best is None:
        return None
    # same registrable name with another real TLD (mail.ua, yandex.kz) is not a typo
    if d.split(".")[0] == best[1].split(".")[0] and len(d.split(".")[-1]) >= 2 and d.split(".")[-1] in {
        "ua", "kz", "by", "com", "net", "org", "de", "fr", "uk", "ru", "us", "eu", "it", "es"
    }:
        return None
    return best[1]


def normalize_email(text: str) -> EmailResult:
    """Clean an email cell: first address lower-cased and validated, the rest as extras; typo proposed."""
    found = clean_email_text(text)
    main = found[0] if found else None
    extras = list(found[1:])
    # stripping one wrapper can expose another ("<;@@>" → ";@@" → "@@"): clean until stable, so the rule
    # is idempotent; every pass only removes characters, so this ends
    for _ in range(10):
        if main is None:
            break
        again = clean_email_text(main)
        if again[:1] == [main]:
            break
        extras.extend(again[1:])
        main = again[0] if again else None
    if main is None:
        return EmailResult(None, (), "empty")
    found = [main, *extras]
    error = email_syntax_error(main)
    suggestion = None
    if "@" in main:
        domain = main.rsplit("@", 1)[1]
        fix = domain_typo(domain)
        if fix:
            suggestion = main.rsplit("@", 1)[0] + "@" + fix
    return EmailResult(main, tuple(found[1:]), error, suggestion)


# ---------------------------------------------------------------- vectorized helpers


def _clean_expr(col: pl.Expr) -> pl.Expr:
    """The common clean-up vectorized: trim, mailto:, <bracketed>, trailing dots, lower-case."""
    e = col.str.strip_chars().str.replace(r"(?i)^mailto:\s*", "")
    inner = e.str.extract(r"<\s*([^<>\s]+@[^<>\s]+)\s*>", 1)
    e = pl.when(inner.is_not_null()).then(inner).otherwise(e)
    return (e.str.strip_chars("\"'«»<>[](){} ").str.strip_chars_start(",;:").str.strip_chars_end(".,;:")
            .str.to_lowercase())


def _fast_valid_expr(e: pl.Expr) -> pl.Expr:
    special = "|".join(_SPECIAL_TLDS)
    return (
        e.str.contains(_FAST_RE)
        & (e.str.len_bytes() <= 254)
        & e.str.contains(r"^[^@]{1,64}@")
        & ~e.str.contains("--")  # IDNA-like labels; a "--" in the local part just takes the slow path
        & ~e.str.contains(rf"\.(?:{special})$")
    ).fill_null(False)


_STRUCT = pl.Struct({"email": pl.String, "extra": pl.String, "error": pl.String, "suggestion": pl.String})


def _slow(text: str) -> dict[str, Any]:
    r = normalize_email(text)
    return {"email": r.email, "extra": "; ".join(r.extra) or None, "error": r.error, "suggestion": r.suggestion}


def analyze_emails(values: pl.Series) -> pl.DataFrame:
    """Per row: email (clean), extra ("; "-joined), error (None when valid), suggestion (typo fix)."""
    frame = pl.DataFrame({"v": values}).with_columns(_clean_expr(pl.col("v")).alias("c"))
    raw_simple = (
        pl.col("v").str.count_matches("@") == 1
    ) & ~pl.col("v").str.contains(r"\(|\s@|@\s|[,;]\s*\S")
    frame = frame.with_columns((raw_simple & _fast_valid_expr(pl.col("c"))).fill_null(False).alias("fast"))
    fast = frame.get_column("fast")
    out = frame.select(
        pl.when(pl.col("fast")).then(pl.col("c")).otherwise(None).alias("email"),
        pl.lit(None, dtype=pl.String).alias("extra"),
        pl.lit(None, dtype=pl.String).alias("error"),
        pl.lit(None, dtype=pl.String).alias("suggestion"),
    )
    slow_mask = ~fast & values.is_not_null()
    multi = slow_mask & (values.str.count_matches("@") >= 2).fill_null(False) & ~values.str.contains(
        r"[<>()\"']").fill_null(False)
    if multi.any():
        out, done = _split_cells(values, multi, out)
        fast = fast | done
        slow_mask = slow_mask & ~done
    if slow_mask.any():
        slow = map_unique_fast(values.filter(slow_mask), _slow, _STRUCT).struct.unnest()
        idx = slow_mask.arg_true()
        out = pl.DataFrame({name: out.get_column(name).scatter(idx, slow.get_column(name)) for name in out.columns})
    # typo suggestions for fast-path addresses: once per unique domain
    domains = out.get_column("email").str.extract(r"@(.+)$", 1)
    typo = map_unique_fast(domains.filter(fast), domain_typo, pl.String)
    if typo.is_not_null().any():
        full = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("").scatter(fast.arg_true(), typo)
        sugg = out.get_column("email").str.replace(r"@.+$", "@") + full
        out = out.with_columns(pl.coalesce(out.get_column("suggestion"), sugg).alias("suggestion"))
    return out


def _split_cells(values: pl.Series, todo: pl.Series, out: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """Cells holding several plain addresses ("a@x.ru; b@y.ru"), split column-wise; the rest stay for the slow path."""
    idx = todo.arg_true()
    parts = pl.DataFrame({"i": idx, "v": values.gather(idx)}).with_columns(
        pl.col("v").str.strip_chars().str.replace(r"(?i)^mailto:\s*", "").str.replace_all(r"[\s,;]+", "\x1f")
        .str.split("\x1f").list.eval(pl.element().filter(pl.element().str.contains("@"))).alias("p")
    ).with_columns(pl.int_ranges(0, pl.col("p").list.len()).alias("k")).explode("p", "k")
    parts = parts.filter(pl.col("p").is_not_null()).with_columns(_clean_expr(pl.col("p")).alias("c"))
    parts = parts.with_columns(_fast_valid_expr(pl.col("c")).alias("ok"))
    grouped = parts.group_by("i").agg(
        pl.col("ok").all().alias("all_ok"),
        pl.col("c").sort_by("k").first().alias("email"),
        pl.col("c").sort_by("k").slice(1).str.join("; ").alias("extra"),
    ).filter(pl.col("all_ok"))
    if grouped.height == 0:
        return out, pl.repeat(False, len(values), eager=True).alias("")
    rows = grouped.get_column("i")
    cols = {name: out.get_column(name) for name in out.columns}
    cols["email"] = cols["email"].scatter(rows, grouped.get_column("email"))
    extra = grouped.get_column("extra")
    cols["extra"] = cols["extra"].scatter(rows, extra.zip_with(extra != "", pl.Series([None] * len(extra),
                                                                                      dtype=pl.String)))
    done = pl.repeat(False, len(values), eager=True).alias("").scatter(rows, True)
    return pl.DataFrame(cols), done


def _domain(e: pl.Series) -> pl.Series:
    return e.str.extract(r"@([^@]+)$", 1)


def _local(e: pl.Series) -> pl.Series:
    return e.str.extract(r"^([^@]+)@", 1)


def _skip_fillers(values: pl.Series) -> pl.Series:
    from crmclean.rules.standardizers.placeholders import placeholder_mask

    return values.zip_with(~placeholder_mask(values, "email"), pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(""))


# ---------------------------------------------------------------- rules


@register
class EmailNormalize(ColumnRule):
    """Clean email cells: trim, lower-case, strip mailto: and display names, split several addresses.

    What it does: turns ``"Ivan" <Ivan@Mail.RU>`` into ``ivan@mail.ru``, drops ``mailto:``,
    surrounding quotes/brackets and trailing dots, removes spaces around ``@``, and keeps
    the first address of a cell holding several ("a@x.ru; b@y.ru"), moving the others to
    ``<column>__extra``. Invalid addresses are cleaned the same way but reported by
    EMAIL002.

    Why: the same address written "Ivan@Mail.ru" and "ivan@mail.ru" escapes duplicate
    checks and breaks mail-merge and sync keys.
    """

    code = "EMAIL001"
    name = "email.normalize"
    summary = "Trim and lower-case emails, strip mailto: and display names, split several addresses."
    roles = EMAIL_ROLES
    order = 80
    examples = (
        Example(" Ivan.Petrov@Mail.RU ", "ivan.petrov@mail.ru"),
        Example('"Иван Петров" <Ivan.Petrov@Romashka.RU>', "ivan.petrov@romashka.ru"),
        Example('"Ivan Petrov" <ivan@acme.ru>', "ivan@acme.ru"),
        Example("mailto:John.Smith@Acme.com", "john.smith@acme.com"),
        Example("ivan@acme.ru; petrov@gmail.com", "ivan@acme.ru", "Email__extra = petrov@gmail.com"),
        Example("ivan @ mail.ru", "ivan@mail.ru"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        work = _skip_fillers(values)
        info = analyze_emails(work)
        after = info.get_column("email").fill_null(values).alias(column)
        reason = pl.DataFrame({"x": info.get_column("extra")}).select(
            pl.when(pl.col("x").is_not_null())
            .then(pl.lit(f"email cleaned; other addresses → {derived_name(column, 'extra')}"))
            .otherwise(pl.lit("email cleaned"))
        ).to_series()
        derived = {
            derived_name(column, "error"): info.get_column("error"),
            derived_name(column, "suggestion"): info.get_column("suggestion"),
            derived_name(column, "extra"): info.get_column("extra"),
            derived_name(column, "valid"): info.get_column("error").is_null() & info.get_column("email").is_not_null(),
        }
        return StdResult(edits=[ColumnEdit(column, after, reason)], derived=derived,
                         carries={derived_name(column, "extra")})


@register
class EmailInvalid(ColumnRule):
    """Flag email addresses that are not valid, with the reason (syntax only, no network lookups).

    What it does: validates each address with ``email-validator`` without DNS lookups
    and reports why an address is invalid (no @, two @, bad domain, …). The value is not
    changed.

    Why: an invalid address bounces, breaks integrations that require one, and hides
    the real contact channel.
    """

    code = "EMAIL002"
    name = "email.invalid"
    summary = "Flag invalid email addresses (email-validator syntax check, no DNS) with the reason."
    roles = EMAIL_ROLES
    fixes = False
    order = 81
    examples = (
        Example("ivan.petrov@", "ivan.petrov@", "flagged: there must be something after the @-sign"),
        Example("ivan..petrov@mail.ru", "ivan..petrov@mail.ru", "flagged: two periods in a row"),
        Example("john smith@acme", "john smith@acme", "flagged"),
        Example("иванов@", "иванов@", "flagged: nothing after the @-sign"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        info = _analysis(values, column, ctx)
        error = info.get_column("error")
        bad = error.is_not_null() & (error != "empty")
        message = pl.DataFrame({"e": error}).select(pl.lit("invalid email: ") + pl.col("e")).to_series()
        return StdResult(findings=findings_where(bad, values, column, severity="warning", message=message,
                                                 hint="fix the address or move it to notes"))


class EmailTypoOptions(RuleOptions):
    typos: dict[str, str] = Field(default_factory=dict, description="More domain typo → domain corrections.")


@register
class EmailDomainTypo(ColumnRule):
    """Propose corrections for common typos in mail domains (as `suggest`).

    What it does: compares the domain with popular mailbox providers (gmail.com,
    yandex.ru, mail.ru, …) using a list of known typos and an edit distance of one or
    two letters (a swap counts as one). The correction is a proposal for review, never
    applied automatically.

    Why: "ivan@gmial.com" bounces; the steward usually knows it meant gmail.com, but
    the tool must not guess silently.
    """

    code = "EMAIL003"
    name = "email.typo_suggest"
    summary = "Propose fixes for mail-domain typos (gmial.com, yadnex.ru, mail.ry, gmail.co) as suggestions."
    roles = EMAIL_ROLES
    order = 82
    Options = EmailTypoOptions
    examples = (
        Example("ivan@gmial.com", "ivan@gmail.com", "suggest"),
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
            domains = _domain(info.get_column("email"))
            extra = domains.replace_strict({k.lower(): v.lower() for k, v in opts.typos.items()}, default=None,
                                           return_dtype=pl.String)
            user = info.get_column("email").str.replace(r"@[^@]+$", "@") + extra
            sugg = user.zip_with(user.is_not_null(), sugg)
        if not sugg.is_not_null().any():
            return StdResult()
        after = sugg.fill_null(values).alias(column)
        reason = pl.DataFrame({"d": _domain(sugg)}).select(pl.lit("probable typo in mail domain; meant ") + pl.col("d"))
        return StdResult(edits=[ColumnEdit(column, after, reason.to_series(), "suggest")])


def _flag_rule_result(values: pl.Series, column: str, mask: pl.Series, severity: Any, message: str,
                      hint: str) -> StdResult:
    return StdResult(findings=findings_where(mask, values, column, severity=severity, message=message, hint=hint))


def _cleaned(values: pl.Series) -> pl.Series:
    # EMAIL004/005/006 each clean the same column: once is enough
    return memo_on_values("email_cleaned", values, lambda v: pl.DataFrame({"v": v}).select(
        _clean_expr(pl.col("v"))).to_series())


def _analysis(values: pl.Series, column: str, ctx: RuleContext) -> pl.DataFrame:
    """EMAIL001's analysis when it ran on this column (its cleaning does not change the verdict), else a fresh one."""
    known = getattr(ctx, "derived", {})
    if derived_name(column, "error") in known:
        return pl.DataFrame({"email": values, "error": known[derived_name(column, "error")],
                             "suggestion": known[derived_name(column, "suggestion")]})
    return analyze_emails(_skip_fillers(values))


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
        domains = _domain(_cleaned(values))
        free = sorted(_free() | {d.lower() for d in opts.domains})
        mask = domains.is_in(free)
        return _flag_rule_result(values, column, mask, "info", "free-mail address",
                                 "prefer a work address when the contact has one")


class RoleEmailOptions(RuleOptions):
    local_parts: list[str] = Field(default_factory=list, description="More role mailbox names (before the @).")


@register
class EmailRole(ColumnRule):
    """Flag role addresses (info@, sales@, office@ …) on records that should be people.

    What it does: reports addresses whose part before the @ names a function rather
    than a person (a list shipped with crmclean, extendable with ``local_parts``).

    Why: info@ and sales@ are read by whoever is on duty; a contact needs a personal
    address for follow-up, and one role address on many contacts makes false duplicates.
    """

    code = "EMAIL005"
    name = "email.role_address"
    summary = "Flag role addresses (info@, sales@, office@, …) on person records."
    roles = EMAIL_ROLES
    fixes = False
    order = 84
    Options = RoleEmailOptions
    examples = (
        Example("info@romashka.ru", "info@romashka.ru", "flagged"),
        Example("sales@acme.com", "sales@acme.com", "flagged"),
        Example("priemnaya@romashka.ru", "priemnaya@romashka.ru", "flagged: приёмная"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, RoleEmailOptions)
        local = _local(_cleaned(values))
        names = sorted(_role() | {x.lower() for x in opts.local_parts})
        mask = local.is_in(names)
        return _flag_rule_result(values, column, mask, "info", "role address, not a person",
                                 "find the person's own address")


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
        domains = _domain(_cleaned(values))
        mask = domains.is_in(sorted(_disposable()))
        return _flag_rule_result(values, column, mask, "warning", "disposable mailbox",
                                 "the address will not reach anyone; ask for a real one")


def is_free_domain(domain: str) -> bool:
    return domain.lower() in _free()


def role_local_parts() -> frozenset[str]:
    """Mailbox names (before the @) that name a function, not a person: info, sales, office …"""
    return _role()


def is_role_address(address: str) -> bool:
    return address.split("@", 1)[0].lower() in _role()


def is_disposable_domain(domain: str) -> bool:
    return domain.lower() in _disposable()
