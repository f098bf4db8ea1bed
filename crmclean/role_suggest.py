"""Suggest a role for a column no header rule recognized: the closest known header spelling.

`crmclean rules infer` prints these for unmapped columns so a steward can write ``--map "Header=role"`` (or the
rules file's ``columns:``) instead of guessing role names. A suggestion is only ever printed, never applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from crmclean.roles import _SYNONYMS, normalize_header

MIN_SCORE = 0.6  # below this, "closest" is noise: no suggestion


@dataclass(frozen=True)
class RoleSuggestion:
    column: str
    role: str
    like: str  # the known header spelling it resembles
    score: float  # 0..1

    def as_dict(self) -> dict[str, object]:
        return {"column": self.column, "role": self.role, "like": self.like, "score": round(self.score, 2)}


@lru_cache(maxsize=1)
def _spellings() -> tuple[tuple[str, str], ...]:
    """(normalized spelling, role) for every known header; short generic spellings are kept out of fuzzy matches."""
    seen: dict[str, str] = {}
    for role, names in _SYNONYMS.items():
        for name in names:
            h = normalize_header(name)
            if len(h) >= 3:
                seen.setdefault(h, role)
    return tuple(seen.items())


def _score(header: str, spelling: str) -> float:
    ratio = SequenceMatcher(None, header, spelling).ratio()
    words, known = set(header.split()), set(spelling.split())
    if known and known <= words:  # every word of a known spelling is in the header: "телефон (доб.)"
        ratio = max(ratio, 0.7 + 0.3 * len(known) / max(len(words), 1))
    elif len(spelling) >= 5 and _starts_a_word(header, spelling):  # prefix of a word
        ratio = max(ratio, 0.65)
    return ratio


def _starts_a_word(header: str, spelling: str) -> bool:
    r"""``re.search(r"(^|\s)" + re.escape(spelling), header)`` without a pattern per spelling (581 spellings
    overflow ``re``'s cache of 512: every call compiled them all again)."""
    i = header.find(spelling)
    while i >= 0:
        if i == 0 or header[i - 1].isspace():
            return True
        i = header.find(spelling, i + 1)
    return False


@lru_cache(maxsize=1024)  # validate and the report ask about the same headers
def suggest_role(header: str) -> RoleSuggestion | None:
    """The closest role for ``header`` by similarity to the known header spellings, or None when nothing is close."""
    h = normalize_header(header)
    if not h:
        return None
    best: tuple[float, str, str] | None = None
    for spelling, role in _spellings():
        score = _score(h, spelling)
        if best is None or score > best[0]:
            best = (score, role, spelling)
    if best is None or best[0] < MIN_SCORE:
        return None
    return RoleSuggestion(column=header, role=best[1], like=best[2], score=best[0])


def suggest_roles(headers: list[str]) -> dict[str, RoleSuggestion | None]:
    """A suggestion (or None) for each header, in order."""
    return {h: suggest_role(h) for h in headers}
