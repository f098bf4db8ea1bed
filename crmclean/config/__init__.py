"""The rules file: a typed schema, and a loader that reports mistakes with file, line and column.

Each top-level section has its own module (``standardize``, ``validate``, ``dedupe``,
``completeness``, ``report``); this module composes them and checks what pydantic
cannot: that rule keys name real rules, rule options are valid for that rule, and
columns named in the file exist in the source.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmclean.config.completeness import CompletenessSettings
from crmclean.config.dedupe import DedupeSettings
from crmclean.config.report import ReportSettings
from crmclean.config.standardize import StandardizeSettings
from crmclean.config.validate import ValidateSettings
from crmclean.errors import ConfigError

ObjectType = Literal["contacts", "leads", "companies", "deals"]
M = TypeVar("M", bound=BaseModel)


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_column: str | None = Field(None, description="Column holding the record id (detected when absent).")
    format: Literal["csv", "xlsx", "parquet", "jsonl"] | None = Field(
        None, description="File format; chosen by extension when absent."
    )
    sheet: str | None = Field(None, description="XLSX sheet name or 1-based number (default: first).")
    encoding: str | None = Field(None, description="CSV encoding (default: detected).")
    delimiter: str | None = Field(None, description="CSV delimiter (default: detected among , ; tab |).")
    where: str | None = Field(None, description="CRM sources: filter (SOQL WHERE / HubSpot filter).")
    credentials_file: str | None = Field(
        None, description="CRM sources: file holding credentials (never put secrets in the rules file)."
    )
    bulk: Literal["auto", "always", "never"] = Field(
        "auto", description="Salesforce: Bulk API 2.0 for reads and large writes — auto (by record count), always, never."
    )
    api_share: float = Field(
        0.5, gt=0, le=1, description="Salesforce: most share of the org's daily API request limit one run may use."
    )
    concurrency: int = Field(1, ge=1, le=10, description="HubSpot: parallel batch write requests.")


class DefaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field("RU", description="Default country (ISO alpha-2) for phones without a country code.")


class RulesFile(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = Field(1, description="Schema version of the rules file.")
    object: ObjectType | None = Field(
        None, description="Object type: contacts, leads, companies or deals (detected from columns when absent)."
    )
    source: SourceSettings = Field(default_factory=SourceSettings)
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Column name -> role, overriding header detection; role `ignore` skips a column.",
    )
    defaults: DefaultSettings = Field(default_factory=DefaultSettings)
    standardize: StandardizeSettings = Field(default_factory=StandardizeSettings)
    validate_: ValidateSettings = Field(default_factory=ValidateSettings, alias="validate")
    completeness: CompletenessSettings = Field(default_factory=CompletenessSettings)
    dedupe: DedupeSettings = Field(default_factory=DedupeSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)

    # set by the loader: where the file came from and where each key sits
    _path: str | None = None
    _marks: dict[tuple[Any, ...], tuple[int, int]] = {}
    _hash: str = ""

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def content_hash(self) -> str:
        return self._hash

    def mark(self, loc: Sequence[Any]) -> tuple[int | None, int | None]:
        return _closest_mark(self._marks, tuple(loc))


# ---------------------------------------------------------------- YAML with positions


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (YAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def _collect_marks(node: yaml.Node, path: tuple[Any, ...], marks: dict[tuple[Any, ...], tuple[int, int]]) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            # the key's own position is the most useful place to point at
            _collect_marks(value_node, (*path, key), marks)
            marks[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _collect_marks(item, (*path, i), marks)


def _closest_mark(
    marks: dict[tuple[Any, ...], tuple[int, int]], loc: tuple[Any, ...]
) -> tuple[int | None, int | None]:
    loc = tuple("validate" if part == "validate_" else part for part in loc)
    while loc:
        if loc in marks:
            return marks[loc]
        loc = loc[:-1]
    return marks.get((), (None, None))  # type: ignore[return-value]


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
        ann = fields[name].annotation
        current = ann
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _pydantic_error(err: ValidationError, marks: dict, path: str, root: type[BaseModel]) -> ConfigError:
    first = err.errors()[0]
    loc = tuple(first["loc"])
    line, col = _closest_mark(marks, loc)
    dotted = ".".join(str(p) for p in loc).replace("validate_", "validate")
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


def read_config_text(path: str | Path, what: str) -> str:
    """The text of a YAML config file (rules, job), with one-line errors for the usual mistakes."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{what} not found", path=str(p))
    if p.is_dir():
        raise ConfigError(f"is a directory, expected a YAML {what}", path=str(p))
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", path=str(p)) from None


def parse_yaml_mapping(
    text: str, path: str, what: str
) -> tuple[dict[str, Any], dict[tuple[Any, ...], tuple[int, int]]]:
    """Parse YAML into a mapping plus the line/column of every key (for error messages)."""
    try:
        # parse once: the node tree gives key positions, constructing it gives the data
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "\t" in problem or "'\\t'" in problem:
            problem += " (YAML indentation must use spaces, not tabs)"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            path=path,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the {what} must be a mapping of keys", path=path, line=1, column=1)
    marks: dict[tuple[Any, ...], tuple[int, int]] = {}
    if node is not None:
        _collect_marks(node, (), marks)
    return data, marks


def validate_model(model: type[M], data: dict[str, Any], marks: dict[tuple[Any, ...], tuple[int, int]],
                   path: str) -> M:
    """``model.model_validate(data)`` with the first error reported at its file:line:column."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise _pydantic_error(err, marks, path, model) from None


def load_rules(path: str | Path | None) -> RulesFile:
    """Load and validate a rules file; ``None`` gives the built-in defaults (zero-config)."""
    if path is None:
        return RulesFile()
    return parse_rules(read_config_text(path, "rules file"), str(path))


def parse_rules(text: str, path: str = "<rules>") -> RulesFile:
    data, marks = parse_yaml_mapping(text, path, "rules file (version, columns, standardize, ...)")
    rules = validate_model(RulesFile, data, marks, path)
    rules._path = path
    rules._marks = marks
    rules._hash = hashlib.sha1(text.encode()).hexdigest()[:12]
    _check_rule_options(rules, marks, path)
    _check_roles(rules, marks, path)
    return rules


def _check_rule_options(rules: RulesFile, marks: dict, path: str) -> None:
    """Every key under standardize.rules / select / ignore / order must name a real rule."""
    from crmclean.rules.base import find_rule, rule_keys

    def unknown(key: str, loc: tuple[Any, ...]) -> ConfigError:
        line, col = _closest_mark(marks, loc)
        guess = suggest(key, rule_keys())
        return ConfigError(
            f"unknown rule `{key}`",
            path=path,
            line=line,
            column=col,
            hint=f"did you mean `{guess}`? (see `crmclean rules list`)" if guess else "see `crmclean rules list`",
        )

    for section_name, section in (("standardize", rules.standardize), ("validate", rules.validate_)):
        for listname in ("select", "ignore", "order"):
            for i, key in enumerate(getattr(section, listname, []) or []):
                if key.upper() != "ALL" and find_rule(key) is None:
                    raise unknown(key, (section_name, listname, i))
        for key, options in (getattr(section, "rules", {}) or {}).items():
            cls = find_rule(key)
            loc = (section_name, "rules", key)
            if cls is None:
                raise unknown(key, loc)
            sub_marks = {k[len(loc):]: v for k, v in marks.items() if k[: len(loc)] == loc}
            sub_marks[()] = _closest_mark(marks, loc)  # type: ignore[assignment]
            try:
                cls.Options.model_validate(options or {})
            except ValidationError as err:
                raise _pydantic_error(err, sub_marks, path, cls.Options) from None


def _check_roles(rules: RulesFile, marks: dict, path: str) -> None:
    from crmclean.roles import ROLES

    for column, role in rules.columns.items():
        if role not in ROLES and role != "ignore":
            line, col = _closest_mark(marks, ("columns", column))
            guess = suggest(role, list(ROLES))
            raise ConfigError(
                f"unknown role `{role}` for column {column!r}",
                path=path,
                line=line,
                column=col,
                hint=f"did you mean `{guess}`?" if guess else f"roles: {', '.join(ROLES)}",
            )


def check_columns(rules: RulesFile, headers: Sequence[str]) -> None:
    """Columns named in the rules file must exist in the source (called once the source is open)."""
    path = rules.path or "<rules>"
    marks = rules._marks

    def missing(column: str, loc: tuple[Any, ...]) -> ConfigError:
        line, col = _closest_mark(marks, loc)
        guess = suggest(column, headers)
        return ConfigError(
            f"unknown column {column!r} (not in the source)",
            path=path,
            line=line,
            column=col,
            hint=f"did you mean `{guess}`?" if guess else f"columns: {', '.join(headers)[:200]}",
        )

    for column in rules.columns:
        if column not in headers:
            raise missing(column, ("columns", column))
    for section_name, section in (("standardize", rules.standardize), ("validate", rules.validate_)):
        for key, options in (getattr(section, "rules", {}) or {}).items():
            for i, column in enumerate((options or {}).get("columns") or []):
                if column not in headers:
                    raise missing(column, (section_name, "rules", key, "columns", i))
    if rules.source.id_column and rules.source.id_column not in headers:
        raise missing(rules.source.id_column, ("source", "id_column"))
