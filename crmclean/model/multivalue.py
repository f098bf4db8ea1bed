"""Multi-value cells: one cell holding several phones or e-mails ("8 (984) 388-32-73, 8 (981) 432-96-66").

Bitrix24, amoCRM and 1C export several values of one kind in one cell; the Bitrix24 and amoCRM
connectors join them with ``", "``. The record table keeps such a cell as it is; the phone and
e-mail rules normalize *each* value and rewrite the cell with all of them, in the input's own
separator (:func:`cell_separator`, :func:`join_cell`). Nothing is moved out of the cell, so a
write-back carries every value.

Also here: the names of crmclean's own derived columns (``Phone__ext``, ``Name__suffix`` …),
recognized when a file is read again so they are never re-read as inputs, and the value keys
the write-back fidelity guard compares (:func:`phone_keys`, :func:`email_addresses`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# roles whose cell may hold several values of one kind
MULTI_VALUE_ROLES = frozenset({"phone", "mobile", "fax", "email", "email2"})

DEFAULT_SEPARATOR = ", "  # the Bitrix24 / amoCRM connectors' join
_SEP_RE = re.compile(r"\s*([,;\n])\s*|\s+(/)\s+")
# split_cell's knowledge for polars' regexes, where a cell matching neither is split_cell's one value, unchanged:
# its separators (_SEP_RE's), and a blank at either end (Rust's \s lacks \x1c-\x1f, which Python's str.strip and
# split_cell's marker treat as blanks, so those count anywhere)
SEPARATOR_PATTERN = r"[,;\n]|\s/\s"
BLANK_EDGE_PATTERN = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$|[\x1c-\x1f]"

# suffixes of derived columns the standardizers compute (``<column>__<suffix>``)
DERIVED_SUFFIXES = frozenset({
    "ext", "extra", "type", "e164", "e164_extra", "error", "suggestion", "valid",
    "salutation", "suffix", "first", "last", "middle", "given", "family", "patronymic", "gender",
    "legal_form", "seniority", "function", "title_norm", "country", "region", "parts", "initials",
})


def cell_separator(text: str | None, default: str = DEFAULT_SEPARATOR) -> str:
    """The separator a multi-value cell uses, spelled the way the input spells it ("a; b" → "; ", "a,b" → ",")."""
    if not text:
        return default
    m = _SEP_RE.search(text)
    if m is None:
        return default
    if m.group(2):
        return " / "
    sep = m.group(1)
    if sep == "\n":
        return "\n"
    return sep + (" " if m.group(0).endswith(" ") or m.group(0).endswith("\t") else "")


def split_cell(text: str | None) -> list[str]:
    """The values of a multi-value cell (empty parts dropped)."""
    if text is None:
        return []
    return [p.strip() for p in _SEP_RE.sub("\x1f", text).split("\x1f") if p and p.strip()]


def join_cell(values: Iterable[str | None], sep: str = DEFAULT_SEPARATOR) -> str | None:
    """All non-empty values joined with ``sep`` (None when there are none); duplicates kept once, order kept."""
    out: list[str] = []
    for v in values:
        if v is None:
            continue
        v = v.strip()
        if v and v not in out:
            out.append(v)
    return sep.join(out) if out else None


def is_derived_column(name: str, columns: Iterable[str]) -> bool:
    """True for ``<column>__<suffix>`` when ``<column>`` is another column and the suffix is one of crmclean's own."""
    if "__" not in name or name.startswith("__"):
        return False
    base, _, suffix = name.rpartition("__")
    return suffix in DERIVED_SUFFIXES and base in set(columns)


# ---------------------------------------------------------------- value keys (fidelity guard)

_EMAIL_RE = re.compile(r"[^\s,;<>()\"'\[\]:]+@[^\s,;<>()\"'\[\]]+\.[^\s,;<>()\"'\[\]]+")
_PHONE_RE = re.compile(r"\+?\d[\d \t().\-]{4,}\d")  # one line: numbers on separate lines are separate
_EXT_RE = re.compile(r"(?i)(?:доб(?:авочный)?|вн(?:утр(?:енний)?)?|доп|ext(?:ension)?|extn|x|#)\.?\s*[:.№#]?\s*(\d{1,7})")


def email_addresses(text: str | None) -> set[str]:
    """Every e-mail address in ``text``, lower-cased (trailing dots dropped)."""
    if not text:
        return set()
    return {m.group(0).rstrip(".").lower() for m in _EMAIL_RE.finditer(text)}


def phone_keys(text: str | None) -> set[str]:
    """Every phone number in ``text`` as its last 10 digits, leading zeros dropped (trunk prefix and country
    code do not matter),
    and every extension as ``ext:<digits>``; e-mail addresses are ignored."""
    if not text:
        return set()
    text = _EMAIL_RE.sub(" ", text)
    keys = set()
    for m in _PHONE_RE.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) >= 5:
            # a national trunk 0 ("089 5390436" is +49 89 5390436) is not part of the number
            keys.add(digits[-10:].lstrip("0") or digits)
    for m in _EXT_RE.finditer(text):
        keys.add("ext:" + m.group(1))
    return keys


def phone_key_present(key: str, pool: set[str]) -> bool:
    """A phone key is kept when the pool has it, or has a number ending with it (a fuller spelling)."""
    if key in pool:
        return True
    if key.startswith("ext:"):
        return False
    return any(p.endswith(key) or (key.endswith(p) and len(p) >= 7) for p in pool if not p.startswith("ext:"))
