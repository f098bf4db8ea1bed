"""The rules file: a typed schema, and a loader that reports mistakes with file, line and column.

Each top-level section has its own module (``standardize``, ``validate``, ``dedupe``,
``completeness``, ``report``); this module composes them and loads a file. What pydantic
cannot check (rule keys, their sections and options, roles, regexes, columns against the
source) is checked by the one checker in :mod:`crmclean.config.check`, which the loader calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmclean.config.check import check_columns, check_rules
from crmclean.config.completeness import CompletenessSettings
from crmclean.config.dedupe import DedupeSettings
from crmclean.config.positions import Marks, closest_mark, pydantic_error, suggest
from crmclean.config.report import ReportSettings
from crmclean.config.standardize import StandardizeSettings
from crmclean.config.validate import ValidateSettings
from crmclean.errors import ConfigError

__all__ = [
    "RulesFile", "check_columns", "check_rules", "load_rules", "parse_rules", "parse_yaml_mapping",
    "read_config_text", "suggest", "validate_model",
]

ObjectType = Literal["contacts", "leads", "companies", "deals", "activities"]
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
    duplicate_rule_allow_save: bool = Field(
        False, description="Salesforce: save records that an active duplicate rule with an alert flags "
        "(Sforce-Duplicate-Rule-Header: allowSave=true); a blocking rule still refuses them."
    )


class DefaultSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field("RU", description="Default country (ISO alpha-2) for phones without a country code.")


class RulesFile(BaseModel):
    """The whole rules file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = Field(1, description="Schema version of the rules file.")
    object: ObjectType | None = Field(
        None, description="Object type: contacts, leads, companies, deals or activities (detected from columns when absent)."
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
    _marks: Marks = {}
    _hash: str = ""
    _checked: bool = False  # set by crmclean.config.check.check_rules

    @property
    def path(self) -> str | None:
        return self._path

    @property
    def content_hash(self) -> str:
        return self._hash

    def mark(self, loc: Sequence[Any]) -> tuple[int | None, int | None]:
        return closest_mark(self._marks, tuple(loc))


# ---------------------------------------------------------------- YAML with positions


# a config file has no honest use for many aliases: "billion laughs" (a few lines that expand to gigabytes
# through nested aliases) is refused here, before anything walks the expanded tree
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 200_000  # nodes after expanding aliases


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (YAML silently keeps the last one) and alias bombs."""

    _aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):  # type: ignore[no-untyped-call]
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name); refusing a possible alias bomb",
                    event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-untyped-call]


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes ``node`` stands for once aliases are expanded (memoized: linear in the file)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = MAX_YAML_NODES + 1  # a cycle (a recursive alias) counts as too big
    total = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _expanded_size(k, memo) + _expanded_size(v, memo)
            if total > MAX_YAML_NODES:
                break
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            total += _expanded_size(item, memo)
            if total > MAX_YAML_NODES:
                break
    memo[key] = total
    return total


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            )
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
            ) from None
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


def _construct_timestamp(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
    """A date the YAML shape accepts but the calendar does not (``today: 2026-13-01``) is a marked error, not a
    ValueError out of PyYAML (an internal error, exit 4)."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a date ({exc})", node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _construct_timestamp,  # type: ignore[arg-type]
)


def _collect_marks(node: yaml.Node, path: tuple[Any, ...], marks: Marks) -> None:
    if len(marks) > MAX_YAML_NODES:
        return
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
) -> tuple[dict[str, Any], Marks]:
    """Parse YAML into a mapping plus the line/column of every key (for error messages)."""
    try:
        # parse once: the node tree gives key positions, constructing it gives the data
        loader = _UniqueKeyLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None and _expanded_size(node, {}) > MAX_YAML_NODES:
                raise ConfigError(f"the {what} expands to more than {MAX_YAML_NODES:,} values through aliases; "
                                  "refusing a possible alias bomb", path=path)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:  # a NUL or control character: not YAML text
        raise ConfigError(f"not YAML text: {exc.reason} (character {exc.character!r}) at position {exc.position}",
                          path=path) from None
    except RecursionError:
        raise ConfigError("YAML nested too deeply", path=path) from None
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
    marks: Marks = {}
    if node is not None:
        _collect_marks(node, (), marks)
    return data, marks


def validate_model(model: type[M], data: dict[str, Any], marks: Marks,
                   path: str) -> M:
    """``model.model_validate(data)`` with the first error reported at its file:line:column."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise pydantic_error(err, marks, path, model) from None


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
    return check_rules(rules)
