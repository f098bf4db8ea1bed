"""Cyrillic ↔ Latin transliteration keys, so that Иванов, Ivanov and Iwanow compare as one name.

Names reach a CRM romanized in many ways: passports (ICAO 2013: Iuliia, Shchukin),
BGN/PCGN (Yuliya, Aleksey), German-style (Iwanow, Schukin, Julija) and ad-hoc (Alexey,
Kuznecov). ``to_latin`` gives one romanization; ``latin_key`` folds the differences
between those systems (and between Latin spellings such as x/ks, w/v, ph/f, double letters)
into one comparable skeleton; ``phonetic_key`` is a coarser key for blocking.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian and Belarusian letters seen in CIS data
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_CYR_TABLE = str.maketrans(_CYR_TO_LAT)  # str.translate: each mapped letter replaced, any other kept

# Rewrites applied in order to a lower-case Latin string; each folds spellings that
# different romanization systems (or typists) use for one Cyrillic sound. The third item: a substring
# every match of the fold holds (None: always tried), so a fold that cannot match is not run.
_FOLDS: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(pattern), repl, need)
    for pattern, repl, need in (
        (r"schtsch|shch|sch|chsh|shh", "sh", "h"),  # щ: shch (BGN/ICAO), schtsch (German), sch, shh
        (r"tsch|tch", "ch", "ch"),  # ч: German tsch
        (r"kh|ch(?=[^aeiouy]|$)", "h", "h"),  # х: kh (BGN) / h (ad hoc); 'ch' before a consonant is German х
        (r"x", "ks", "x"),  # Alexander ~ Aleksandr
        (r"ck|q", "k", None),
        (r"ph", "f", "ph"),
        (r"w", "v", "w"),  # Iwanow ~ Ivanov
        (r"tz|ts|cz", "c", None),  # ц: ts (BGN), tz (German), c (ad hoc, Polish)
        (r"(?<=[aeiou])j(?=[aeiou])", "i", "j"),
        (r"[jy]", "i", None),  # й / я / ю / ё: y (BGN), i (ICAO), j (German)
        (r"(?<=[bcdfghklmnprstvz])io", "e", "io"),  # ё after a consonant: Pyotr ~ Petr, Fyodor ~ Fedor
        (r"^ie", "e", "ie"),  # initial е: Yevgeny ~ Evgeny
        (r"ie(?=v$|va$)", "e", "iev"),  # Solovyev ~ Solovev, Grigoryev ~ Grigorev
        (r"i+", "i", "ii"),  # Dmitriy ~ Dmitrii ~ Dmitry; Iuliia ~ Yuliya (a single i stays as it is)
        (r"([a-z])\1+", r"\1", None),  # double letters: Kirill ~ Kiril, Anna ~ Ana
    )
)
_NOT_LOWER_LATIN = re.compile(r"[^a-z]")
_REPEATS = re.compile(r"(.)\1+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PHONETIC_CLASSES = str.maketrans({
    "s": "s", "z": "s", "c": "s",  # з/с/ц and German s for з
    "v": "v", "f": "v", "b": "p", "p": "p",
    "d": "t", "t": "t",
    "g": "k", "k": "k", "h": "k",
})
_VOWELS = re.compile(r"[aeiou]")


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC.search(text))


def _strip_accents(text: str) -> str:
    # ü -> u, é -> e, ß -> ss (Müller ~ Muller); Cyrillic й/ё survive because we transliterate first
    if text.isascii():  # nothing to decompose (the hot path: most names are plain Latin by now)
        return text
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("œ", "oe")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=262_144)
def to_latin(text: str) -> str:
    """Romanize Cyrillic letters (BGN/PCGN-like); Latin text passes through lower-cased."""
    low = text.lower()
    if not has_cyrillic(low):
        return low
    return low.translate(_CYR_TABLE)


@lru_cache(maxsize=262_144)
def latin_key(text: str) -> str:
    """A spelling-insensitive Latin skeleton of a name: Иванов, Ivanov, Iwanow -> 'ivanov'.

    Щукин/Shchukin/Schukin -> 'shukin'; Юлия/Yuliya/Iuliia/Julija -> 'iulia'.
    Letters only (spaces, hyphens and apostrophes dropped): O'Brien -> 'obrien'.
    """
    if not text:
        return ""
    s = _strip_accents(to_latin(text.replace("ё", "е").replace("Ё", "Е")))
    s = _NOT_LOWER_LATIN.sub("", s)
    for pattern, repl, need in _FOLDS:
        if need is None or need in s:
            s = pattern.sub(repl, s)
    return s


@lru_cache(maxsize=262_144)
def phonetic_key(text: str) -> str:
    """A coarse key for blocking: first letter plus consonant classes, vowels dropped.

    Kuznetsov / Kusnezow / Кузнецов -> 'kssv'; tolerant of romanization, not of every typo.
    """
    key = latin_key(text)
    if not key:
        return ""
    head, tail = key[0], key[1:]
    tail = _VOWELS.sub("", tail).translate(_PHONETIC_CLASSES)
    tail = _REPEATS.sub(r"\1", tail)
    return (head + tail)[:6]


def latin_text(text: str) -> str:
    """Latin-only, accent-free, lower-case words of ``text`` (spaces kept): for token comparisons."""
    s = _strip_accents(to_latin(text))
    return " ".join(_NOT_WORD.sub(" ", s).split())


_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщыэюяabcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def initial_keys() -> frozenset[str]:
    """The keys a name typed as one letter (an initial) can have: a Cyrillic letter romanizes to one or two letters
    (Ю. -> 'iu', Ж. -> 'zh', Я. -> 'ia', Ш. -> 'sh'), so an initial is any of these keys, not a key of length one."""
    return frozenset(latin_key(c) for c in _LETTERS) - {""}


def is_initial_key(key: pl.Expr) -> pl.Expr:
    """Whether a name key (:func:`latin_key`) is an initial's, one of :func:`initial_keys`: the one test of "typed as
    an initial" for blocking (``features.fn_is_initial``) and for the comparisons that read initials."""
    return key.is_in(_initial_key_list())


@lru_cache(maxsize=1)
def _initial_key_list() -> list[str]:
    return sorted(initial_keys())
