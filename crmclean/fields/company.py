"""Company names: pure knowledge of legal forms (ООО, АО, ИП, LLC, GmbH …), quotes and the matching key.

One list of legal forms (``crmclean/data/legal_forms.yaml``) serves the COMPANY001 rule, the
match profile (``company_key``, ``legal_form``), matching's company tokens and the INN/legal-form
cross-field checks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from crmclean.fields._data import data_yaml, fold, has_cyrillic

QuoteStyle = Literal["auto", "«»", '""', "none"]
FormMode = Literal["normalize", "split", "keep"]

_OPEN = "«„“\"”‘'"
_UNQUOTED_FORMS = frozenset({"ИП", "КФХ"})  # a sole trader's name is a person's name: ИП Иванов И.И.
_QUOTE_CHARS = "«»„“”\"‟″"
_QUOTE_RE = re.compile(f"[{_QUOTE_CHARS}]")  # any of them, compiled once: found by one search, replaced by one sub


@dataclass(frozen=True)
class LegalForm:
    form: str
    position: Literal["prefix", "suffix"]


@dataclass(frozen=True)
class CompanyParts:
    """A company name taken apart: the bare name (no form, no outer quotes) and its legal form."""

    name: str
    legal_form: str | None
    position: Literal["prefix", "suffix"] | None
    sure: bool = True  # False: the form is spelled like an ordinary word (SPA in an all-caps name): suggest only


def _variant_regex(variant: str) -> str:
    if "." in variant or " " in variant:
        pieces = []
        for ch in variant.replace(".", "").replace(" ", ""):
            pieces.append(re.escape(ch))
        body = r"\.?\s?".join(pieces)
        return body + r"\.?"
    return re.escape(variant) + (r"\.?" if variant[-1].isalpha() else "")


def _full_regex(phrase: str) -> str:
    words = [re.escape(w).replace("е", "[её]") for w in phrase.split()]
    return r"\s+".join(words)


@cache
def _forms() -> tuple[tuple[LegalForm, str], ...]:
    """(form, alternation regex) ordered so that longer spellings are tried first."""
    out = []
    for entry in data_yaml("legal_forms.yaml"):
        alts = [_full_regex(p) for p in entry.get("full") or []]
        alts += [_variant_regex(v) for v in entry["variants"]]
        alts.sort(key=len, reverse=True)
        out.append((LegalForm(entry["form"], entry["position"]), "|".join(alts)))
    out.sort(key=lambda fa: -max(len(a) for a in fa[1].split("|")))
    return tuple(out)


@cache
def _prefix_re() -> re.Pattern[str]:
    # only forms written before the name (ООО «Ромашка»): "Limited Brands" or "SAS Institute" start with a brand word
    alts = "|".join(f"(?P<f{i}>{regex})" for i, (lf, regex) in enumerate(_forms()) if lf.position == "prefix")
    return re.compile(rf"^\s*(?:{alts})(?=$|[\s,«„“\"”'(])[\s,]*", re.IGNORECASE)


@cache
def _suffix_re() -> re.Pattern[str]:
    alts = "|".join(f"(?P<f{i}>{regex})" for i, (_, regex) in enumerate(_forms()))
    # (?=[…]): the character every spelling starts with, so the ~150 spellings are tried only where one can begin
    return re.compile(rf"(?:^|[\s,»“”\"')])\s*,?\s*\(?(?=[{_edge_chars(0)}])(?:{alts})\)?\s*$", re.IGNORECASE)


@cache
def _suffix_end_re() -> re.Pattern[str]:
    """What every suffix form match ends with (a spelling's last character, then '.', ')' or spaces): when a name
    does not, :func:`_suffix_re` cannot match and its costly search is skipped (42 % of the distinct names at
    300k seed 7)."""
    return re.compile(rf"[{_edge_chars(-1)}]\.?\)?\s*$", re.IGNORECASE)


@cache
def _edge_chars(edge: int) -> str:
    """The first (``edge`` 0) or last (-1) characters of every spelling in ``_forms()``, as a character class body
    (a full form's е also stands for ё, as in ``_full_regex``; a variant's dots and spaces are optional there)."""
    chars = set()
    for entry in data_yaml("legal_forms.yaml"):
        for phrase in entry.get("full") or []:
            chars.add(phrase.split()[edge][edge])
        for variant in entry["variants"]:
            core = variant.replace(".", "").replace(" ", "") if "." in variant or " " in variant else variant
            chars.add(core[edge])
    if "е" in chars:
        chars.add("ё")
    return "".join(re.escape(c) for c in sorted(chars))


def _which(match: re.Match[str]) -> tuple[LegalForm, str]:
    # the f<i> groups are the patterns' only capturing groups and one of them matched: lastgroup names it
    # (groupdict() built a dict of all ~150 groups for every name)
    name = match.lastgroup
    assert name is not None, "no group matched"
    return _forms()[int(name[1:])][0], match.group(name)


# Legal-form spellings that are also ordinary words or brand pieces ("Day Spa", "Ab Rogers", "Se Habla"): they
# count as a legal form only in the form's own spelling (SpA, S.p.A., NV, N.V., AB) or in its full long form.
_WORDLIKE = frozenset({"spa", "sa", "sl", "as", "ab", "ag", "se", "nv", "bv", "lp", "oy", "oyj", "kg", "sas", "sro",
                       "srl", "asa"})
# Russian abbreviations that are also ordinary words in a shop's name (ПК = personal computer, НП, ИП at the end):
# after the name they count only after a comma or in parentheses ("Ромашка, ПК", "Мир (ПК)").
_RU_AMBIGUOUS_SUFFIX = frozenset({"ПК", "НП", "ИП", "КФХ", "ТСЖ"})
# Words that are no name by themselves: a legal form next to only one of them is part of the name ("Group Ltd").
GENERIC_WORDS = frozenset(
    ["company", "co", "group", "holding", "holdings", "bank", "trading", "services", "service", "consulting", "solutions", "international", "partners", "industries", "enterprises", "the", "limited", "corporation", "inc", "ltd", "llc", "компания", "группа", "холдинг", "банк", "фирма", "предприятие", "организация", "общество", "торговый", "дом", "центр", "сервис"])


def _spelling(matched: str, form: LegalForm, value: str) -> Literal["yes", "unsure", "no"]:
    """Whether the matched text is written as the legal form (its own punctuation and casing)."""
    text = matched.strip(" ,()")
    if has_cyrillic(text) or (form.form in {"ООО", "ОАО", "ЗАО", "ПАО", "АО"} and text.upper() == text):
        return "yes"
    bare = text.replace(".", "").replace(" ", "")
    if " " in text and len(bare) > 8:
        return "yes"  # a long form: Limited Liability Company
    if fold(bare) not in _WORDLIKE and len(bare) <= 6:
        return "yes"  # LLC, Inc, GmbH, Kft: no word of any language, whatever the case
    if text in _spellings(form.form) or ("." in text and text.count(".") >= 2):
        return "yes"
    if len(bare) > 6:  # Limited, Corporation, Incorporated: title case or all caps
        return "yes" if text in (text.title(), text.upper()) else "no"
    if text == text.upper() and value == value.upper():
        return "unsure"  # SPA, SA in an all-caps name: the form or a word, only a person can tell
    return "no"


@cache
def _spellings(form: str) -> frozenset[str]:
    """The form's own spellings (its variants in legal_forms.yaml and the form itself)."""
    return frozenset({v for e in data_yaml("legal_forms.yaml") if e["form"] == form for v in e["variants"]} | {form})


def _too_little(rest: str) -> bool:
    words = re.findall(r"\w+", rest)
    return not words or (len(words) == 1 and fold(words[0]) in GENERIC_WORDS)


def _strip_outer_quotes(name: str) -> str:
    n = name.strip()
    while len(n) >= 2 and n[0] in _OPEN and n[-1] in "»“”\"'‘’":
        n = n[1:-1].strip()
    # an unbalanced leading or trailing quote: ООО "Ромашка
    if n.count("\"") == 1 or (n[:1] in "«„" and "»" not in n and "“" not in n):
        n = n.strip("\"«„").strip()
    if n[-1:] in "»\"" and n.count(n[-1]) == 1 and not any(c in n for c in "«\"„" if c != n[-1]):
        n = n[:-1].strip()
    return n


@lru_cache(maxsize=1024)  # the rule asks for the form and the key of one value in a row: parse it once
def parse_company(text: str) -> CompanyParts:
    """Split the legal form off a company name: 'ООО "Ромашка"' -> ('Ромашка', 'ООО', 'prefix')."""
    value = _SPACES.sub(" ", unescape_html(text).strip()).strip(" ,;")
    m = _prefix_re().match(value)
    if m and not _too_little(value[m.end():]):
        form, matched = _which(m)
        verdict = _spelling(matched, form, value)
        if verdict != "no":
            return CompanyParts(_strip_outer_quotes(value[m.end():].strip(" ,")), form.form, "prefix",
                                verdict == "yes")
    m2 = _suffix_re().search(value) if _suffix_end_re().search(value) else None
    if m2 and not _too_little(value[: m2.start()]):
        form, matched = _which(m2)
        separated = "," in value[m2.start():] or "(" in value[m2.start():]
        verdict = _spelling(matched, form, value)
        if form.form in _RU_AMBIGUOUS_SUFFIX and not separated:
            verdict = "no"
        if verdict != "no":
            head = value[: m2.start() + (1 if value[m2.start()] in "»“”\"')" else 0)].strip(" ,")
            return CompanyParts(_strip_outer_quotes(head), form.form, "suffix", verdict == "yes")
    return CompanyParts(_strip_outer_quotes(value), None, None)


def unescape_html(text: str) -> str:
    """HTML entities from web exports (&quot;, &amp;, &#171;) decoded: '&quot;Гранит&quot;' -> '"Гранит"'."""
    if "&" in text and ";" in text:
        return html.unescape(text)
    return text


def _nest_inner_quotes(name: str, style: QuoteStyle, cyrillic: bool, *, wrapped: bool = True) -> str:
    """Quotes inside a name become the inner pair of the style: „…“ inside «…».

    ``wrapped``: the name is (or will be) inside outer quotes, so every quote in it is an inner one; otherwise
    ("Банк «Открытие»", 'ГМК "Норильский никель"': no legal form, no outer quotes) the first level keeps the
    outer pair and only a quote inside it is an inner one ("Фонд «Завод „Прогресс“»").
    """
    if not _QUOTE_RE.search(name):
        return name
    if style == "none":
        return _QUOTE_RE.sub("", name)
    use_guillemets = style == "«»" or (style == "auto" and cyrillic)
    inner_open, inner_close = ("„", "“") if use_guillemets else ('"', '"')
    outer_open, outer_close = ("«", "»") if use_guillemets else ('"', '"')
    depth = 1 if wrapped else 0
    out = []
    for i, ch in enumerate(name):
        if ch in _QUOTE_CHARS:
            # any quote at a word start opens, any other closes: “ and ” swap roles between languages
            starts = i == 0 or name[i - 1] in " («„“\""
            if starts and ch not in "»":
                depth += 1
                out.append(outer_open if depth == 1 else inner_open)
            else:
                out.append(outer_close if depth <= 1 else inner_close)
                depth = max(depth - 1, 1 if wrapped else 0)
        else:
            out.append(ch)
    return "".join(out)


def _quote(name: str, style: QuoteStyle, cyrillic: bool) -> str:
    if style == "none":
        return name
    if style == "«»" or (style == "auto" and cyrillic):
        return f"«{name}»"
    return f'"{name}"'


def normalize_company(text: str, mode: FormMode = "normalize", quotes: QuoteStyle = "auto",
                      quote_names: bool = True) -> tuple[str, str | None]:
    """(normalized name, legal form): 'общество с ограниченной ответственностью "ромашка"' -> ('ООО «ромашка»', 'ООО').

    ``normalize`` writes the canonical form in its usual place (ООО «Ромашка», Acme LLC);
    ``split`` drops it from the name (returned separately); ``keep`` leaves the form as typed
    and only fixes quotes.
    """
    text = unescape_html(text)
    parts = parse_company(text)
    cyr = has_cyrillic(parts.name)
    name = _nest_inner_quotes(parts.name, quotes, cyr)
    if parts.legal_form is None or mode == "keep":
        if parts.legal_form is None and not _QUOTE_RE.search(text):
            return _SPACES.sub(" ", text.strip()), None
        if parts.legal_form is None:
            had_outer = text.strip()[:1] in _OPEN
            if had_outer:
                return _quote(name, quotes, cyr), None
            return _nest_inner_quotes(parts.name, quotes, cyr, wrapped=False), None
        return _requote_keep(text, quotes), parts.legal_form
    if mode == "split":
        return name, parts.legal_form
    form = parts.legal_form
    if _is_caps(text):
        form = form.upper()  # in an ALL-CAPS name the form keeps the name's case: the case is TEXT002's to fix
    if parts.position == "prefix" or (parts.legal_form and _prefix_form(parts.legal_form)):
        if re.match(r"^[А-ЯЁA-Z]{2,5}\s+[\"«„“]", parts.name):
            # ГМК "Норильский никель", НПО "Сатурн": an acronym before the quoted name stays outside the quotes
            return f"{form} {_requote_keep(parts.name, quotes)}", parts.legal_form
        if parts.name[:1] in _OPEN or parts.name.endswith(")"):
            # «Ромашка» (ликвидировано), Ромашка (филиал): a quoted name and a note after it, or a note in brackets
            # after the name: already quoted, or not all name; its own quotes stay the outer ones, nothing wraps
            return f"{form} {_nest_inner_quotes(parts.name, quotes, cyr, wrapped=False)}", parts.legal_form
        bare = parts.legal_form in _UNQUOTED_FORMS or any(c in name for c in "«»")
        shown = _quote(name, quotes, cyr) if quote_names and not bare else name
        return f"{form} {shown}", parts.legal_form
    return f"{name} {form}", parts.legal_form


def _is_caps(text: str) -> bool:
    """Every letter upper case, and more than a legal form's worth of them (ACME LIMITED, ООО РОМАШКА)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 4 and all(c.isupper() for c in letters)


def _requote_keep(text: str, quotes: QuoteStyle) -> str:
    cyr = has_cyrillic(text)
    if quotes == "none":
        return _QUOTE_RE.sub("", text)
    if quotes == "«»" or (quotes == "auto" and cyr):
        t = re.sub(r'"([^"]*)"', r"«\1»", text)
        return t.replace("“", "»").replace("„", "«").replace("”", "»")
    return _QUOTE_RE.sub('"', text)


@cache
def _prefix_forms() -> frozenset[str]:
    return frozenset(e["form"] for e in data_yaml("legal_forms.yaml") if e["position"] == "prefix")


def _prefix_form(form: str) -> bool:
    return form in _prefix_forms()


def legal_form_of(text: str) -> str | None:
    """The canonical legal form in a company name, or None."""
    return parse_company(text).legal_form


def company_key(text: str) -> str:
    """Matching key: no legal form, no quotes or punctuation, lower case, ё = е ('ООО «Ромашка»' -> 'ромашка')."""
    name = parse_company(text).name
    key = fold(name)
    key = _KEY_APOSTROPHE.sub("", key)
    key = _KEY_PUNCT.sub(" ", key)
    key = key.replace("&", " and ")
    key = _KEY_THE.sub("", key)
    return _SPACES.sub(" ", key).strip()


# company_key's patterns, compiled once (it runs once per distinct company name of a file)
_KEY_APOSTROPHE = re.compile(r"(?<=\w)['‘’`](?=\w)")
_KEY_PUNCT = re.compile(r"[«»„“”\"'‘’`.,:;!?()\[\]{}/\\|*+_#№-]+")
_KEY_THE = re.compile(r"^(?:the)\s+")
_SPACES = re.compile(r"\s+")


def legal_form_variants() -> tuple[str, ...]:
    """Every abbreviation of every legal form, in the order of ``legal_forms.yaml`` (ООО, О.О.О., OOO, …)."""
    return tuple(v for e in data_yaml("legal_forms.yaml") for v in e["variants"])


def legal_form_phrases() -> tuple[str, ...]:
    """Every long form, lower case ("общество с ограниченной ответственностью", "limited liability company")."""
    return tuple(p.casefold() for e in data_yaml("legal_forms.yaml") for p in e.get("full") or [])


# Which legal forms take which kind of Russian INN: a sole trader's is a person's (12 digits),
# a Russian organization's has 10. Foreign forms (LLC, ТОО, ЧУП …) are neither.
SOLE_TRADER_FORMS = frozenset({"ИП"})
RU_ORGANIZATION_FORMS = frozenset({"ООО", "ОАО", "ЗАО", "ПАО", "НАО", "АО", "НКО", "АНО", "НП", "ФГУП", "ГУП", "МУП",
                                   "ФГБУ", "ГБУ", "МБУ", "МКУ", "ГАУ", "ПК", "ТСЖ"})


def is_sole_trader_form(form: str | None) -> bool:
    """ИП: the record is a sole trader (a 12-digit INN)."""
    return form in SOLE_TRADER_FORMS


def is_ru_organization_form(form: str | None) -> bool:
    """ООО, АО, ПАО, ФГУП …: a Russian legal entity (a 10-digit INN)."""
    return form in RU_ORGANIZATION_FORMS
