"""Person names: pure knowledge of casing, salutations and suffixes, and splitting a full name (ФИО, initials).

Speed: nothing here calls Python once per row. Case is fixed once per unique *token*;
a full name is split by classifying its tokens column-wise (known given name, patronymic
ending, surname ending, initial) and deciding the order once per unique *pattern* of
classes ("S F P" = surname, given name, patronymic). Values that do not fit that shape
(particles, more than four words) go through :func:`parse_full_name` once per unique value.
Used by the NAME rules, the match profile and matching.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from crmclean._lazy import polars as pl
from crmclean.fields._data import data_set, fold
from crmclean.fields._unique import map_unique

NAME_PART_ROLES = ("first_name", "last_name", "middle_name")
NAME_ROLES = ("full_name", *NAME_PART_ROLES)
NameOrder = Literal["auto", "last_first", "first_last"]

# ---------------------------------------------------------------- vocabulary

PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "la", "le", "du", "da", "di", "dos", "das",
                       "zu", "ten", "ter", "bin", "ibn", "al", "el", "st.", "y"})
TURKIC_PATRONYMIC = frozenset({"оглы", "кызы", "улы", "уулу", "оглу", "кизи"})
_MAC_NAMES = frozenset({"macdonald", "macleod", "mackenzie", "macgregor", "macarthur", "macmillan", "macintyre",
                        "mackay", "maclean", "macneil", "macpherson", "mackinnon", "macaulay", "macbeth", "macdougall",
                        "macfarlane", "maclaren", "macnamara", "macrae", "macdonnell", "macintosh", "mackintosh"})
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii"})

_SALUTATION_WORD = (
    r"(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev|reverend|fr|honorable|senator|congressman|congresswoman|"
    r"representative|mayor|judge|г-н|г-жа|гн|гжа|господин|госпожа|тов|товарищ|д-р|"
    r"проф|уважаемый|уважаемая|mme|mlle|herr|frau)\.?"
)
# one salutation, or several ("Prof. Dr."), or a couple's ("Mr. & Mrs.", "Mr and Mrs"): all of them move
SALUTATION_RE = (
    rf"(?i)^{_SALUTATION_WORD}(?:(?:\s*&\s*|\s+and\s+|\s+и\s+|\s+){_SALUTATION_WORD})*(?:\s+|$)"
)
# words that join two people's names ("John and Jane Smith"): never a name, never capitalized
_JOINERS = frozenset({"and", "und", "et", "и"})
SUFFIX_RE = (
    r"(?i)(?:,?\s+)(?:jr|sr|ii|iii|iv|phd|ph\.d|md|m\.d|mba|esq|cpa|dds|attorney at law|attorney|atty at law|atty|"
    r"к\.т\.н|д\.т\.н|к\.э\.н|д\.э\.н|"
    r"к\.ю\.н|к\.ф\.-м\.н|к\.м\.н|д\.м\.н|мл|ст)\.?$"
)
# generational suffixes: which of a family's namesakes a person is (John Smith Sr. / Jr., Иванов-старший), each
# spelling by the generation it names (II is a junior)
GENERATION_WORDS = {"sr": "Sr.", "senior": "Sr.", "старший": "Sr.", "jr": "Jr.", "junior": "Jr.", "младший": "Jr.",
                    "ii": "Jr.", "iii": "III", "iv": "IV"}
GENERATION_RE = "(" + "|".join(GENERATION_WORDS) + r")\.?"


def generations(text: pl.Series) -> pl.Series:
    """The generation a name as typed writes (:data:`GENERATION_WORDS`: "Sr.", "Jr.", "III", "IV"), else null:
    "John Smith Jr." / "Smith, John Jr." / "Иванов Иван (младший)" -> "Jr."."""
    word = text.str.extract(r"(?i)(?:^|[\s,(-])" + GENERATION_RE + r"\)?(?:$|[\s,])", 1).str.to_lowercase()
    return word.replace_strict(GENERATION_WORDS, default=None, return_dtype=pl.String)


_PATRONYMIC_RE = r"(?:ович|евич|ёвич|ьич|овна|евна|ёвна|ична|инична|ьинична)$"
# the same endings transliterated (Ivanovich, Sergeyevna, Ilyinichna); "-ich" alone is left out (Ulrich, Aldrich)
_LATIN_PATRONYMIC_RS = r"(?i)^[a-z]{2,}(?:ovich|evich|ovna|evna|ichna)$"
_SURNAME_RE = (
    r"(?:ов|ев|ёв|ин|ын|ова|ева|ёва|ина|ына|ский|ская|цкий|цкая|ской|ных|ных|ых|их|енко|ко|ук|юк|чук|ян|янц|дзе|"
    r"швили|ой|ая|ий)$"
)
_INITIAL_RE = r"^\p{L}\.?$"
# a sole trader written before the person's name ("ИП Лебедев Андрей Николаевич"): never a part of the name
_SOLE_TRADER_WORDS = frozenset({"ип", "кфх", "гкфх"})
_SOLE_TRADER_RE = r"(?i)^(?:ип|и\.п\.|ип\s+кфх|ип\s+гкфх|кфх)\s+"


@cache
def given_names() -> frozenset[str]:
    """Known given names (Russian and English, with common short forms), folded."""
    return data_set("first_names_ru.txt") | data_set("first_names_en.txt")


def is_given_name(token: str) -> bool:
    return fold(token) in given_names()


# ---------------------------------------------------------------- case


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def _case_piece(piece: str) -> str:
    low = piece.lower()
    if not low:
        return piece
    if low in _ROMAN:
        return low.upper()
    if len(low) > 3 and low.startswith("mc") and low[2:].isalpha():
        return "Mc" + _cap(low[2:])
    if low in _MAC_NAMES:
        return "Mac" + _cap(low[3:])
    if "'" in low or "’" in low:
        q = "'" if "'" in low else "’"
        head, _, tail = low.partition(q)
        if head in ("o", "d", "l") and tail:
            return head.upper() + q + _cap(tail)
        return _cap(head) + q + tail
    return _cap(low)


def proper_case_token(token: str, *, alone: bool = False) -> str:
    """Proper case for one word of a name; mixed-case words (McDonald, DeVito) are kept as typed."""
    letters = [c for c in token if c.isalpha()]
    if not letters:
        return token
    if token != token.lower() and token != token.upper():
        return token
    low = token.lower()
    if token.isupper() and fold(token).replace(".", "") in _SOLE_TRADER_WORDS:
        return token  # ИП Лебедев …: the legal form of a sole trader, not a word of the name
    if low in ("st.", "st"):
        return "St." if low.endswith(".") else "St"  # Saint: St. John, St Clair (a particle that keeps its capital)
    if not alone and (low in PARTICLES or low in _JOINERS or fold(low) in TURKIC_PATRONYMIC):
        return low
    if len(letters) == 1 or re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]?\.?", token):
        return token.upper()  # initials: "и." -> "И.", "и.и." -> "И.И."
    return "-".join(_case_piece(p) for p in token.split("-"))


def proper_case_name(value: str) -> str:
    """Proper case a name value word by word: "иванов иван" -> "Иванов Иван", "JEAN-LUC" -> "Jean-Luc"."""
    tokens = value.split(" ")
    if len(tokens) == 1:
        return proper_case_token(value, alone=True)
    return " ".join(proper_case_token(t) for t in tokens)


def needs_case(values: pl.Series) -> pl.Series:
    """Some word is all lower or all upper case (a value already in proper case is left alone)."""
    word_flat = values.str.contains(r"(?:^|[\s-])(?:\p{Ll}{2,}|\p{Lu}{2,})(?:$|[\s'-])|^\p{Ll}|\s\p{Ll}[\.\s]|\s\p{Ll}$")
    return word_flat.fill_null(False)


# ---------------------------------------------------------------- salutation / suffix


def split_salutation(value: str) -> tuple[str, str | None, str | None]:
    """(name without them, salutation, suffix): "Dr. John Smith Jr." -> ("John Smith", "Dr.", "Jr.")."""
    sal = None
    suf = None
    m = re.match(SALUTATION_RE.replace("(?i)", ""), value, re.IGNORECASE)
    if m and value[m.end():].strip():
        sal = value[: m.end()].strip()
        value = value[m.end():].strip()
    m2 = re.search(SUFFIX_RE.replace("(?i)", ""), value, re.IGNORECASE)
    if m2 and value[: m2.start()].strip():
        suf = value[m2.start():].strip(" ,")
        value = value[: m2.start()].strip(" ,")
    return value, sal, suf


# ---------------------------------------------------------------- full-name split


@dataclass(frozen=True)
class NameParts:
    first: str | None
    middle: str | None
    last: str | None
    salutation: str | None = None
    suffix: str | None = None
    confident: bool = True  # False when the order was a guess (two unknown words)


def tokenize_name(value: str) -> list[str]:
    """Words of a full name: "Иванов И.И." -> ["Иванов", "И.", "И."]; "Smith, John" -> ["John", "Smith"]."""
    v = value.strip()
    if v.count(",") == 1:
        left, right = (p.strip() for p in v.split(","))
        if left and right:
            v = f"{right} {left}"
    v = re.sub(r"(\w)\.(?=\w)", r"\1. ", v)
    v = re.sub(r"\s+", " ", v).strip()
    return v.split(" ") if v else []


def token_class(token: str) -> str:
    """I initial, P patronymic, F known given name, S surname-like, X unknown (same logic as the vectorized path)."""
    if re.fullmatch(r"[^\W\d_]\.?", token):
        return "I"
    if re.search(_LATIN_PATRONYMIC_RS, token):
        return "P"
    f = fold(token)
    kinds = _morph_kinds(token)
    if len(f) >= 5 and re.search(_PATRONYMIC_RE.replace("ё", "е"), f):
        return "P"
    if "Patr" in kinds and "Name" not in kinds:
        return "P"
    if f in given_names() or ("Name" in kinds and "Surn" not in kinds):
        return "F"
    if "Surn" in kinds or (len(f) >= 4 and re.search(_SURNAME_RE.replace("ё", "е"), f)):
        return "S"
    if "Name" in kinds:
        return "F"
    return "X"


def token_classes(tokens: pl.Series) -> pl.Series:
    """:func:`token_class` per token: ASCII tokens column-wise, the others once per unique token.

    An ASCII token has no Cyrillic, so no pymorphy3 reading and no Russian ending: it is an initial (one
    letter, maybe a dot), a known given name (F) or unknown (X), decided here without Python per token.
    Every other token needs pymorphy3 (Python-bound; in the process pool when there are many).
    """
    ascii_only = tokens.str.contains(r"^[\x00-\x7F]+$").fill_null(False)
    names = pl.Series(sorted(given_names()), dtype=pl.String).implode()
    t = pl.col("t")
    out = pl.DataFrame({"t": tokens}).select(
        pl.when(~ascii_only).then(None)
        .when(t.str.contains(r"^[A-Za-z]\.?$")).then(pl.lit("I"))
        .when(t.str.contains(_LATIN_PATRONYMIC_RS)).then(pl.lit("P"))
        .when(t.str.to_lowercase().is_in(names)).then(pl.lit("F"))
        .otherwise(pl.lit("X")).alias("c")
    ).get_column("c")
    rest = ~ascii_only & tokens.is_not_null()
    if rest.any():
        out = out.scatter(rest.arg_true(), map_unique(tokens.filter(rest), token_class, pl.String, parallel=True))
    return out.alias(tokens.name)


def _morph_kinds(token: str) -> dict[str, str | None]:
    """Given name / patronymic / surname readings of a Cyrillic word in pymorphy3's dictionary (with gender)."""
    if not re.search(r"[А-Яа-яЁё]", token) or len(token) < 2:
        return {}
    from crmclean.fields._morph import name_kinds

    return name_kinds(token[:1].upper() + token[1:].lower())


def name_gender(first: str | None, middle: str | None = None, last: str | None = None) -> str | None:
    """'male' / 'female' from a Russian patronymic, given name or surname (pymorphy3), or None when unsure."""
    for part, kind in ((middle, "Patr"), (first, "Name"), (last, "Surn")):
        if not part:
            continue
        f = fold(part)
        if kind == "Patr" and re.search(r"(?:вич|ьич|оглы|улы|уулу)$", f):
            return "male"
        if kind == "Patr" and re.search(r"(?:вна|ична|кызы|кизи)$", f):
            return "female"
        gender = _morph_kinds(part).get(kind)
        if gender in ("masc", "femn"):
            return "male" if gender == "masc" else "female"
    return None


def assign_parts(pattern: str, cyrillic: bool, order: NameOrder = "auto") -> tuple[int, int, int, bool]:
    """(first, middle, last) token indexes for a pattern of token classes (-1 = none), and whether it is sure.

    The order of Russian ФИО ("Фамилия Имя Отчество") is recognized by the patronymic
    or initials; two plain words are resolved by the given-name list, then by surname
    endings, then by ``order`` (``auto``: Cyrillic → last first, Latin → first last).
    """
    n = len(pattern)
    if n == 0:
        return -1, -1, -1, True
    if n == 1:
        return (0, -1, -1, True) if pattern in ("F", "I") else (-1, -1, 0, pattern != "X")
    default_last_first = order == "last_first" or (order == "auto" and cyrillic)
    if not cyrillic and order != "last_first":
        return _assign_latin(pattern)
    if n == 2:
        a, b = pattern[0], pattern[1]
        if a == "I" and b != "I":
            return 0, -1, 1, True
        if b == "I" and a != "I":
            return 1, -1, 0, True
        if b == "P":
            return 0, 1, -1, True  # "Иван Иванович"
        if a == "F" and b != "F":
            return 0, -1, 1, True
        if b == "F" and a != "F":
            return 1, -1, 0, True
        if a == "S" and b != "S":
            return 1, -1, 0, True
        if b == "S" and a != "S":
            return 0, -1, 1, True
        return (1, -1, 0, False) if default_last_first else (0, -1, 1, False)
    if n == 3:
        if pattern[:2] in ("FP", "IP") and pattern[2] in "PS":
            return 0, 1, 2, True  # Иван Петрович Рабинович: the surname ends like a patronymic
        if pattern[2] == "P":
            return 1, 2, 0, True  # Иванов Иван Иванович
        if pattern[1] == "P":
            return 0, 1, 2, True  # Иван Иванович Иванов
        if pattern[1:] == "II":
            return 1, 2, 0, True  # Иванов И. И.
        if pattern[:2] == "II":
            return 0, 1, 2, True  # И. И. Иванов
        if pattern[0] in "FI" or pattern[1] == "I":
            # John F. Kennedy / Mary Ann Smith; three Cyrillic words with no patronymic and no initial are no
            # Russian shape: "Ким Ен Чер" is Ким's given name "Ен Чер" as often as a first name Ким
            return 0, 1, 2, pattern[0] == "F" and (not cyrillic or pattern[1] == "I")
        if pattern[1] == "F" and pattern[0] in "SX":
            return 1, 2, 0, False  # Смит Джон Пол: surname first
        return (1, 2, 0, False) if default_last_first else (0, 1, 2, False)
    if n == 4 and pattern[3] == "P":
        return 1, 2, 0, False  # double first name / compound
    return 0, -1, n - 1, False


def _assign_latin(pattern: str) -> tuple[int, int, int, bool]:
    """Latin script without a comma: First [Middle] Last, never rotated on a guess; two words whose last is the
    only known given name ("Smith John") are read last-first, unsure (a suggestion unless the record confirms)."""
    n = len(pattern)
    if n == 1:
        return (0, -1, -1, True) if pattern in ("F", "I") else (-1, -1, 0, pattern != "X")
    if n == 3 and pattern[1:] == "FP" and pattern[0] != "F":
        return 1, 2, 0, True  # "Ivanov Ivan Ivanovich": a transliterated ФИО, surname first ("John Paul Jovanovich": no)
    unsure = pattern[-1] == "F" and "F" not in pattern[:-1] and pattern[0] != "I"
    if n == 2:
        # "Smith John": the only known given name is last; read it as first name, but only as a guess
        return (1, -1, 0, False) if unsure else (0, -1, 1, True)
    return 0, 1, n - 1, not unsure


def parse_latin_name(value: str) -> NameParts | None:
    """A Latin-script full name through nameparser: titles (Dr., Lt. Gen., Hon.), suffixes, particles (de la, y,
    van der), nicknames in parentheses or quotes and an explicit "Last, First" (respected as written)."""
    from nameparser import HumanName

    h = HumanName(value)
    rest, own_title, own_suffix = split_salutation(value)
    if (own_title and not h.title) or (own_suffix and not h.suffix):
        # a title or suffix of ours nameparser lacks (Congressman, Reverend, "attorney at law") would be read as a
        # name: taken off first, the rest read by nameparser
        h = HumanName(rest)
        h.title = " ".join(t for t in (own_title, h.title) if t)
        h.suffix = ", ".join(t for t in (h.suffix, own_suffix) if t)
    first, middle, last = h.first or None, h.middle or None, h.last or None
    if first is None and last is None:
        return None  # only a title or a suffix ("Jr."): the general path decides, as the vectorized one does
    words = [w for part in (first, middle, last) if part for w in part.split(" ")]
    pattern = "".join(token_class(w) for w in words)
    if len(words) == 1:  # one word: a given name or a surname, as the vectorized path decides
        fi, _, li, sure = _assign_latin(pattern)
        return NameParts(words[0] if fi == 0 else None, None, words[0] if li == 0 else None,
                         h.title or None, h.suffix or None, sure)
    sure = ("," in value or _assign_latin(pattern)[3]) and _known_titles(h.title)
    return NameParts(first, middle, last, h.title or None, h.suffix or None, sure)


def _known_titles(title: str) -> bool:
    """True when every word nameparser took for a title is one of its titles ("John." is not: the split is a guess)."""
    if not title:
        return True
    from nameparser.config import CONSTANTS

    return all(w.lower().strip(".,") in CONSTANTS.titles for w in title.split())


def _needs_parser(value: str) -> bool:
    """A Latin name with more than plain words (the same values the vectorized split sends to the slow path)."""
    f = fold(value)
    return bool(
        re.search(r"[,.()\"“”«»]", f) or re.search(r"(?:^|\s)'[^'\s]+'(?:\s|$)", f)
        or re.search(SALUTATION_RE, f) or re.search(SUFFIX_RE, f)
        or any(w in PARTICLES for w in f.split()) or len(f.split()) > 4
    )


_TWO_PEOPLE_RS = r"(?i)(?:^|\s)(?:and|und|et|и|&)(?:\s|$)"  # a joiner between two people's names (Rust and Python)
# two initials: a first name with one last initial ("Jim B.") is as common in English lists as "Smith J." is
_SURNAME_INITIALS = re.compile(r"([^\W\d_]{2,}(?:-[^\W\d_]{2,})?),?\s+([^\W\d_])\.\s*([^\W\d_])\.")


def parse_full_name(value: str, order: NameOrder = "auto") -> NameParts:
    """Split a full name into first / middle / last; never adds a word that is not in the value.

    Handles "Иванов Иван Иванович", "Иван Иванович Иванов", "Иванов И.И.", "И. И. Иванов",
    "Smith, John", "Dr. John A. Smith Jr.", "Jan van der Berg", "Алиев Рашид Гусейн оглы".
    """
    value = re.sub(_SOLE_TRADER_RE, "", value.strip())
    if re.search(_TWO_PEOPLE_RS, split_salutation(value)[0]):
        return NameParts(None, None, None, confident=False)  # "John and Jane Smith": two people, no one's parts
    initials = _SURNAME_INITIALS.fullmatch(value)
    if initials and not re.search(r"[А-Яа-яЁё]", value) and not is_given_name(initials.group(1)):
        # "Ivanov I.I.", "Smith J.": a surname and its initials, as "Иванов И.И." (nameparser reads a first name)
        return NameParts(f"{initials.group(2)}.", f"{initials.group(3)}.", initials.group(1), None, None, True)
    if not re.search(r"[А-Яа-яЁё]", value) and order != "last_first" and _needs_parser(value):
        latin = parse_latin_name(value)
        if latin is not None:
            return latin
    rest, sal, suf = split_salutation(value.strip())
    tokens = tokenize_name(rest)
    # glue particles to the following word and Turkic patronymic markers to the preceding one
    merged: list[str] = []
    classes: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = fold(tok)
        if low in TURKIC_PATRONYMIC and merged:
            merged[-1] = f"{merged[-1]} {tok}"
            classes[-1] = "P"
            i += 1
            continue
        if low in PARTICLES and i + 1 < len(tokens) and i > 0:
            j = i
            parts = []
            while j < len(tokens) and fold(tokens[j]) in PARTICLES and j + 1 < len(tokens):
                parts.append(tokens[j])
                j += 1
            parts.append(tokens[j])
            merged.append(" ".join(parts))
            classes.append("L")
            i = j + 1
            continue
        merged.append(tok)
        classes.append(token_class(tok))
        i += 1
    pattern = "".join(classes)
    cyr = bool(re.search(r"[А-Яа-яЁё]", rest))
    if "L" in pattern:
        last_idx = pattern.index("L")
        last = " ".join(merged[last_idx:])
        first = merged[0] if last_idx > 0 else None
        middle = " ".join(merged[1:last_idx]) or None if last_idx > 1 else None
        return NameParts(first, middle, last, sal, suf, True)
    pattern_core = pattern.replace("L", "X")
    if len(merged) > 4:
        return NameParts(merged[0], " ".join(merged[1:-1]), merged[-1], sal, suf, False)
    fi, mi, li, sure = assign_parts(pattern_core, cyr, order)
    if len(merged) == 4 and (fi, mi, li) == (0, -1, 3):
        return NameParts(merged[0], " ".join(merged[1:3]), merged[3], sal, suf, False)
    if len(merged) == 4:
        # Иванов Иван Петр Иванович style: the two middle words are given names
        return NameParts(" ".join(merged[1:3]), merged[3], merged[0], sal, suf, False)

    def pick(k: int) -> str | None:
        return merged[k] if 0 <= k < len(merged) else None

    return NameParts(pick(fi), pick(mi), pick(li), sal, suf, sure)


# ---------------------------------------------------------------- vectorized split


def _tokens(values: pl.Series) -> pl.Series:
    """Vectorized :func:`tokenize_name` for values without commas (those go to the slow path).

    The replacements run only on the values they can change (a dot, a run of spaces, a tab: 2 % of the names at
    300k seed 7); the others are only trimmed (each replace_all copied every value: 0.25 -> 0.07 s at 300k).
    """
    text = values.str.strip_chars()
    odd = values.str.contains(r"\.|\s\s|[^\S ]").fill_null(False)
    if odd.any():
        v = values.filter(odd)
        v = v.str.replace_all(r"(\w)\.(\w)", "$1. $2").str.replace_all(r"(\w)\.(\w)", "$1. $2")
        text = text.scatter(odd.arg_true(), v.str.replace_all(r"\s+", " ").str.strip_chars())
    return text.str.split(" ")


def _assign_key(key: str) -> int:
    order, cyr, pattern = key.split("|")
    fi, mi, li, sure = assign_parts(pattern, cyr == "1", order)  # type: ignore[arg-type]
    return (fi + 1) + 10 * (mi + 1) + 100 * (li + 1) + 1000 * int(sure)


@functools.cache
def _PARTS_STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"first": pl.String, "middle": pl.String, "last": pl.String, "sure": pl.Boolean})


def _slow_parse(key: str) -> dict[str, object]:
    order, value = key.split("|", 1)
    p = parse_full_name(value, order)  # type: ignore[arg-type]
    return {"first": p.first, "middle": p.middle, "last": p.last, "sure": p.confident}


def split_full_names(values: pl.Series, order: NameOrder = "auto") -> pl.DataFrame:
    """first / middle / last / sure for every row of a full-name column (vectorized, same result as parse_full_name)."""
    uniques = values.unique()
    if len(uniques) * 4 > len(values) * 3:
        return _split_rows(values, order)
    # names repeat (one person, many records; common "Иванов Иван"): split each spelling once
    parts = _split_rows(uniques, order).with_columns(uniques.alias("__v"))
    return (
        pl.DataFrame({"__v": values})
        .join(parts, on="__v", how="left", maintain_order="left", nulls_equal=True)
        .select("first", "middle", "last", "sure")
    )


def _split_rows(values: pl.Series, order: NameOrder) -> pl.DataFrame:
    particle_words = "|".join(sorted(PARTICLES | TURKIC_PATRONYMIC)).replace(".", r"\.")
    # lower-case once for the whole value (Unicode case mapping is the costly step) for the slow-path tests
    frame = pl.DataFrame({"v": values}).with_columns(
        pl.col("v").str.to_lowercase().str.replace_all("ё", "е", literal=True).alias("fv")
    )
    # one scan for the six patterns, each in its own group (its flags stay inside): six scans cost 2.5 times more
    slow_patterns = (",", SALUTATION_RE, SUFFIX_RE, rf"(?:^|\s)(?:{particle_words})(?:\s|$)", _SOLE_TRADER_RE,
                     r"[()\"“”«»]")
    frame = frame.with_columns(
        (
            pl.col("fv").str.contains("|".join(f"(?:{p})" for p in slow_patterns))
            | (~pl.col("fv").str.contains(r"[а-я]") & pl.col("fv").str.contains(r"\."))
        ).fill_null(False).alias("slow"),
        _tokens(values).alias("t"),
    )
    frame = frame.with_columns(pl.col("t").list.len().alias("n"))
    frame = frame.with_columns((pl.col("slow") | (pl.col("n") > 4)).alias("slow"))
    frame = frame.with_columns(
        [pl.col("t").list.get(i, null_on_oob=True).alias(f"t{i}") for i in range(4)]
    )
    tokens = pl.concat([frame.get_column(f"t{i}") for i in range(4)]).drop_nulls().unique()
    classes = token_classes(tokens)
    frame = frame.with_columns(
        pl.concat_str([
            pl.col(f"t{i}").replace_strict(tokens, classes, default=None, return_dtype=pl.String).fill_null("")
            for i in range(4)
        ]).alias("pattern"),
        pl.col("v").str.contains(r"[А-Яа-яЁё]").fill_null(False).alias("cyr"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("n") == 4).then(None).otherwise(
            pl.concat_str([pl.lit(order + "|"), pl.col("cyr").cast(pl.Int8).cast(pl.String), pl.lit("|"),
                           pl.col("pattern")])
        ).alias("key")
    )
    code = map_unique(frame.get_column("key"), _assign_key, pl.Int64, parallel=True)
    frame = frame.with_columns(code.alias("code"))

    def pick(shift: int) -> pl.Expr:
        k = (pl.col("code") // shift) % 10 - 1
        return (
            pl.when(k == 0).then(pl.col("t0")).when(k == 1).then(pl.col("t1"))
            .when(k == 2).then(pl.col("t2")).when(k == 3).then(pl.col("t3")).otherwise(None)
        )

    out = frame.select(
        pick(1).alias("first"), pick(10).alias("middle"), pick(100).alias("last"),
        ((pl.col("code") // 1000) == 1).alias("sure"),
        (pl.col("slow") | (pl.col("n") == 4) | pl.col("v").str.contains(_TWO_PEOPLE_RS).fill_null(False)).alias("slow"),
    )
    slow = out.get_column("slow") & values.is_not_null()
    if slow.any():
        keys = order + "|" + values.filter(slow)
        parsed = map_unique(keys, _slow_parse, _PARTS_STRUCT(), parallel=True).struct.unnest()
        idx = slow.arg_true()
        out = out.with_columns(
            out.get_column(c).scatter(idx, parsed.get_column(c)) for c in ("first", "middle", "last", "sure")
        )
    return out.select("first", "middle", "last", "sure")
