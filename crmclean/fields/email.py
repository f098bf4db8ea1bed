"""E-mail addresses: pure, vectorized knowledge of one kind of value, shared by rules, profile, matching, survivorship.

Clean and lower-case, split several in a cell, validate (syntax), domain typos, free/role/
disposable lists and a steward-friendly fix hint. The EMAIL001-006 rules are thin classes over it.

Speed: an address that already has the plain shape user@host.tld is checked by one
vectorized regex that accepts only what email-validator accepts; anything else goes to
email-validator once per unique value (no network lookups).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from crmclean._lazy import DamerauLevenshtein
from crmclean._lazy import polars as pl
from crmclean.fields._data import data_set
from crmclean.fields._memo import map_unique_fast, memo_on_values
from crmclean.fields._unique import map_unique
from crmclean.fields.placeholder import placeholder_mask

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


def rfc_valid(address: str) -> bool:
    """True when ``address`` is a valid RFC 5321/5322 address as it stands, quoted local parts and
    address literals included (email-validator with those forms allowed, no DNS)."""
    if "@" not in address:
        return False
    from email_validator import EmailNotValidError, validate_email  # ~0.1 s to import: not for `rules list`

    try:
        validate_email(address, check_deliverability=False, allow_quoted_local=True, allow_domain_literal=True)
    except EmailNotValidError:
        return False
    except Exception:  # an odd input the validator chokes on is not valid
        return False
    return True


def _lower_kept(address: str) -> str:
    """Lower-case a valid address, but never the inside of a quoted local part ("John Smith"@X.org)."""
    local, _, domain = address.rpartition("@")
    if not local.startswith('"') and not domain.startswith("["):
        return address.lower()
    return f"{local if local.startswith(chr(34)) else local.lower()}@{domain if domain.startswith('[') else domain.lower()}"


def _drop_comment(m: re.Match[str]) -> str:
    """An RFC comment inside an address (john(work)@x.org) goes without a trace; one beside it leaves a gap."""
    s, a, b = m.string, m.start(), m.end()
    inside = a > 0 and b < len(s) and not s[a - 1].isspace() and not s[b].isspace()
    return "" if inside else " "


def clean_email_text(text: str) -> list[str]:
    """Strip mailto:, display names and brackets, lower-case; one item per address found in the cell.

    A cell that already holds one valid address (quoted local part, address literal included)
    is only lower-cased: cleaning never turns a valid address into an invalid one.
    """
    t = _MAILTO_RE.sub("", text.strip())
    if rfc_valid(t):
        return [_lower_kept(t)]
    bracketed = _DISPLAY_RE.findall(t)
    if bracketed:
        candidates = bracketed
    else:
        if "@" in t:  # without an @, a bracket is no comment: "ivan(at)mail.ru" hides the @ itself
            t = re.sub(r"\([^()]*\)", _drop_comment, t)  # "ivan@x.ru (Иван)", "john(work)@x.org" comments
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
        if rfc_valid(c):
            out.append(_lower_kept(c))
            continue
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
    from email_validator import EmailNotValidError, validate_email  # ~0.1 s to import: not for `rules list`

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


@functools.cache
def _STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"email": pl.String, "extra": pl.String, "error": pl.String, "suggestion": pl.String})


def _slow(text: str) -> dict[str, Any]:
    r = normalize_email(text)
    return {"email": r.email, "extra": "; ".join(r.extra) or None, "error": r.error, "suggestion": r.suggestion}


def analyze_emails(values: pl.Series, *, suggestions: bool = True) -> pl.DataFrame:
    """Per row: email (clean), extra ("; "-joined), error (None when valid), suggestion (typo fix).

    ``suggestions=False``: the domains of the addresses the fast path cleaned are not compared with the
    mailbox providers (``domain_typo``, once per distinct domain); their ``suggestion`` stays null.
    """
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
        slow = map_unique_fast(values.filter(slow_mask), _slow, _STRUCT()).struct.unnest()
        idx = slow_mask.arg_true()
        out = pl.DataFrame({name: out.get_column(name).scatter(idx, slow.get_column(name)) for name in out.columns})
    if not suggestions:
        return out
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


def email_domain(e: pl.Series) -> pl.Series:
    """The part after the last @ ("ivan@mail.ru" -> "mail.ru")."""
    return e.str.extract(r"@([^@]+)$", 1)


def email_local(e: pl.Series) -> pl.Series:
    """The mailbox name before the @ ("ivan@mail.ru" -> "ivan")."""
    return e.str.extract(r"^([^@]+)@", 1)


def skip_fillers(values: pl.Series) -> pl.Series:
    """The values with the e-mail column's fillers (noemail@…, "-") blanked: nothing to clean or judge."""
    return values.zip_with(~placeholder_mask(values, "email"), pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(""))


def is_free_domain(domain: str) -> bool:
    return domain.lower() in _free()


def role_local_parts() -> frozenset[str]:
    """Mailbox names (before the @) that name a function, not a person: info, sales, office …"""
    return _role()


def is_role_address(address: str) -> bool:
    return address.split("@", 1)[0].lower() in _role()


def is_disposable_domain(domain: str) -> bool:
    return domain.lower() in _disposable()


def cleaned_emails(values: pl.Series) -> pl.Series:
    """The common clean-up of every cell (no splitting, no validation); memoized: EMAIL004/005/006 read the same column."""
    return memo_on_values("email_cleaned", values, lambda v: pl.DataFrame({"v": v}).select(
        _clean_expr(pl.col("v"))).to_series())


def free_domains() -> frozenset[str]:
    """gmail.com, mail.ru, yandex.ru …: the shipped list of free mailbox providers."""
    return _free()


def disposable_domains() -> frozenset[str]:
    return _disposable()


# ---------------------------------------------------------------- why an address is invalid, and the fix

# Accepting this is safe: every address it matches is also valid for email-validator.
_SIMPLE_EMAIL = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$"
)


def email_errors(values: pl.Series) -> pl.Series:
    """Per row: null when the address is valid as typed (or blank), else why not (email-validator, no DNS)."""
    stripped = values.str.strip_chars()
    simple = stripped.str.to_lowercase().str.contains(_SIMPLE_EMAIL).fill_null(False)
    blank = (stripped.is_null() | (stripped == "")).fill_null(True)
    rest = stripped.set(simple | blank, None)
    return map_unique(rest, email_syntax_error, pl.String).alias(values.name)


def fix_hint(value: str) -> str:
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
