"""Job titles: pure knowledge of a Russian/English dictionary of variants to one canonical title, with seniority and function.

Used by the TITLE001 rule and by the match profile (canonical title, seniority, function).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from crmclean._lazy import fuzz, process
from crmclean.errors import ConfigError
from crmclean.fields._data import data_yaml, fold

Language = Literal["auto", "same", "ru", "en"]
SENIORITIES = ("Owner", "C-level", "VP", "Director", "Head", "Manager", "Specialist", "Entry")
_RANK = {s: i for i, s in enumerate(SENIORITIES)}


class TitleEntry(BaseModel):
    """One dictionary entry (the shape of ``titles.yaml`` and of ``TITLE001.titles`` in the rules file)."""

    model_config = ConfigDict(extra="forbid")

    en: str = Field(description="Canonical English title.")
    ru: str | None = Field(None, description="Canonical Russian title (default: the English one).")
    seniority: str | None = Field(None, description="Owner, C-level, VP, Director, Head, Manager, Specialist, Entry.")
    function: str | None = Field(None, description="Sales, Marketing, Finance, IT, Operations, HR, Legal, ...")
    variants: list[str] = Field(default_factory=list, description="Spellings that mean this title.")
    related: list[str] = Field(default_factory=list, description="Other titles of the same role family (its "
                               "seniority and function, the same canonical key for matching) that are not this title: "
                               "a higher or lower rank, another profession; read, never rewritten.")


@dataclass(frozen=True)
class TitleMatch:
    """What a title value means: canonical titles in both languages, seniority, function, and how it was found."""

    en: str | None
    ru: str | None
    seniority: str | None
    function: str | None
    how: Literal["exact", "compound", "fuzzy", "related", "keywords", "unknown"]
    score: float = 100.0

    def title(self, cyrillic: bool) -> str | None:
        return self.ru if cyrillic else self.en


def title_keys(text: str) -> tuple[str, str]:
    """Two lookup keys: dots as spaces ("ген. директор" -> "ген директор") and dots dropped ("c.e.o." -> "ceo")."""
    f = fold(text)
    f = re.sub(r"[\-–—_/\\,;:()\"'«»!?]+", " ", f)
    spaced = re.sub(r"\s+", " ", f.replace(".", " ")).strip()
    dropped = re.sub(r"\s+", " ", f.replace(".", "")).strip()
    return spaced, dropped


_COMPOUND_RE = re.compile(r"\s*(?:&|\+|/|,|;|\band\b|\bи\b)\s*", re.IGNORECASE)

# keyword fallbacks for titles outside the dictionary (checked on the spaced key, first hit wins)
_SENIORITY_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(главный|ведущий|старший|senior|leading|lead) (специалист|specialist)\b", "Specialist"),  # a grade
    (r"\b(founder|co founder|cofounder|owner|основатель|учредитель|соучредитель|владелец|собственник)\b", "Owner"),
    (r"\b(chief \w+ officer|c[a-z]o|генеральный директор|президент|president|chairman|председатель)\b", "C-level"),
    (r"\b(vice president|vp|svp|evp|вице президент)\b", "VP"),
    (r"\b(заместитель|зам|deputy)\b", "VP"),
    (r"\b(director|директор|dir)\b", "Director"),
    (r"\b(head|lead|руководитель|начальник|заведующий|зав|нач|рук|главный|chief)\b", "Head"),
    (r"\b(manager|mgr|менеджер|управляющий|supervisor)\b", "Manager"),
    (r"\b(intern|trainee|стажер|практикант|junior|младший|assistant|ассистент|помощник|secretary|секретарь)\b",
     "Entry"),
    (r"\b(specialist|специалист|engineer|инженер|analyst|аналитик|developer|разработчик|программист|accountant|"
     r"бухгалтер|consultant|консультант|designer|дизайнер|юрист|lawyer|экономист|economist|coordinator|"
     r"координатор|officer|representative|представитель|агент|agent|эксперт|expert|оператор|operator)\b", "Specialist"),
)
_FUNCTION_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(sales|продаж\w*|коммерческ\w*|account|business development|развити\w* бизнеса|bdm|kam|торгов\w*)\b", "Sales"),
    (r"\b(marketing|mktg|маркетинг\w*|маркетолог|pr|brand|бренд\w*|smm|реклам\w*|communications|коммуникац\w*)\b",
     "Marketing"),
    (r"\b(finance|financial|финанс\w*|cfo|бухгалт\w*|accounting|accountant|казнач\w*|treasury|экономи\w*|audit\w*|"
     r"аудит\w*)\b", "Finance"),
    (r"\b(it|ит|cto|cio|developer|разработ\w*|программист\w*|software|системн\w*|sysadmin|devops|data|"
     r"информационн\w*|digital|цифров\w*)\b", "IT"),
    (r"\b(hr|human resources|people|персонал\w*|кадр\w*|recruit\w*|рекрут\w*|talent)\b", "HR"),
    (r"\b(legal|юрист\w*|юридическ\w*|lawyer|counsel|правов\w*)\b", "Legal"),
    (r"\b(procurement|purchasing|закуп\w*|снабжен\w*|buyer|тендер\w*)\b", "Procurement"),
    (r"\b(operations|operating|coo|операцион\w*|логист\w*|logistics|supply|производств\w*|production|склад\w*|"
     r"warehouse|project|проект\w*)\b", "Operations"),
    (r"\b(product|продукт\w*)\b", "Product"),
    (r"\b(engineering|engineer|инженер\w*|техническ\w*|technical)\b", "Engineering"),
    (r"\b(support|поддержк\w*|customer service|клиентск\w*|сервис\w*)\b", "Customer Service"),
    (r"\b(security|безопасност\w*)\b", "Security"),
    (r"\b(office|офис\w*|administrat\w*|администрат\w*|secretary|секретар\w*|assistant|помощник)\b", "Administration"),
    (r"\b(ceo|генеральный директор|founder|основатель|owner|владелец|president|президент|general manager|"
     r"managing director|управляющий директор|executive director|исполнительный директор|директор)\b", "Management"),
)


# Explicit patterns that decide before any keyword: an assistant to an executive is no executive; a deputy
# ranks one step below the role named after "deputy" (a deputy head of a department is no VP).
_ASSISTANT_RE = re.compile(r"\b(assistant to|executive assistant|personal assistant|pa to|помощник|ассистент|"
                           r"секретарь|secretary|референт)\b")
_DEPUTY_RE = re.compile(r"\b(deputy|заместитель|зам|замдиректора|vice(?! president))\b\s*")
_GENITIVE = {"генерального директора": "генеральный директор", "финансового директора": "финансовый директор",
             "коммерческого директора": "коммерческий директор", "технического директора": "технический директор",
             "директора": "директор", "начальника": "начальник", "руководителя": "руководитель",
             "председателя": "председатель", "президента": "президент", "главного": "главный"}
_ONE_DOWN = {"Owner": "C-level", "C-level": "VP", "VP": "Director", "Director": "Head", "Head": "Manager",
             "Manager": "Specialist", "Specialist": "Specialist", "Entry": "Entry"}


def classify_title(text: str) -> tuple[str | None, str | None]:
    """(seniority, function) from explicit patterns and keywords, for titles outside the dictionary."""
    spaced, _ = title_keys(text)
    function = next((f for pattern, f in _FUNCTION_WORDS if re.search(pattern, spaced)), None)
    if _ASSISTANT_RE.search(spaced):
        return "Specialist", "Administration"
    deputy = _DEPUTY_RE.search(spaced)
    if deputy:
        rest = (spaced[: deputy.start()] + " " + spaced[deputy.end():]).strip()
        for gen, nom in _GENITIVE.items():  # заместитель начальника отдела: the role after it is in the genitive
            rest = re.sub(rf"\b{gen}\b", nom, rest)
        base = next((s for pattern, s in _SENIORITY_WORDS if re.search(pattern, rest)), None)
        return _ONE_DOWN.get(base or ""), function
    seniority = next((s for pattern, s in _SENIORITY_WORDS if re.search(pattern, spaced)), None)
    return seniority, function


class TitleDictionary:
    """Variant key -> entry, built from the shipped dictionary plus the user's entries (which win).

    A variant is a spelling of the entry's title (rewritten to it); a related title only shares its seniority,
    function and matching key ("ведущий юрист" is no "Юрист" to write): found by exact key, never by fuzzy match.
    """

    def __init__(self, entries: list[TitleEntry]) -> None:
        self.entries = entries
        self.by_key: dict[str, TitleEntry] = {}
        self.related: dict[str, TitleEntry] = {}
        for entry in entries:
            for spelling in entry.related:
                for key in title_keys(spelling):
                    if key:
                        self.related[key] = entry
            for spelling in [entry.en, entry.ru or entry.en, *entry.variants]:
                for key in title_keys(spelling):
                    if key:
                        self.by_key[key] = entry
                        self.related.pop(key, None)  # a later entry's own spelling wins
        self._fuzzy_keys = [k for k in self.by_key if len(k) >= 4]

    def exact(self, text: str) -> TitleEntry | None:
        for key in title_keys(text):
            hit = self.by_key.get(key)
            if hit is not None:
                return hit
        return None

    def fuzzy(self, text: str, min_score: float) -> tuple[TitleEntry, float] | None:
        spaced, _ = title_keys(text)
        if len(spaced) < 4:
            return None
        best = process.extractOne(spaced, self._fuzzy_keys, scorer=fuzz.ratio, score_cutoff=min_score)
        if best is None or not _same_words_but_typos(spaced, best[0]):
            return None
        return self.by_key[best[0]], float(best[1])

    def match(self, text: str, min_score: float = 90) -> TitleMatch:
        entry = self.exact(text)
        if entry is not None:
            return _from_entry(entry, "exact")
        for key in title_keys(text):
            if key in self.related:  # its own rank words first ("менеджер по закупкам" is no head of procurement)
                entry = self.related[key]
                own, _ = classify_title(text)
                return TitleMatch(entry.en, entry.ru or entry.en, own or entry.seniority, entry.function, "related")
        parts = [p for p in _COMPOUND_RE.split(text) if p.strip()]
        if len(parts) > 1:
            found = [self.exact(p) for p in parts]
            if all(found):
                entries = [e for e in found if e is not None]
                top = min(entries, key=lambda e: _RANK.get(e.seniority or "", 99))
                en = " & ".join(dict.fromkeys(e.en for e in entries))
                ru_parts = list(dict.fromkeys(e.ru or e.en for e in entries))
                ru = " и ".join([ru_parts[0]] + [_lower_first(p) for p in ru_parts[1:]])
                return TitleMatch(en, ru, top.seniority, top.function, "compound")
        fuzzy = self.fuzzy(text, min_score)
        if fuzzy is not None:
            entry, score = fuzzy
            return _from_entry(entry, "fuzzy", score)
        seniority, function = classify_title(text)
        return TitleMatch(None, None, seniority, function, "keywords" if (seniority or function) else "unknown", 0.0)


def _same_words_but_typos(a: str, b: str) -> bool:
    """Two titles with the same words up to a typo in each ("sales managr" ~ "sales manager"), never a different
    word ("data analyst" vs "sales analyst", "head of sales" vs "sales"): a fuzzy match may fix spelling only."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return False
    for x, y in zip(wa, wb, strict=True):
        if x == y:
            continue
        if min(len(x), len(y)) < 4 or fuzz.ratio(x, y) < 80:
            return False
    return True


def _lower_first(title: str) -> str:
    first = title.split(" ")[0]
    if first.isupper() or re.search(r"[A-Z]", first):
        return title  # an acronym or a Latin word: CEO, IT-директор
    return title[:1].lower() + title[1:]


def _from_entry(entry: TitleEntry, how: Any, score: float = 100.0) -> TitleMatch:
    return TitleMatch(entry.en, entry.ru or entry.en, entry.seniority, entry.function, how, score)


def _function_entries() -> list[TitleEntry]:
    """Five canonical roles per function of ``title_functions.yaml`` (director, head, manager, specialist, deputy)."""
    out = []
    for f in data_yaml("title_functions.yaml"):
        en, po, dept, fn = f["en"], f["ru_po"], f["ru_dept"], f["function"]
        low = en.lower()
        out += [
            TitleEntry(en=f"{en} Director", ru=f"Директор по {po}", seniority="Director", function=fn,
                       variants=[f"director of {low}", f"{low} director", f"директор по {po}",
                                 f"директор {dept}"]),
            TitleEntry(en=f"Head of {en}", ru=f"Руководитель {dept}", seniority="Head", function=fn,
                       variants=[f"head of {low}", f"{low} head", f"head of {low} department",
                                 f"руководитель {dept}", f"начальник {dept}", f"нач. {dept}",
                                 f"руководитель направления по {po}", f"заведующий {dept}"]),
            TitleEntry(en=f"{en} Manager", ru=f"Менеджер по {po}", seniority="Manager", function=fn,
                       variants=[f"{low} manager", f"manager of {low}", f"менеджер по {po}", f"менеджер {dept}"]),
            TitleEntry(en=f"{en} Specialist", ru=f"Специалист по {po}", seniority="Specialist", function=fn,
                       variants=[f"{low} specialist", f"специалист по {po}", f"специалист {dept}"]),
            TitleEntry(en=f"Deputy {en} Director", ru=f"Заместитель директора по {po}", seniority="Head",
                       function=fn, variants=[f"deputy {low} director", f"deputy director of {low}",
                                              f"заместитель директора по {po}", f"зам. директора по {po}",
                                              f"зам директора по {po}"]),
        ]
    return out


@cache
def builtin_entries() -> tuple[TitleEntry, ...]:
    """The curated dictionary (titles.yaml) plus the functional roles it does not name itself."""
    entries = [TitleEntry.model_validate(e) for e in data_yaml("titles.yaml")]
    known_en = {e.en.casefold() for e in entries}
    known_keys = {k for e in entries for sp in [e.en, e.ru or e.en, *e.variants, *e.related] for k in title_keys(sp)}
    for entry in _function_entries():
        own = {k for sp in (entry.en, entry.ru or entry.en) for k in title_keys(sp)}
        if entry.en.casefold() in known_en or own & known_keys:
            continue  # the curated table already names this role (CHRO = Директор по персоналу)
        # a spelling the curated table already gives to a role stays that role's
        entry.variants = [v for v in entry.variants if not set(title_keys(v)) & known_keys]
        entries.append(entry)
    return tuple(entries)


@cache
def default_dictionary() -> TitleDictionary:
    return TitleDictionary(list(builtin_entries()))


def build_dictionary(extra: list[TitleEntry], path: str | None = None) -> TitleDictionary:
    """The shipped dictionary extended (and overridden, by English title) with user entries."""
    entries = {e.en: e for e in builtin_entries()}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
            for raw in loaded:
                entry = TitleEntry.model_validate(raw)
                entries[entry.en] = entry
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"cannot read title dictionary: {exc}", path=path) from None
    for entry in extra:
        entries[entry.en] = entry
    return TitleDictionary(list(entries.values()))


def canonical_title(text: str, language: Language = "same", min_score: float = 90) -> TitleMatch:
    """Canonical title, seniority and function for a job title in Russian or English (default dictionary)."""
    return default_dictionary().match(text, min_score)
