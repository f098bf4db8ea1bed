"""Shared plumbing for standardization rules: package data, derived-column naming, findings and fast per-unique mapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Literal

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields._data import data_lines, data_set, data_yaml, fold, has_cyrillic  # noqa: F401  (re-exported)
from crmclean.fields._memo import clear_memo, map_unique_fast, memo_on_values  # noqa: F401  (re-exported)
from crmclean.fields._unique import in_threads
from crmclean.rules.base import (  # noqa: F401  (re-exported for the rule modules)
    Rule,
    RuleContext,
    RuleOptions,
    RuleResult,
    Severity,
    Standardizer,
    concat_findings,
    empty_findings,
    findings_where,
    map_unique,
)

# ---------------------------------------------------------------- results


def derived_name(column: str, suffix: str) -> str:
    """Name of a derived column: ``Phone`` + ``ext`` -> ``Phone__ext``."""
    return f"{column}__{suffix}"


@dataclass
class StdResult(RuleResult):
    """A rule result that also says which derived columns carry data removed from a cell.

    The engine always writes those to the output (unless ``derived: none``), so moving an
    extension or a salutation out of a cell never loses it.
    """

    carries: set[str] = field(default_factory=set)


class ColumnRule(Standardizer):
    """A standardizer that works one target column at a time and may report carried derived columns."""

    # Roles whose columns ``transform_column`` reads or edits besides its own column (PHONE001: the country);
    # None: not declared, the rule runs alone (Rule.footprint). Declaring it also says transform_column keeps no
    # state between columns: they are transformed at the same time. A subclass that changes what the rule reads
    # (its own apply, transform_column or target_columns) does not inherit the declaration.
    reads_roles: ClassVar[tuple[str, ...] | None] = None

    def footprint(self, ctx: RuleContext) -> set[str] | None:
        owner = next(c for c in type(self).__mro__ if "reads_roles" in vars(c))
        if self.reads_roles is None or any(getattr(type(self), m) is not getattr(owner, m)
                                           for m in ("apply", "transform_column", "target_columns")):
            return None
        columns = set(self.target_columns(ctx))
        for role in self.reads_roles:
            columns.update(ctx.columns_for(role))
        return columns

    def apply(self, ctx: RuleContext) -> RuleResult:
        result = StdResult()
        findings: list[pl.DataFrame | None] = []
        columns = [c for c in self.target_columns(ctx) if c != ctx.id_column and not c.startswith("__")]
        calls = [partial(self.transform_column, ctx.frame.get_column(c), c, ctx) for c in columns]
        # every column is transformed on the same table, so they are independent: a rule with a footprint (whose
        # reads are declared) transforms them at the same time (PHONE001's two phone columns)
        subs = in_threads(calls) if self.footprint(ctx) is not None else [call() for call in calls]
        for sub in subs:
            result.edits.extend(sub.edits)
            result.derived.update(sub.derived)
            findings.append(sub.findings)
            result.carries |= getattr(sub, "carries", set())
        result.findings = concat_findings(findings)
        return result


def fix_where(sure: pl.Series) -> pl.Series:
    """An edit's confidence per row: ``fix`` where ``sure`` is true, else ``suggest`` (null: not sure), column-wise."""
    return pl.DataFrame({"s": sure}).select(
        pl.when(pl.col("s")).then(pl.lit("fix")).otherwise(pl.lit("suggest"))).to_series()


def settings_derived(ctx: RuleContext) -> str:
    """The ``standardize.derived`` setting (auto, all or none)."""
    std = getattr(ctx.settings, "standardize", None)
    return getattr(std, "derived", "auto") if std is not None else "auto"


# ---------------------------------------------------------------- per-unique mapping

def lookup_series(values: pl.Series, mapping: dict[str, Any], return_dtype: Any = None) -> pl.Series:
    """Replace values through a dict (missing keys become null), vectorized; ``return_dtype`` defaults to text."""
    return_dtype = pl.String if return_dtype is None else return_dtype
    if not mapping:
        return pl.Series(values.name, [None] * len(values), dtype=return_dtype)
    return values.replace_strict(
        pl.Series(list(mapping.keys()), dtype=pl.String),
        pl.Series(list(mapping.values()), dtype=return_dtype, strict=False),
        default=None,
        return_dtype=return_dtype,
    )


def first_role_column(ctx: RuleContext, roles: Sequence[str]) -> str | None:
    for role in roles:
        col = ctx.first_column(role)
        if col is not None and col in ctx.frame.columns:
            return col
    return None


# ---------------------------------------------------------------- rules that fix and flag (one rule per problem)


class FlagOptions(RuleOptions):
    """Keys of a standardizer that also flags (it replaced a check): its findings' severity is configurable."""

    severity: Literal["error", "warning", "info"] | None = Field(
        None, description="Override the rule's severity: error, warning or info.")


def flag_severity(rule: Rule) -> str:
    """The rule's severity, or the ``severity`` its options set."""
    return getattr(rule.options, "severity", None) or rule.severity


def role_of_column(ctx: RuleContext, column: str) -> str | None:
    for role, cols in ctx.roles.items():
        if column in cols:
            return role
    return None


def unfilled_mask(ctx: RuleContext, values: pl.Series, column: str) -> pl.Series:
    """Blank or filler for the column's role (plus the rules file's ``validate.placeholders``): nothing to judge."""
    from crmclean.fields.placeholder import placeholder_mask

    validate = getattr(ctx.settings, "validate_", None)
    extra = frozenset(w.strip().lower() for w in getattr(validate, "placeholders", None) or ())
    blank = (values.is_null() | (values.str.strip_chars() == "")).fill_null(True)
    return blank | placeholder_mask(values, role_of_column(ctx, column), extra).fill_null(False)
