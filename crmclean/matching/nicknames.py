"""Nickname and diminutive equivalence of given names: Александр ~ Саша ~ Шура ~ Alex, Robert ~ Bob.

The groups live in ``crmclean/data/nicknames_ru.yaml`` and ``nicknames_en.yaml`` (full form
first). Every spelling is reduced with :func:`crmclean.matching.translit.latin_key`, so a
group written in Cyrillic also covers its Latin spellings (Саша ~ Sasha ~ Sascha).
A name may belong to several groups (Chris: Christopher and Christine).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from crmclean.matching.translit import latin_key

DATA_FILES = ("nicknames_ru.yaml", "nicknames_en.yaml")


@lru_cache(maxsize=1)
def _groups() -> dict[str, tuple[str, ...]]:
    """latin key of a spelling -> canonical keys (the full forms of every group it belongs to)."""
    index: dict[str, list[str]] = {}
    for name in DATA_FILES:
        text = resources.files("crmclean.data").joinpath(name).read_text(encoding="utf-8")
        for group in yaml.safe_load(text) or []:
            keys = [latin_key(str(n)) for n in group if str(n).strip()]
            if not keys:
                continue
            canonical = keys[0]
            for key in keys:
                bucket = index.setdefault(key, [])
                if canonical not in bucket:
                    bucket.append(canonical)
    # a full form is first its own canonical (Александр -> aleksandr before any other group)
    out: dict[str, tuple[str, ...]] = {}
    for key, canon in index.items():
        ordered = sorted(canon, key=lambda c: (c != key, c))
        out[key] = tuple(ordered)
    return out


def canonical_forms(name: str) -> tuple[str, ...]:
    """Canonical latin keys of a given name: 'Саша' -> ('aleksandr', 'aleksandra'); unknown -> (key,)."""
    key = latin_key(name)
    if not key:
        return ()
    return _groups().get(key, (key,))


def canonical_first_name(name: str) -> str:
    """The single canonical key used for blocking and display ('Bob' -> 'robert', 'Катя' -> 'ekaterina')."""
    forms = canonical_forms(name)
    return forms[0] if forms else ""


def are_nicknames(a: str, b: str) -> bool:
    """True when two given names share a nickname group (Robert ~ Bob, Екатерина ~ Катя)."""
    fa, fb = canonical_forms(a), canonical_forms(b)
    return bool(fa and fb and set(fa) & set(fb))


def groups_key(name: str) -> str:
    """All canonical forms joined by '|' (stored per record so pairs can be tested column-wise)."""
    return "|".join(canonical_forms(name))
