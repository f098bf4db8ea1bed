"""The one checker of a rules file: every command and `crmclean rules check` accept and reject the same files.

The loader (:func:`crmclean.config.parse_rules`) validates the schema with pydantic and then
calls :func:`check_rules`, which checks what the schema cannot: that every rule key names a
rule (retired codes resolve through their aliases), that the rule belongs in the section it
is configured under, that its options are valid for it, that column roles exist, and that
regular expressions compile. The engines call :func:`check_rules` too, for rules files built
in code; a file the loader has checked is not checked again.

Checks that need the data (a column named in the file missing from the source) live in
:func:`check_columns`, run by every command once the source is open and by
``rules check --source``.

The rule registry is imported inside the functions, never at module import time: the rules
import the config schema, so the config must not import the rules back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from crmclean.config.positions import Marks, closest_mark, pydantic_error, sub_marks, suggest
from crmclean.errors import ConfigError

if TYPE_CHECKING:
    from crmclean.config import RulesFile
    from crmclean.rules.base import Rule

Section = str  # "standardize" or "validate"

_SECTIONS: tuple[Section, ...] = ("standardize", "validate")
_LISTS: dict[Section, tuple[str, ...]] = {"standardize": ("select", "ignore", "order"), "validate": ("select", "ignore")}
_WHAT = {"standardize": "a standardization rule", "validate": "a check"}
# where a key of one section's list goes in the other section
_OTHER_LIST = {"select": "select", "ignore": "ignore", "order": "select", "rules": "rules"}


def check_rules(rules: RulesFile) -> RulesFile:
    """Check a loaded rules file completely; raise ConfigError (exit 2) at the first mistake's file:line:column.

    Idempotent and cheap: a file already checked is returned at once.
    """
    if rules._checked:
        return rules
    marks: Marks = rules._marks
    path = rules.path or "<rules>"
    keys = _rule_keys_in(rules)
    if keys:
        _check_rule_keys(rules, keys, marks, path)
    _check_roles(rules, marks, path)
    _check_formats(rules, marks, path)
    rules._checked = True
    return rules


def check_rules_file(path: str | Path, source: str | None = None) -> dict[str, Any]:
    """What `crmclean rules check` does: load ``path`` through the same loader and checker every command uses,
    and with ``source`` open it as every command would (columns, roles). Raises ConfigError on a mistake."""
    from crmclean.config import load_rules

    rules = load_rules(path)
    if source:
        from crmclean.sources import open_source  # the source opens exactly as every command opens it

        open_source(source, rules)
    return {
        "file": str(path),
        "ok": True,
        "rules": len(rules.standardize.rules) + len(rules.validate_.rules),
        "columns": len(rules.columns),
        "hash": rules.content_hash,
    }


# ---------------------------------------------------------------- rule keys


def _rule_keys_in(rules: RulesFile) -> list[tuple[Section, tuple[Any, ...], str]]:
    """(section the rule must belong to, location, key) of every rule key the file names."""
    items: list[tuple[Section, tuple[Any, ...], str]] = []
    for section in _SECTIONS:
        settings = rules.standardize if section == "standardize" else rules.validate_
        for listname in _LISTS[section]:
            items += [(section, (section, listname, i), key) for i, key in enumerate(getattr(settings, listname))
                      if str(key).upper() != "ALL"]
        items += [(section, (section, "rules", key), key) for key in settings.rules]
    if "clean_ignore_rules" in rules.report.model_fields_set:  # the default (TITLE001) needs no check
        items += [("standardize", ("report", "clean_ignore_rules", i), key)
                  for i, key in enumerate(rules.report.clean_ignore_rules)]
    return items


def sections_of(cls: type[Rule]) -> frozenset[Section]:
    """The sections a rule may be configured under.

    A standardizer belongs under ``standardize``; a rule ``validate`` runs (a check, or a
    standardizer that replaced a check and also flags) under ``validate``.
    """
    from crmclean.rules.base import is_check

    out = {"standardize"} if cls.kind == "standardize" else set()
    if is_check(cls):
        out.add("validate")
    return frozenset(out or {cls.kind})


def _check_rule_keys(rules: RulesFile, items: list[tuple[Section, tuple[Any, ...], str]], marks: Marks,
                     path: str) -> None:
    from crmclean.rules.base import all_rules, find_rule, rule_keys

    def keys_for(section: Section) -> list[str]:
        fitting = {cls for cls in all_rules() if section in sections_of(cls)}
        return [k for k in rule_keys() if find_rule(k) in fitting]

    for section, loc, key in items:
        where = f"{loc[0]}.{loc[1]}"
        line, col = closest_mark(marks, loc)
        cls = find_rule(key)
        if cls is None:
            guess = suggest(key, keys_for(section)) or suggest(key, rule_keys())
            raise ConfigError(
                f"unknown rule `{key}` in `{where}`", path=path, line=line, column=col,
                hint=f"did you mean `{guess}`? (see `crmclean rules list`)" if guess else "see `crmclean rules list`",
            )
        if section not in sections_of(cls):
            other = next(iter(sorted(sections_of(cls))))
            listname = _OTHER_LIST.get(loc[1])
            raise ConfigError(
                f"`{where}`: {key} is {_WHAT[other]}, not {_WHAT[section]}", path=path, line=line, column=col,
                hint=f"configure it under `{other}.{listname}`" if listname else "list standardization rules here",
            )
        if loc[1] == "rules":
            options = (rules.standardize if section == "standardize" else rules.validate_).rules[key]
            try:
                cls.Options.model_validate(options or {})
            except ValidationError as err:
                raise pydantic_error(err, sub_marks(marks, loc), path, cls.Options, prefix=loc) from None


# ---------------------------------------------------------------- roles and formats


def _check_roles(rules: RulesFile, marks: Marks, path: str) -> None:
    from crmclean.roles import ROLES

    for column, role in rules.columns.items():
        if role not in ROLES and role != "ignore":
            line, col = closest_mark(marks, ("columns", column))
            guess = suggest(role, list(ROLES))
            raise ConfigError(
                f"unknown role `{role}` for column {column!r}", path=path, line=line, column=col,
                hint=f"did you mean `{guess}`?" if guess else f"roles: {', '.join(ROLES)}",
            )


def _check_formats(rules: RulesFile, marks: Marks, path: str) -> None:
    """Regular expressions under validate.formats must compile (FORMAT001/FORMAT003 would fail at run time)."""
    for key, spec in rules.validate_.formats.items():
        for field, pattern, what in (("regex", spec.regex, "a valid regex"),
                                     ("allowed_chars", f"[{spec.allowed_chars}]" if spec.allowed_chars else None,
                                      "a valid class")):
            if pattern is None:
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                line, col = closest_mark(marks, ("validate", "formats", key, field))
                raise ConfigError(f"`validate.formats.{key}.{field}` is not {what}: {exc}",
                                  path=path, line=line, column=col) from None


# ---------------------------------------------------------------- columns (needs the source)


def check_columns(rules: RulesFile, headers: Sequence[str], *, roles: Mapping[str, Sequence[str]] | None = None,
                  object_type: str | None = None) -> None:
    """Columns named in the rules file must exist in the source (called once the source is open).

    ``roles`` (role -> columns of the source) and ``object_type`` let the keys of
    ``validate.picklists``, ``validate.formats`` and ``validate.required`` be checked too: each
    names a column or a role, as the checks FORMAT*, PICKLIST* and REQ001 read them.
    """
    path = rules.path or "<rules>"
    marks = rules._marks

    def missing(column: str, loc: tuple[Any, ...]) -> ConfigError:
        line, col = closest_mark(marks, loc)
        guess = suggest(column, headers)
        return ConfigError(
            f"unknown column {column!r} (not in the source)", path=path, line=line, column=col,
            hint=f"did you mean `{guess}`?" if guess else f"columns: {', '.join(headers)[:200]}",
        )

    for column in rules.columns:
        if column not in headers:
            raise missing(column, ("columns", column))
    for section_name, section in (("standardize", rules.standardize), ("validate", rules.validate_)):
        for key, options in (section.rules or {}).items():
            for i, column in enumerate((options or {}).get("columns") or []):
                if column not in headers:
                    raise missing(column, (section_name, "rules", key, "columns", i))
    if rules.source.id_column and rules.source.id_column not in headers:
        raise missing(rules.source.id_column, ("source", "id_column"))
    if roles is not None:
        _check_column_specs(rules, headers, roles, object_type, path)


def _check_column_specs(rules: RulesFile, headers: Sequence[str], roles: Mapping[str, Sequence[str]],
                        object_type: str | None, path: str) -> None:
    """Keys of validate.picklists/formats/required name a column or a role (``a|b``: any of them)."""
    from crmclean.roles import ROLES

    def parts(spec: str) -> list[str]:
        return [p.strip() for p in spec.split("|") if p.strip()]

    def error(loc: tuple[Any, ...], message: str, spec: str) -> ConfigError:
        line, col = closest_mark(rules._marks, loc)
        guess = suggest(parts(spec)[-1] if parts(spec) else spec, [*headers, *ROLES])
        return ConfigError(message, path=path, line=line, column=col,
                           hint=f"did you mean `{guess}`?" if guess else None)

    def known(spec: str) -> str | None:  # the first part that is neither a column nor a role (a typo), else None
        if spec in headers:
            return None
        return next((p for p in parts(spec) if p not in headers and p not in ROLES), None)

    settings = rules.validate_
    # every key or item that names columns: a part that is neither a column nor a role would silently check nothing
    for name in ("picklists", "formats", "ranges", "dates"):
        for key in getattr(settings, name):
            bad = known(key)
            if bad is not None:
                raise error(("validate", name, key), f"`validate.{name}.{key}`: not a column of the source nor a role",
                            bad)
    for name in ("unique", "free_text"):
        for i, spec in enumerate(getattr(settings, name) or []):
            bad = known(spec)
            if bad is not None:
                raise error(("validate", name, i), f"`validate.{name}`: {bad!r} is not a column of the source nor a role",
                            bad)
    weights = rules.completeness.weights
    if object_type in weights:
        for key in weights[object_type]:  # type: ignore[index]
            bad = known(key)
            if bad is not None:
                raise error(("completeness", "weights", object_type, key),
                            f"`completeness.weights.{object_type}.{key}`: {bad!r} is not a column of the source "
                            "nor a role", bad)
    if settings.required and object_type in settings.required:
        for i, spec in enumerate(settings.required[object_type]):
            bad = known(spec)
            if bad is not None:
                raise error(("validate", "required", object_type, i),
                            f"required field {bad!r} is neither a column of the source nor a role", bad)
