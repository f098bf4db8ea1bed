"""Where a key sits in a YAML config file, and how a mistake there is reported (file:line:column + hint)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from crmclean.errors import ConfigError

# (key, key, index ...) -> (line, column), both 1-based; () is the document itself
Marks = dict[tuple[Any, ...], tuple[int, int]]


def closest_mark(marks: Marks, loc: Sequence[Any]) -> tuple[int | None, int | None]:
    """The position of ``loc``, or of its nearest parent that has one."""
    loc = tuple("validate" if part == "validate_" else part for part in loc)
    while loc:
        if loc in marks:
            return marks[loc]
        loc = loc[:-1]
    return marks.get((), (None, None))  # type: ignore[return-value]


def sub_marks(marks: Marks, loc: Sequence[Any]) -> Marks:
    """The marks under ``loc``, re-rooted at it (to report errors of a nested model)."""
    loc = tuple(loc)
    out: Marks = {k[len(loc):]: v for k, v in marks.items() if k[: len(loc)] == loc}
    line, col = closest_mark(marks, loc)
    if line is not None and col is not None:
        out[()] = (line, col)
    return out


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to ``word``, if any is close enough."""
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return lower[hits[0]] if hits else None


def _model_at(model: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model that owns the key at ``loc`` (for 'did you mean' on unknown keys)."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        fields = current.model_fields
        name = "validate_" if part == "validate" and "validate_" in fields else part
        if name not in fields:
            return None
        current = fields[name].annotation
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def pydantic_error(err: ValidationError, marks: Marks, path: str | None, root: type[BaseModel],
                   prefix: Sequence[Any] = ()) -> ConfigError:
    """The first error of ``err`` as a ConfigError at its file:line:column; ``prefix`` is where ``root`` sits."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    line, col = closest_mark(marks, loc)
    dotted = ".".join(str(p) for p in (*prefix, *loc)).replace("validate_", "validate")
    hint = None
    if first["type"] == "extra_forbidden":
        owner = _model_at(root, loc[:-1])
        choices = _field_names(owner) if owner else []
        guess = suggest(str(loc[-1]), choices)
        message = f"unknown key `{dotted}`"
        hint = f"did you mean `{guess}`?" if guess else (f"allowed: {', '.join(choices)}" if choices else None)
    else:
        message = f"`{dotted}`: {first['msg']}"
        if first.get("input") is not None and first["type"] != "missing":
            message += f" (got {first['input']!r})"
    return ConfigError(message, path=path, line=line, column=col, hint=hint)
