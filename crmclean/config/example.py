"""Generate rules.example.yaml from the schema and the rule registry, so the documented options cannot drift."""

from __future__ import annotations

import json
import types
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from crmclean.config import RulesFile

if TYPE_CHECKING:
    from crmclean.rules.base import Rule

_HEADER = """\
# rules.example.yaml — every option crmclean reads, with its default value.
#
# Generated from the schema and the rule catalogue by `crmclean rules example`;
# a test fails when this file and the code disagree. Copy what you need into your
# own rules file: every key is optional, and with no rules file at all crmclean
# recognizes columns by their headers and runs the built-in rule pack.
#
# Check a rules file with:  crmclean rules check rules.yaml --source export.csv
"""

_EXAMPLES: dict[str, str] = {
    "columns": '"Телефон": phone\n"Моб. тел.": mobile\n"Менеджер": owner\n"Служебное поле": ignore',
}


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return info.default


def _model_type(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_type(arg)
            if found:
                return found
    return None


def _scalar(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    text = yaml.safe_dump(json.loads(json.dumps(value, default=str)), allow_unicode=True,
                          default_flow_style=True, width=1000).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}# {line}".rstrip() for line in text.splitlines()]


def _render_model(model: type[BaseModel], indent: str, skip: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    lines: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skip:
            continue
        lines += _comment(info.description, indent)
        sub = _model_type(info.annotation)
        default = _default(info)
        if sub is not None and default is not None and sub.model_fields:
            lines.append(f"{indent}{key}:")
            lines += _render_model(sub, indent + "  ")
        else:
            lines.append(f"{indent}{key}: {_scalar(default)}")
    return lines


def _render_rules(rules: list[type[Rule]], indent: str) -> list[str]:
    lines: list[str] = []
    for cls in rules:
        lines.append(f"{indent}# {cls.code} {cls.name} — {cls.summary} ({'fixes' if cls.fixes else 'flags'})")
        lines.append(f"{indent}{cls.code}:")
        body = _render_model(cls.Options, indent + "  ")
        lines += body
    return lines


def render_example() -> str:
    from crmclean.rules.base import all_rules  # the rules import the config schema: no import at load time
    from crmclean.rules.builtin import is_builtin  # installed plugins are not part of the example

    lines = [_HEADER]
    for name, info in RulesFile.model_fields.items():
        key = info.alias or name
        lines += _comment(info.description, "")
        sub = _model_type(info.annotation)
        if sub is None or not sub.model_fields:
            if key in _EXAMPLES:
                lines += _comment("Example:\n" + _EXAMPLES[key], "")
            lines.append(f"{key}: {_scalar(_default(info))}")
            lines.append("")
            continue
        lines.append(f"{key}:")
        has_rules = "rules" in sub.model_fields
        lines += _render_model(sub, "  ", skip={"rules"} if has_rules else set())
        if has_rules:
            kind = "standardize" if key == "standardize" else "validate"
            lines += _comment(sub.model_fields["rules"].description, "  ")
            lines.append("  rules:")
            lines += _render_rules([r for r in all_rules() if r.kind == kind and is_builtin(r)], "    ")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
