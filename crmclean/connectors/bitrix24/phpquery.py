"""PHP-style nested query strings (``fields[PHONE][0][VALUE]=...``): how ``batch`` commands carry their parameters.

Bitrix24's ``batch`` takes each command as ``method?query`` where the query is what PHP's ``http_build_query`` makes
of the parameters (settings/how-to-call-rest-api/batch.md). ``build`` writes that form, ``parse`` reads it back
(the emulator uses it); lists become ``key[0]``, ``key[1]`` ... and maps ``key[name]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_plus

__all__ = ["build", "parse"]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "Y"
    if value is False:
        return "N"
    return str(value)


def _pairs(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _pairs(f"{prefix}[{key}]" if prefix else str(key), item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _pairs(f"{prefix}[{index}]", item, out)
    else:
        out.append((prefix, _scalar(value)))


def build(params: Mapping[str, Any]) -> str:
    """``{"filter": {">ID": 5}, "select": ["ID"]}`` -> ``filter%5B%3EID%5D=5&select%5B0%5D=ID``."""
    pairs: list[tuple[str, str]] = []
    _pairs("", params, pairs)
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


_KEY_RE = re.compile(r"\[([^\]]*)\]")


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        fixed = {k: _listify(v) for k, v in node.items()}
        keys = list(fixed)
        if keys and all(k.isdigit() for k in keys) and sorted(int(k) for k in keys) == list(range(len(keys))):
            return [fixed[str(i)] for i in range(len(keys))]
        return fixed
    return node


def parse(query: str) -> dict[str, Any]:
    """The inverse of :func:`build` (also reads ``key[]=a&key[]=b``)."""
    root: dict[str, Any] = {}
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        head, bracket, rest = key.partition("[")
        path = [head] + (_KEY_RE.findall(bracket + rest) if bracket else [])
        node: dict[str, Any] = root
        for i, name in enumerate(path):
            last = i == len(path) - 1
            if name == "":
                name = str(len(node))
            if last:
                node[name] = value
            else:
                child = node.get(name)
                if not isinstance(child, dict):
                    child = {}
                    node[name] = child
                node = child
    result: dict[str, Any] = _listify(root)
    return result
