"""What every check shares: the check context, column resolution, emptiness/placeholder tests, dates, findings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.config.validate import Severity, ValidateSettings
from crmclean.fields.dates import parse_dates  # noqa: F401  (the one date reader, re-exported for the checks)
from crmclean.rules.base import Check, RuleContext, RuleOptions, concat_findings  # noqa: F401  (re-exported)
from crmclean.rules.base import findings_where as _findings_where

# ---------------------------------------------------------------- context and base class


@dataclass
class CheckContext(RuleContext):
    """A RuleContext plus what validation needs: object type, the match profile, today's date."""

    object_type: str = "contacts"
    profile: pl.DataFrame | None = None  # PROFILE_SCHEMA, row-aligned with ``frame``
    today: date = field(default_factory=date.today)
    picklists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # from the source's field metadata
    existing: pl.DataFrame | None = None  # row, existing_id, score: matches in the import target (--against)
    derived: pl.DataFrame | None = None  # the standardizer's derived columns (<column>__e164 …), row-aligned
    std_findings: pl.DataFrame | None = None  # the standardizer's findings (row, column, rule, message, hint)

    def release(self, keep: Sequence[str] = ()) -> None:
        """Drop the per-column caches (parsed dates, phone analyses …) except those named in ``keep``."""
        for key in [k for k in self.__dict__ if k.startswith("_") and k not in keep]:
            del self.__dict__[key]
        self.derived = None
        self.std_findings = None
        self.profile = None

    @property
    def validate(self) -> ValidateSettings:
        settings = getattr(self.settings, "validate_", None)
        return settings if isinstance(settings, ValidateSettings) else ValidateSettings()

    @property
    def height(self) -> int:
        return self.frame.height


class CheckOptions(RuleOptions):
    """Keys every check accepts under ``validate.rules.<CODE>``."""

    severity: Severity | None = Field(None, description="Override the check's severity: error, warning or info.")


class BaseCheck(Check):
    """A check with the metadata the audit needs to aggregate its findings."""

    Options: ClassVar[type[RuleOptions]] = CheckOptions

    # invalidates, kpi, objects and applies_to live on Rule: standardizers that replaced a check carry them too

    def apply(self, ctx: RuleContext) -> Any:
        raise NotImplementedError


# ---------------------------------------------------------------- columns


def resolve_columns(ctx: RuleContext, spec: str) -> list[str]:
    """Columns named by ``spec``: a column name, or a role (every column with it); `a|b` is the union."""
    out: list[str] = []
    for part in (p.strip() for p in spec.split("|")):
        if not part:
            continue
        if part in ctx.frame.columns:
            cols = [part]
        else:
            cols = ctx.columns_for(part)
        for c in cols:
            if c not in out:
                out.append(c)
    return out


def spec_known(ctx: RuleContext, spec: str) -> bool:
    """True when every part of ``spec`` is a column or a known role name."""
    from crmclean.roles import ROLES

    return all(p.strip() in ctx.frame.columns or p.strip() in ROLES for p in spec.split("|") if p.strip())


# ---------------------------------------------------------------- emptiness and placeholders

def blank_mask(values: pl.Series) -> pl.Series:
    """True where the cell is null or only whitespace."""
    return (values.is_null() | (values.str.strip_chars() == "")).fill_null(True)


def placeholder_mask(values: pl.Series, extra: Sequence[str] = (), role: str | None = None) -> pl.Series:
    """True where the non-blank cell holds filler ("-", "нет", "000", "test", "n/a") for a column of ``role``.

    The definition of filler is the standardizer's (PLACEHOLDER001), so a value flagged there is
    missing here; ``extra`` adds the rules file's ``validate.placeholders``.
    """
    from crmclean.fields.placeholder import placeholder_values

    words = frozenset(w.strip().lower() for w in extra)
    hit = placeholder_values(values, role, words)
    return hit.fill_null(False) & ~blank_mask(values)


def role_of(ctx: RuleContext, column: str) -> str | None:
    for role, columns in ctx.roles.items():
        if column in columns:
            return role
    return None


def filler_mask(ctx: CheckContext, column: str) -> pl.Series:
    """Placeholder mask of one column of ``ctx.frame`` for its role, cached (several checks and scoring ask)."""
    cache: dict[str, pl.Series] = ctx.__dict__.setdefault("_filler", {})
    if column not in cache:
        cache[column] = placeholder_mask(ctx.frame.get_column(column), ctx.validate.placeholders,
                                         role_of(ctx, column))
    return cache[column]


def empty_mask(ctx: CheckContext, values: pl.Series) -> pl.Series:
    """Blank or placeholder: a value that does not count as filled.

    ``values`` should be a column of ``ctx.frame``: masks are cached by column name.
    """
    name = values.name
    if name not in ctx.frame.columns:
        return blank_mask(values) | placeholder_mask(values, ctx.validate.placeholders, None)
    cache: dict[str, pl.Series] = ctx.__dict__.setdefault("_empty", {})
    if name not in cache:
        cache[name] = blank_mask(values) | filler_mask(ctx, name)
    return cache[name]


# ---------------------------------------------------------------- findings


def findings_where(
    mask: pl.Series,
    column: str,
    values: pl.Series,
    message: str | pl.Series,
    hint: str | pl.Series = "",
    severity: str = "warning",
) -> pl.DataFrame:
    """One finding per True row of ``mask``: the checks' argument order over the shared builder."""
    return _findings_where(mask, values, column, severity=severity, message=message, hint=hint)  # type: ignore[arg-type]


def severity_of(check: BaseCheck) -> str:
    override = getattr(check.options, "severity", None)
    return override or check.severity


def norm_text(values: pl.Series) -> pl.Series:
    """Lower-cased, ё→е, trimmed text for comparisons."""
    return values.str.strip_chars().str.to_lowercase().str.replace_all("ё", "е")


def digits_only(values: pl.Series) -> pl.Series:
    return values.str.replace_all(r"\D", "")


def clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_WS = re.compile(r"\s+")
