"""The rule catalogue as data (for `rules list/explain`, the README) and `rules infer` (checking lives in config/check)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from crmclean.config import suggest
from crmclean.errors import UsageError
from crmclean.rules.base import Rule, all_rules, find_rule, is_check, retired_alias, rule_keys

if TYPE_CHECKING:
    from crmclean.sources import SourceOptions


def rule_doc(cls: type[Rule]) -> dict[str, Any]:
    return {
        "code": cls.code,
        "name": cls.name,
        "kind": cls.kind,
        "fixes": cls.fixes,
        "flags": is_check(cls),  # validate and audit report its findings
        "aliases": list(cls.aliases),  # retired codes and names that still select it
        "summary": cls.summary,
        "roles": list(cls.roles),
        "severity": getattr(cls, "severity", None) if is_check(cls) else None,
        "kpi": getattr(cls, "kpi", None),
        "description": cls.description(),
        "examples": [{"before": e.before, "after": e.after, "note": e.note} for e in cls.examples],
        "options": [{"key": k, "type": t, "description": d} for k, t, d in cls.option_docs()],
    }


def rule_catalogue() -> list[dict[str, Any]]:
    return [rule_doc(cls) for cls in all_rules()]


def explain_rule(key: str) -> dict[str, Any]:
    cls = find_rule(key)
    if cls is None:
        guess = suggest(key, rule_keys())
        raise UsageError(f"unknown rule {key!r}", hint=f"did you mean `{guess}`?" if guess else "see `crmclean rules list`")
    doc = rule_doc(cls)
    lines = []
    if retired_alias(key) is cls:
        doc["retired"] = key
        lines += [f"{key} is a retired code for {cls.code} ({cls.name}): one rule now fixes and flags this problem.",
                  ""]
    lines += [f"{cls.code}  {cls.name}  ({cls.kind}, {'fixes' if cls.fixes else 'flags only'})", "", cls.summary, ""]
    if cls.aliases:
        lines += [f"Also selected by its retired codes: {', '.join(cls.aliases)}", ""]
    if doc["description"] and doc["description"] != cls.summary:
        lines += [doc["description"], ""]
    if cls.roles:
        lines += [f"Applies to columns with roles: {', '.join(cls.roles)}", ""]
    if cls.examples:
        lines.append("Examples (before → after):")
        for e in cls.examples:
            note = f"   # {e.note}" if e.note else ""
            lines.append(f"  {e.before!r} → {e.after!r}{note}")
        lines.append("")
    lines.append("YAML keys (standardize.rules.<CODE> or validate.rules.<CODE>):")
    for key_, typ, desc in cls.option_docs():
        lines.append(f"  {key_}: {typ}" + (f"  — {desc}" if desc else ""))
    doc["text"] = "\n".join(lines) + "\n"
    return doc


def infer_rules_yaml(source: str, opts: SourceOptions | None = None) -> str:
    """A starter rules file: the columns crmclean recognized, as an explicit mapping to edit."""
    from crmclean.sources import open_source  # reading a source needs the engines; the catalogue does not
    table, _, _ = open_source(source, None, opts)
    unknown = [c for c in table.data_columns if c not in table.roles and c != table.id_column]
    data: dict[str, Any] = {"version": 1, "object": table.object_type}
    src: dict[str, Any] = {}
    if table.id_column and not table.id_column.startswith("__"):
        src["id_column"] = table.id_column
    if src:
        data["source"] = src
    data["columns"] = dict(table.roles)
    data["defaults"] = {"region": "RU"}
    header = (
        f"# crmclean rules inferred from {source} ({len(table)} records)\n"
        "# Edit the roles below; see rules.example.yaml for every option and\n"
        "# `crmclean rules list` for rule codes.\n"
    )
    if unknown:
        header += unmapped_comment(unknown)
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def unmapped_comment(unknown: list[str]) -> str:
    """Comment lines for columns no header rule recognized, each with the closest role as a ready mapping line."""
    from crmclean.role_suggest import suggest_role

    lines = ["# Columns with no recognized role (map them under `columns:` if they matter;",
             "# the suggestion is the closest known header: uncomment it, or use --map \"Header=role\"):"]
    for column in unknown:
        hint = suggest_role(column)
        quoted = yaml.safe_dump({column: hint.role if hint else "ROLE"}, allow_unicode=True).strip()
        if hint:
            lines.append(f"#   {quoted}   # suggested: like \"{hint.like}\" ({hint.score:.2f})")
        else:
            lines.append(f"#   {column}   (no close role)")
    return "".join(line + "\n" for line in lines)


def starter_rules_yaml() -> str:
    """A minimal rules file for when no source is at hand."""
    return (
        "# crmclean rules (see rules.example.yaml for every option)\n"
        "version: 1\n"
        "object: contacts\n"
        "columns: {}          # e.g. \"Телефон\": phone — headers are recognized without this\n"
        "defaults:\n"
        "  region: RU         # country for phones written without a country code\n"
    )
