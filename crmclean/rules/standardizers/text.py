"""Whitespace and letter-case rules that apply to free-text columns (TEXT001, TEXT002)."""

from __future__ import annotations

import functools
import re
from functools import cache
from typing import Literal

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.company import legal_form_variants
from crmclean.fields.script import fix_mixed_script, mixed_script_mask
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    StdResult,
    data_lines,
    fix_where,
    fold,
    has_cyrillic,
    map_unique_fast,
)

# Characters that look like nothing or like a space: NBSP and friends become a space,
# zero-width and directional marks disappear.
SPACE_LIKE = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\v\f"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SPACE_RE = f"[{SPACE_LIKE}]"
_INVISIBLE_RE = f"[{INVISIBLE}]"
_DIRTY_RE = f"^[ \n]|[ \n]$|  |\n|\r|[{SPACE_LIKE}{INVISIBLE}]"


def clean_whitespace(value: str, *, multiline: bool = False) -> str | None:
    """Trim, turn NBSP-like characters into spaces, drop invisible ones, collapse runs of spaces.

    ``multiline`` keeps line breaks (notes, addresses); otherwise they become spaces.
    Returns None when nothing is left.
    """
    text = re.sub(_INVISIBLE_RE, "", value)
    text = re.sub(_SPACE_RE, " ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if multiline:
        lines = [re.sub(" {2,}", " ", line).strip() for line in text.split("\n")]
        text = re.sub("\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        text = re.sub(r"[ \n]+", " ", text).strip()
    return text or None


def clean_whitespace_expr(col: pl.Expr, *, multiline: bool = False) -> pl.Expr:
    """Vectorized :func:`clean_whitespace` (same result, row by row)."""
    e = col.str.replace_all(_INVISIBLE_RE, "").str.replace_all(_SPACE_RE, " ")
    e = e.str.replace_all("\r\n", "\n", literal=True).str.replace_all("\r", "\n", literal=True)
    if multiline:
        e = e.str.replace_all(" {2,}", " ").str.replace_all(r" *\n *", "\n").str.replace_all("\n{3,}", "\n\n")
        e = e.str.strip_chars(" \n")
    else:
        e = e.str.replace_all(r"[ \n]+", " ").str.strip_chars(" ")
    return pl.when(e == "").then(None).otherwise(e)


class WhitespaceOptions(RuleOptions):
    multiline_roles: list[str] = Field(
        default_factory=lambda: ["notes", "address", "phone", "mobile", "phone2", "email", "email2"],
        description="Roles whose line breaks are kept (only spaces inside each line are collapsed): free text, and "
        "the columns whose cells may hold one value per line (phones, e-mails: the line break is their separator).",
    )


@register
class Whitespace(ColumnRule):
    """Trim values, collapse inner spaces, remove invisible characters and look-alike letters of the other alphabet.

    What it does: removes leading/trailing spaces, turns non-breaking and other exotic
    spaces into plain ones, deletes zero-width characters, soft hyphens and direction
    marks, collapses runs of spaces, and makes a value that is only spaces empty. A word
    mixing Latin and Cyrillic letters is written in its own script when that is certain
    (it holds a letter with no look-alike, and every letter of the other script has one):
    "Сeмёнов" (Latin e) -> "Семёнов", "Ivanоv" (Cyrillic о) -> "Ivanov"; "Сoc" is kept
    (see :mod:`crmclean.fields.script`).

    Why: "Иван␠Петров" (with a non-breaking space from a web form or Excel) and
    "Иван Петров" look the same to a person but never match in a lookup, a filter or a
    duplicate check; so do "Сeмёнов" and "Семёнов".

    Runs on every column by default (set ``columns`` or ``roles`` to narrow it).
    """

    code = "TEXT001"
    name = "text.whitespace"
    summary = ("Trim, collapse inner spaces, remove invisible characters (NBSP, zero-width) and Latin/Cyrillic "
               "look-alike letters inside a word of the other alphabet.")
    roles = ()
    order = 10
    reads_roles = ()
    Options = WhitespaceOptions
    examples = (
        Example("  Иван   Петров ", "Иван Петров"),
        Example("ООО\u00a0«Ромашка»", "ООО «Ромашка»", "non-breaking space"),
        Example("john\u200b.smith@acme.com", "john.smith@acme.com", "zero-width space"),
        Example("   ", "", "only spaces: emptied"),
        Example("Сeмёнов", "Семёнов", "a Latin e inside a Cyrillic word"),
    )

    def target_columns(self, ctx: RuleContext) -> list[str]:
        if self.options.columns is not None or self.options.roles is not None:
            return super().target_columns(ctx)
        return [c for c in ctx.frame.columns if c != ctx.id_column and not c.startswith("__")]

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, WhitespaceOptions)
        role = _role_of(ctx, column)
        multiline = role in opts.multiline_roles
        # one cheap scan finds the few values that need work; only those go through the replacements
        dirty = values.str.contains(_DIRTY_RE).fill_null(False)
        edits = []
        after = values
        if dirty.any():
            sub = values.filter(dirty)
            cleaned = pl.DataFrame({"v": sub}).select(clean_whitespace_expr(pl.col("v"),
                                                                            multiline=multiline)).to_series()
            after = values.clone().scatter(dirty.arg_true(), cleaned)
            edits.append(ColumnEdit(column, after.alias(column), "whitespace cleaned"))
        # letters that look alike but are not ("Сeмёнов" with a Latin e): the same trap as a non-breaking space
        mixed = mixed_script_mask(after)
        if mixed.any():
            fixed = map_unique_fast(after.filter(mixed), fix_mixed_script, pl.String)
            edits.append(ColumnEdit(column, after.clone().scatter(mixed.arg_true(), fixed).alias(column),
                                    "look-alike letters of the other alphabet inside a word replaced"))
        return StdResult(edits=edits)


def _role_of(ctx: RuleContext, column: str) -> str | None:
    for role, cols in ctx.roles.items():
        if column in cols:
            return role
    return None


# ---------------------------------------------------------------- case

CaseStyle = Literal["title", "sentence"]

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SMALL_EN = frozenset({"a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to",
                       "upon", "via", "with", "de", "la", "du", "des", "van", "von", "der", "den"})
_SMALL_RU = frozenset({"и", "в", "во", "на", "по", "с", "со", "к", "ко", "о", "об", "от", "для", "из", "у", "за",
                       "при", "под", "над", "до"})
_VOWELS = set("aeiouyаеёиоуыэюя")


@cache
def fixed_tokens() -> dict[str, str]:
    """Tokens with a fixed spelling anywhere: acronyms and Cyrillic legal forms (folded -> canonical)."""
    out: dict[str, str] = {}
    for line in data_lines("acronyms.txt"):
        out[fold(line)] = line
    for variant in legal_form_variants():
        if variant.isalpha() and has_cyrillic(variant):
            out.setdefault(fold(variant), variant)
    return out


@cache
def _latin_form_tokens() -> dict[str, str]:
    """Latin legal-form abbreviations (LLC, GmbH, SpA): fixed only as the last word, where a legal form sits.

    "GOOD AS NEW" keeps its "As"; "KONGSBERG AS" keeps "AS".
    """
    out: dict[str, str] = {}
    for variant in legal_form_variants():
        if variant.isalpha() and not has_cyrillic(variant):
            out.setdefault(fold(variant), variant)
    return out


def is_shouting_or_flat(value: str) -> bool:
    """True when a value's letters are all upper case or all lower case (and there are some)."""
    letters = [c for c in value if c.isalpha()]
    if len(letters) < 2:
        return False
    return value == value.upper() or value == value.lower()


def _case_word(word: str, *, first: bool, style: CaseStyle, in_caps_value: bool, last: bool = False) -> str:
    fixed = fixed_tokens().get(fold(word))
    if fixed is None and last:
        fixed = _latin_form_tokens().get(fold(word))
    if fixed is not None:
        return fixed
    low = word.lower()
    if in_caps_value and len(word) <= 4 and not (_VOWELS & set(low)) and word.isupper():
        return word  # an acronym such as HSBC, МТС, ВТБ
    if not first and (low in _SMALL_EN or low in _SMALL_RU):
        return low
    if style == "sentence" and not first:
        return low
    return low[:1].upper() + low[1:]


def fix_case(value: str, style: CaseStyle = "title") -> str:
    """Re-case an ALL CAPS or all lower value, keeping acronyms and legal forms (IBM, ООО, LLC).

    ``title`` capitalizes every word except small joining words ("Ростов-на-Дону",
    "Bank of America"); ``sentence`` capitalizes only the first word of the value and of
    every quoted part ("ООО «Торговый дом»"). Values in mixed case are returned unchanged:
    someone typed them deliberately.
    """
    if not is_shouting_or_flat(value):
        return value
    caps = value == value.upper()
    # a one-word value of up to 4 letters in capitals is almost always an acronym (IBM, ВТБ)
    if caps and _WORD.fullmatch(value) and len(value) <= 4:
        return value
    return _recase(value, style, caps)[0]


# Nouns that name a kind of business: a noun right after one is the business's own name ("ЗАВОД СЕВЕР" is
# «Север», not "север"), so lower-casing it is a guess
_GENERIC_RU = frozenset(["завод", "комбинат", "фабрика", "компания", "группа", "центр", "магазин", "салон", "студия", "агентство", "банк", "холдинг", "клиника", "фирма", "предприятие", "объединение", "корпорация", "концерн", "трест", "артель", "ателье", "кафе", "ресторан", "гостиница", "отель", "дом", "бюро", "лаборатория", "институт", "школа", "академия"])

_SOLE_TRADER_RE = re.compile(r"^(ИП|И\.П\.|КФХ|ИП\s+КФХ|ИП\s+ГКФХ)\s+(?=\w)", re.IGNORECASE)


@cache
def _business_words_en() -> frozenset[str]:
    """Common English words of company names (crmclean/data/business_words_en.txt): re-cased as a fix."""
    return frozenset(data_lines("business_words_en.txt"))


# a settlement's type before its name ("г. Москва", "пос. Лесной", "Княжпогостский р-н"): lower case in a place
_PLACE_ABBREVIATIONS = frozenset({"г", "гор", "п", "пос", "пгт", "рп", "с", "д", "дер", "ст", "ст-ца", "х", "р", "н",
                                  "р-н", "обл", "мкр", "ул", "пр", "наб"})


def _recase(value: str, style: CaseStyle, caps: bool, place: bool = False) -> tuple[str, bool]:
    """(re-cased value, sure): sure unless a word might be an unknown acronym or a proper noun made lower case.

    ``place``: a city or region: its type abbreviations stay lower case (г., пос., р-н), "ST." is Saint, and a short
    Cyrillic word is no acronym ("РОСТОВ-НА-ДОНУ", "НУР-СУЛТАН").
    """
    m = _SOLE_TRADER_RE.match(value)
    if m and not any(q in value for q in "«\"„“"):
        # ИП ЛЕБЕДЕВ АНДРЕЙ НИКОЛАЕВИЧ: a sole trader's name is a person's name, cased as one
        from crmclean.fields.names import proper_case_name

        return m.group(1).upper() + " " + proper_case_name(value[m.end():]), True
    out: list[str] = []
    pos = 0
    first = True
    sure = True
    matches = list(_WORD.finditer(value))
    prev_generic = False
    for k, m in enumerate(matches):
        gap = value[pos : m.start()]
        if any(q in gap for q in "«\"„“'("):
            first = True  # a new quoted name starts
        word = m.group(0)
        last = k == len(matches) - 1
        is_fixed = fold(word) in fixed_tokens() or (last and fold(word) in _latin_form_tokens())
        out.append(gap)
        new = _case_word(word, first=first, style=style, in_caps_value=caps, last=last)
        if place and fold(word) in _PLACE_ABBREVIATIONS and value[m.end():m.end() + 1] in (".", "-", " ", ""):
            out.append(word.lower())  # г. Москва: the next word still starts the name
            pos = m.end()
            continue
        if place and fold(word) == "st" and value[m.end():m.end() + 1] == ".":
            new = "St"  # ST. PETERSBURG: Saint, no acronym
        elif caps and not place and not is_fixed and len(word) <= 4 and has_cyrillic(word) and new != word:
            from crmclean.fields._morph import is_common_word

            if not is_common_word(word):
                new = word  # ЦНИИ, ГМК, НК: an acronym the dictionary lacks keeps its capitals (never "Цнии")
        out.append(new)
        if caps and not is_fixed:
            low = word.lower()
            small = low in _SMALL_EN or low in _SMALL_RU
            if not small and new == word:
                sure = False  # kept in capitals as a guessed acronym
            elif has_cyrillic(word):
                from crmclean.fields._morph import is_common_word, is_nominative_noun

                if len(word) <= 4 and not is_common_word(word):
                    sure = False  # НК, ГМК: maybe an acronym that is not in the dictionary
                elif new == low and not small and (not is_common_word(word) or (prev_generic and is_nominative_noun(word))):
                    sure = False  # «ДОМ ИВАНОВА», «ЗАВОД СЕВЕР»: a proper noun would lose its capital
            elif not small and (len(word) <= 3 or (len(word) == 4 and not (_VOWELS & set(low)))):
                sure = False  # SE, AGC: maybe an acronym that is not in the dictionary
            elif not small and low not in _business_words_en():
                sure = False  # EBAY, PAYPAL, MCDONALD'S: a brand may have its own casing
            elif small and first and len(word) <= 2:
                sure = False  # ON SEMICONDUCTOR, AT HOME: a two-letter first word may be the brand's own capitals
            elif small and len(word) == 1 and not first:
                out[-1] = word  # CLASS A, SERIES B: a single letter keeps its capital, and the casing is a guess
                sure = False
            prev_generic = fold(word) in _GENERIC_RU
        if not is_fixed:
            first = False
        pos = m.end()
    out.append(value[pos:])
    return "".join(out), sure


def fix_case_sure(value: str, style: CaseStyle = "title", *, place: bool = False) -> tuple[str, bool]:
    """:func:`fix_case` and whether the result is certain (an ALL CAPS value can hide acronyms and proper nouns).

    ``place``: the value is a city or region (see :func:`_recase`)."""
    if not is_shouting_or_flat(value):
        return value, True
    caps = value == value.upper()
    if caps and _WORD.fullmatch(value) and len(value) <= 4 and not (place and _VOWELS & set(value.lower())):
        return value, True  # IBM, ВТБ; a place with a vowel is a word: СОЧИ, УФА, ОМСК (СПБ, МСК stay)
    return _recase(value, style, caps, place)


def _fix_title(value: str) -> dict[str, object]:
    after, sure = fix_case_sure(value, "title")
    return {"value": after, "sure": sure}


def _fix_sentence(value: str) -> dict[str, object]:
    after, sure = fix_case_sure(value, "sentence")
    return {"value": after, "sure": sure}


def _fix_place(value: str) -> dict[str, object]:
    after, sure = fix_case_sure(value, "title", place=True)
    return {"value": after, "sure": sure}


@functools.cache
def _CASE_STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"value": pl.String, "sure": pl.Boolean})


def _default_styles() -> dict[str, CaseStyle]:
    return {"company": "sentence", "city": "title", "region": "title", "department": "sentence"}


class CaseOptions(RuleOptions):
    style: dict[str, CaseStyle] = Field(
        default_factory=lambda: _default_styles(),
        description="Case style per role: title (every word) or sentence (first word of each quoted part). "
        "Latin-script company names always get title case.",
    )


@register
class ShoutingCase(ColumnRule):
    """Fix ALL CAPS and all lower-case values in company, city and similar columns.

    What it does: re-cases a value only when every letter in it is upper case or every
    letter is lower case. Acronyms and legal forms keep their spelling (IBM, ВТБ, ООО,
    LLC, GmbH); small joining words stay lower case (Ростов-на-Дону, Bank of America).
    Russian company names get sentence case, English ones title case.

    Why: "ООО РОМАШКА" and "ооо ромашка" are the same account; reports, mail merges and
    duplicate checks need one spelling. Mixed-case values are left alone.
    """

    code = "TEXT002"
    name = "text.case"
    summary = "Fix ALL CAPS / all lower case in companies and cities without breaking acronyms (IBM, ООО, LLC)."
    roles = ("company", "city", "region", "department")
    order = 40
    reads_roles = ()
    Options = CaseOptions
    examples = (
        Example("ООО РОМАШКА", "ООО Ромашка"),
        Example("ооо «торговый дом»", "ООО «Торговый дом»"),
        Example("ACME CORPORATION LLC", "Acme Corporation LLC"),
        Example("IBM", "IBM", "a short all-caps name is an acronym"),
        Example("санкт-петербург", "Санкт-Петербург"),
        Example("ростов-на-дону", "Ростов-на-Дону"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, CaseOptions)
        role = _role_of(ctx, column) or "company"
        style = opts.style.get(role, "title")
        has_lower = values.str.contains(r"\p{Ll}")
        has_upper = values.str.contains(r"\p{Lu}")
        from crmclean.fields.placeholder import placeholder_mask

        candidate = (has_lower ^ has_upper).fill_null(False) & ~placeholder_mask(values, role)
        if not candidate.any():
            return StdResult()
        cyr = values.str.contains(r"[А-Яа-яЁё]").fill_null(False)
        place = role in ("city", "region")
        fn = _fix_sentence if style == "sentence" else (_fix_place if place else _fix_title)
        sentence = map_unique_fast(values.filter(candidate & cyr), fn, _CASE_STRUCT()).struct.unnest()
        title = map_unique_fast(values.filter(candidate & ~cyr), _fix_place if place else _fix_title,
                                _CASE_STRUCT()).struct.unnest()
        after = values.clone()
        sure = pl.repeat(True, len(values), eager=True)
        idx_c = (candidate & cyr).arg_true()
        idx_l = (candidate & ~cyr).arg_true()
        for idx, part in ((idx_c, sentence), (idx_l, title)):
            if len(idx):
                after = after.scatter(idx, part.get_column("value"))
                sure = sure.scatter(idx, part.get_column("sure"))
        # an ALL CAPS name with a possible unknown acronym or proper noun is proposed, never applied
        if role != "company":
            sure = pl.repeat(True, len(values), eager=True)  # a city or a department has no legal form or brand acronym
        confidence = fix_where(sure)
        return StdResult(edits=[ColumnEdit(column, after, "letter case fixed", confidence)])
