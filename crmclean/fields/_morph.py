"""Russian morphology (pymorphy3 with its Russian dictionaries): given names, patronymics, surnames with gender,
and whether a word is a common word or a proper noun.

One analyzer per process, built on first use (about 15 MB of dictionaries, ~0.3 s); every answer is cached per word.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any, Literal

NameKind = Literal["Name", "Patr", "Surn"]


@cache
def analyzer() -> Any:
    import pymorphy3  # imported lazily: --help and runs without Russian names never load the dictionaries

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=65536)
def name_kinds(word: str) -> dict[str, str | None]:
    """{'Name'|'Patr'|'Surn': gender ('masc'/'femn'/None)} for the nominative readings the dictionary knows.

    Only dictionary words count (pymorphy3's guesses for unknown words are left out), so an unknown word
    has no kind and the caller falls back to its own endings.
    """
    out: dict[str, str | None] = {}
    # a parse is "known" when its word is in the dictionary (ё/е folded): for a word the dictionary does not hold
    # no parse is, so the costly guessing units need not run (10x fewer seconds on a file of typos)
    if not analyzer().word_is_known(word):
        return out
    for p in analyzer().parse(word):
        # the tag test first: ``is_known`` is one more dictionary lookup per parse (pure Python DAWG walk)
        if "nomn" not in p.tag or not p.is_known:
            continue
        for kind in ("Name", "Patr", "Surn"):
            if kind in p.tag and kind not in out:
                out[kind] = p.tag.gender
    return out


@lru_cache(maxsize=65536)
def is_common_word(word: str) -> bool:
    """True when every dictionary reading of a Russian word is a common word (no name, place, organization).

    Lower-casing such a word inside a name is safe ("ТОРГОВЫЙ ДОМ" -> "Торговый дом"); a proper noun or an
    unknown word is not ("ДОМ ИВАНОВА", "ГАЗПРОМ").
    """
    if not analyzer().word_is_known(word.lower()):  # then no reading is known (see name_kinds)
        return False
    parses = analyzer().parse(word.lower())
    # the tag test before ``is_known`` (a dictionary lookup per parse): same verdict, fewer lookups
    if not parses or any(g in p.tag for p in parses for g in ("Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr")):
        return False
    return all(p.is_known for p in parses)


@lru_cache(maxsize=65536)
def is_nominative_noun(word: str) -> bool:
    """A likely reading of a Russian word is a noun in the nominative ("ЗАВОД", "СЕВЕР")."""
    parses = analyzer().parse(word.lower())
    return any("NOUN" in p.tag and "nomn" in p.tag for p in parses)
