"""Rule objects: every standardizer and every check is a documented class with a stable code.

A rule class carries its own documentation (code, dotted name, summary, examples, the
YAML keys it reads), so ``crmclean rules list`` / ``rules explain CODE`` and the README
are generated from the same objects the engine runs.

Two kinds exist:

* :class:`Standardizer` (``kind = "standardize"``) returns :class:`ColumnEdit` objects:
  the full new value of a column for every row. The engine diffs them against the
  current values to produce change-log rows, and applies edits whose confidence is
  ``fix`` (``suggest`` edits are only proposed).
* :class:`Check` (``kind = "validate"``) returns findings: rows that break a rule.

Rules work column-wise on polars Series; per-value libraries are called once per unique
value through :func:`map_unique`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from crmclean._lazy import polars as pl
from crmclean.fields._unique import map_unique  # noqa: F401  (re-exported: rules call it from here)

Confidence = Literal["fix", "suggest"]
Severity = Literal["error", "warning", "info"]

# The frames' schemas, by column: all text. Built on first use (``from crmclean.rules.base import CHANGE_SCHEMA``
# works as before) so that reading the rule catalogue does not import polars (crmclean/_lazy.py).
_SCHEMA_COLUMNS = {
    "CHANGE_SCHEMA": ("record_id", "column", "before", "after", "rule", "confidence", "reason"),  # a changed cell
    "FINDING_SCHEMA": ("record_id", "column", "value", "rule", "severity", "message", "hint"),  # a rule violation
    # the findings a rule returns: a ``row`` index (Int64); the engine adds record id and rule code
    "ROW_FINDING_SCHEMA": ("row", "column", "value", "severity", "message", "hint"),
}


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    return {c: pl.Int64 if c == "row" else pl.String for c in _SCHEMA_COLUMNS[name]}


def __getattr__(name: str) -> Any:  # CHANGE_SCHEMA, FINDING_SCHEMA, ROW_FINDING_SCHEMA
    if name in _SCHEMA_COLUMNS:
        return _schema(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RuleOptions(BaseModel):
    """Keys every rule accepts in the rules file; rules subclass this to add their own.

    Field descriptions become the documentation of the YAML keys.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run this rule.")
    columns: list[str] | None = Field(
        None, description="Apply to these columns only (default: every column with one of the rule's roles)."
    )
    roles: list[str] | None = Field(None, description="Apply to columns with these roles instead of the defaults.")


@dataclass(frozen=True)
class Example:
    """A bad → good example shown by ``rules explain``."""

    before: str
    after: str
    note: str = ""


@dataclass
class RuleContext:
    """What a rule may know besides the column it works on."""

    frame: pl.DataFrame  # the current (already standardized by earlier rules) record table
    roles: Mapping[str, Sequence[str]]  # role -> columns with that role
    id_column: str
    default_region: str = "RU"
    settings: Any = None  # the validated RulesFile (crmclean.config.RulesFile) or None
    object_type: str = "contacts"  # contacts, leads, companies … (the table's)
    # False when the run keeps no proposals: suggest edits are not applied and findings are dropped (the match
    # profile's run, standardize_table(profile_only=True)); a rule may then skip work that only proposes or flags
    proposals: bool = True

    def columns_for(self, role: str) -> list[str]:
        return list(self.roles.get(role, ()))

    def first_column(self, role: str) -> str | None:
        cols = self.roles.get(role, ())
        return cols[0] if cols else None


@dataclass
class ColumnEdit:
    """New values for one column: ``after`` has one value per row (unchanged rows repeat the old)."""

    column: str
    after: pl.Series
    reason: pl.Series | str
    confidence: pl.Series | Confidence = "fix"


@dataclass
class RuleResult:
    """What a rule returns: edits, findings (with a ``row`` index column) and derived columns."""

    edits: list[ColumnEdit] = field(default_factory=list)
    findings: pl.DataFrame | None = None  # columns: row (u32/i64), column, value, severity, message, hint
    derived: dict[str, pl.Series] = field(default_factory=dict)  # new columns, e.g. "Phone__ext"


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement one method."""

    code: ClassVar[str]  # stable short code, e.g. "PHONE001"
    name: ClassVar[str]  # dotted name, e.g. "phone.e164"
    summary: ClassVar[str]  # one line
    kind: ClassVar[Literal["standardize", "validate"]]
    fixes: ClassVar[bool] = False  # True when it can change values, False when it only flags
    roles: ClassVar[tuple[str, ...]] = ()  # column roles it applies to by default
    examples: ClassVar[tuple[Example, ...]] = ()
    Options: ClassVar[type[RuleOptions]] = RuleOptions
    order: ClassVar[int] = 100  # default position in the pipeline (lower runs first)
    # retired codes / dotted names of rules merged into this one (sqlfluff's ``aliases = ("L014",)``):
    # a rules file, ``rules explain`` or a report that names one of them means this rule
    aliases: ClassVar[tuple[str, ...]] = ()
    # a standardizer whose findings are also validation findings (it replaced a check): `validate`
    # and `audit` run it as a check, `validate.select/ignore/rules` name it
    validates: ClassVar[bool] = False
    severity: ClassVar[Severity] = "warning"
    # a finding means the cell's value is wrong, so it does not count as filled for completeness
    invalidates: ClassVar[bool] = False
    # which headline KPI the finding feeds: invalid_email, invalid_phone, stale, orphan, unassigned ...
    kpi: ClassVar[str | None] = None
    # object types the rule's findings make sense for (empty: all)
    objects: ClassVar[tuple[str, ...]] = ()
    # a standardizer whose edits are only proposed (confidence `suggest`): it changes no value unless
    # suggestions are applied, so the match profile can skip it (a rule that does not fix changes nothing)
    suggests_only: ClassVar[bool] = False

    def changes_values(self, apply_suggestions: bool = False) -> bool:
        """False when the rule cannot change a value or a derived column in this configuration."""
        if not self.fixes:
            return False
        return apply_suggestions or not self.suggests_only

    def applies_to(self, object_type: str) -> bool:
        return not self.objects or object_type in self.objects

    def footprint(self, ctx: RuleContext) -> set[str] | None:
        """The table columns the rule reads or edits in this run; None (the default) when it may read any.

        The engine runs rules whose footprints do not meet at the same time, each on the table as the rules
        before it left those columns (``crmclean.standardize``). So a rule that names its footprint reads no
        other column of ``ctx.frame`` and no derived column of another rule, and edits only those columns
        (an edit outside them is an error); a rule with None runs alone, after every rule before it.
        """
        return None

    @classmethod
    def kpi_findings(cls) -> pl.Expr:
        """Which of the rule's findings feed its ``kpi`` (an expression over the finding columns; default: all).

        PLACEHOLDER001 flags every filler but only fillers in required fields count as missing_required.
        """
        return pl.lit(True)

    def __init__(self, options: RuleOptions | Mapping[str, Any] | None = None) -> None:
        if options is None:
            options = self.Options()
        elif not isinstance(options, RuleOptions):
            options = self.Options.model_validate(dict(options))
        self.options = options

    @classmethod
    def description(cls) -> str:
        """The rule's docstring: What it does / Why / (anti-pattern → best practice)."""
        return inspect.cleandoc(cls.__doc__ or cls.summary)

    @classmethod
    def option_docs(cls) -> list[tuple[str, str, str]]:
        """(key, type, description) for every YAML key the rule reads."""
        docs = []
        for key, info in cls.Options.model_fields.items():
            annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
            docs.append((key, annotation.replace("typing.", ""), info.description or ""))
        return docs

    def target_columns(self, ctx: RuleContext) -> list[str]:
        """Columns this rule runs on: explicit ``columns`` first, else columns with its roles."""
        opts = self.options
        if opts.columns is not None:
            return [c for c in opts.columns if c in ctx.frame.columns]
        roles = opts.roles if opts.roles is not None else list(self.roles)
        cols: list[str] = []
        for role in roles:
            for col in ctx.columns_for(role):
                if col not in cols:
                    cols.append(col)
        return cols


class Standardizer(Rule):
    """A rule that proposes new values."""

    kind = "standardize"
    fixes = True

    def apply(self, ctx: RuleContext) -> RuleResult:
        """Default: apply :meth:`transform_column` to each target column."""
        result = RuleResult()
        for column in self.target_columns(ctx):
            sub = self.transform_column(ctx.frame[column], column, ctx)
            result.edits.extend(sub.edits)
            result.derived.update(sub.derived)
            if sub.findings is not None:
                result.findings = (
                    sub.findings
                    if result.findings is None
                    else pl.concat([result.findings, sub.findings], how="diagonal_relaxed")
                )
        return result

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> RuleResult:
        raise NotImplementedError


class Check(Rule):
    """A rule that only flags: returns findings."""

    kind = "validate"
    fixes = False
    validates = True

    def apply(self, ctx: RuleContext) -> RuleResult:
        raise NotImplementedError


# ---------------------------------------------------------------- registry

_REGISTRY: dict[str, type[Rule]] = {}


def _registry_keys(cls: type[Rule]) -> list[str]:
    """The code, the dotted name and every alias: a dotted alias is a name (lower case), else a code."""
    keys = [cls.code.upper(), cls.name.lower()]
    keys += [a.lower() if "." in a else a.upper() for a in cls.aliases]
    return keys


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry (codes, names and aliases must be unique)."""
    for key in _registry_keys(cls):
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise RuntimeError(f"duplicate rule key {key}")
        _REGISTRY[key] = cls
    return cls


def _load_builtin_rules() -> None:
    # Built-in and third-party rules arrive the same way: the ``crmclean.rules`` entry-point group.
    from crmclean.plugins import load_rules

    load_rules(register)


def all_rules() -> list[type[Rule]]:
    _load_builtin_rules()
    seen: dict[str, type[Rule]] = {}
    for cls in _REGISTRY.values():
        seen[cls.code] = cls
    return sorted(seen.values(), key=lambda c: (c.kind, c.order, c.code))


def find_rule(key: str) -> type[Rule] | None:
    _load_builtin_rules()
    return _REGISTRY.get(key.upper()) or _REGISTRY.get(key.lower())


def rule_keys() -> list[str]:
    """Every code, dotted name and alias a rules file may use."""
    _load_builtin_rules()
    keys = {c.code for c in _REGISTRY.values()} | {c.name for c in _REGISTRY.values()}
    keys |= {a for c in _REGISTRY.values() for a in c.aliases}
    return sorted(keys)


def retired_alias(key: str) -> type[Rule] | None:
    """The rule ``key`` is a retired code (alias) of, or None when ``key`` is a current code/name or unknown."""
    cls = find_rule(key)
    if cls is None:
        return None
    wanted = key.lower() if "." in key else key.upper()
    return cls if any((a.lower() if "." in a else a.upper()) == wanted for a in cls.aliases) else None


def is_check(cls: type[Rule] | None) -> bool:
    """True when ``validate`` runs the rule: a check, or a standardizer that also flags (it replaced a check)."""
    return cls is not None and bool(getattr(cls, "validates", False))


def ignored_rules(rules: Any) -> set[type[Rule]]:
    """Rules switched off by ``validate.ignore`` or ``standardize.ignore`` (codes, names or retired aliases).

    One rule per problem: ignoring PHONEV001 (PHONE002's retired code) switches off PHONE002 everywhere,
    in `standardize`, `validate`, `audit` and the KPIs.
    """
    out: set[type[Rule]] = set()
    for key in [*rules.validate_.ignore, *rules.standardize.ignore]:
        cls = find_rule(key)
        if cls is not None:
            out.add(cls)
    return out


def rule_options(cls: type[Rule], rules: Any) -> dict[str, Any]:
    """Options of ``cls`` from the rules file: ``standardize.rules`` (for a standardizer) then ``validate.rules``.

    A rule that fixes and flags reads both sections, under its code, its name or a retired alias.
    """
    opts: dict[str, Any] = {}
    sections = [rules.validate_.rules] if cls.kind == "validate" else [rules.standardize.rules]
    if cls.kind != "validate" and is_check(cls):
        sections.append(rules.validate_.rules)
    for section in sections:
        for key, value in section.items():
            if find_rule(key) is cls:
                opts.update(value or {})
    return opts


# ---------------------------------------------------------------- helpers for rule authors



def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=_schema("ROW_FINDING_SCHEMA"))


def findings_where(
    mask: pl.Series,
    values: pl.Series,
    column: str,
    *,
    severity: Severity,
    message: pl.Series | str,
    hint: pl.Series | str | None = None,
) -> pl.DataFrame:
    """Findings for the rows where ``mask`` is true (null counts as false)."""
    mask = mask.fill_null(False)
    if not mask.any():
        return empty_findings()
    n = len(values)
    frame = pl.DataFrame({"row": pl.int_range(0, n, dtype=pl.Int64, eager=True), "value": values.cast(pl.String)})
    frame = frame.with_columns(
        (message.cast(pl.String) if isinstance(message, pl.Series) else pl.lit(message, dtype=pl.String)).alias(
            "message"
        ),
        (hint.cast(pl.String) if isinstance(hint, pl.Series) else pl.lit(hint, dtype=pl.String)).alias("hint"),
    )
    return frame.filter(mask).select(
        "row",
        pl.lit(column, dtype=pl.String).alias("column"),
        "value",
        pl.lit(severity, dtype=pl.String).alias("severity"),
        "message",
        "hint",
    )


def concat_findings(parts: Iterable[pl.DataFrame | None]) -> pl.DataFrame | None:
    """The non-empty findings frames as one (None when there are none)."""
    frames = [p for p in parts if p is not None and p.height]
    if not frames:
        return None
    schema = _schema("ROW_FINDING_SCHEMA")
    return pl.concat([f.select(list(schema)).cast(schema) for f in frames])  # type: ignore[arg-type]
