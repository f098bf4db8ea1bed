"""Mixed scripts: Latin letters typed inside a Cyrillic word (and Cyrillic ones inside a Latin word).

"Сeмёнов" with a Latin ``e``, "ООО «Рoмашка»" with a Latin ``o``, "Ivanоv" with a Cyrillic ``о``: the two
alphabets share a dozen letter shapes (Unicode's confusables, the keyboard layouts of Russian offices), so a
person sees one word where a lookup, a sort or a duplicate check sees another. A word (a run of letters) is
rewritten only when its script is certain: it holds a letter of one script that has no look-alike in the
other (``ё`` in "Сeмёнов", ``v`` in "Ivanоv") and every letter of the other script is a look-alike. A word whose
letters are all look-alikes ("Сoc") or that holds letters of both scripts without look-alikes ("Пaul") is kept.
"""

from __future__ import annotations

import re

from crmclean._lazy import polars as pl

# Latin -> Cyrillic letters drawn alike in common fonts (Unicode confusables restricted to the Russian alphabet)
_LAT_TO_CYR = dict(zip("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ", strict=True))
_CYR_TO_LAT = {**{c: latin for latin, c in _LAT_TO_CYR.items()}, "і": "i", "І": "I"}
_TO_CYR = str.maketrans(_LAT_TO_CYR)
_TO_LAT = str.maketrans(_CYR_TO_LAT)

_RUN = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# a word holds both scripts exactly when a letter of one touches a letter of the other: the cheap column-wise test
MIXED_PATTERN = r"[A-Za-z][\x{0400}-\x{04ff}]|[\x{0400}-\x{04ff}][A-Za-z]"


def _fix_word(word: str) -> str:
    latin = _LATIN.findall(word)
    cyrillic = _CYRILLIC.findall(word)
    if not latin or not cyrillic:
        return word
    latin_alike = all(ch in _LAT_TO_CYR for ch in latin)
    cyrillic_alike = all(ch in _CYR_TO_LAT for ch in cyrillic)
    if latin_alike and not cyrillic_alike:
        return word.translate(_TO_CYR)
    if cyrillic_alike and not latin_alike:
        return word.translate(_TO_LAT)
    return word


def fix_mixed_script(value: str) -> str:
    """Each word of the value in its own script: 'Сeмёнов Пётр' -> 'Семёнов Пётр', 'Ivanоv' -> 'Ivanov'."""
    return _RUN.sub(lambda m: _fix_word(m.group(0)), value)


def mixed_script_mask(values: pl.Series) -> pl.Series:
    """True for values with a word that mixes Latin and Cyrillic letters (the only ones fix_mixed_script may change)."""
    return values.str.contains(MIXED_PATTERN).fill_null(False)
