"""Reading the reference data shipped in ``crmclean/data`` (name lists, legal forms, titles) and folding keys for lookups."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml


def _data_text(name: str) -> str:
    return (resources.files("crmclean") / "data" / name).read_text(encoding="utf-8")


@cache
def data_lines(name: str) -> tuple[str, ...]:
    """Non-empty, non-comment lines of a data file shipped in ``crmclean/data``."""
    lines = []
    for raw in _data_text(name).splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return tuple(lines)


@cache
def data_set(name: str) -> frozenset[str]:
    """First field of every line, lower-cased (ё → е): a lookup set."""
    return frozenset(fold(line.split("\t")[0]) for line in data_lines(name))


@cache
def data_yaml(name: str) -> Any:
    # libyaml's parser when PyYAML has it (same SafeConstructor, same objects; ~8x faster: titles.yaml 0.10 -> 0.01 s)
    return yaml.load(_data_text(name), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def fold(text: str) -> str:
    """Case- and ё-insensitive form of a value used for dictionary lookups."""
    return text.casefold().replace("ё", "е")


_CYRILLIC = re.compile(r"[А-Яа-яЁё]")


def has_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None
