"""What every check shares: the check context, column resolution, emptiness/placeholder tests, dates, findings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

import polars as pl
from pydantic import Field

from crmclean.config.validate import Severity, ValidateSettings
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
    from crmclean.rules.standardizers.placeholders import placeholder_expr

    words = frozenset(w.strip().lower() for w in extra)
    hit = pl.DataFrame({"v": values}).select(placeholder_expr(pl.col("v"), role, words)).to_series()
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


# ---------------------------------------------------------------- dates

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d-%m-%Y",
)
_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
_MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%m/%d/%Y %I:%M %p", "%m/%d/%y")


def parse_dates(values: pl.Series) -> pl.Series:
    """Datetime for each cell (null when blank or unreadable): ISO, 31.12.2024, US/EU slashes, epoch, Excel serial.

    Slash dates are read day-first unless some value of the column only makes sense month-first
    (13/01 vs 01/13), because Russian exports write day-first.
    """
    uniq = values.drop_nulls().unique().str.strip_chars()
    uniq = uniq.filter(uniq != "").unique()
    if uniq.len() == 0:
        return pl.Series(values.name, [None] * values.len(), dtype=pl.Datetime("us"))
    iso = (
        uniq.str.replace(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2})?).*$", "$1 $2")
        # two-digit years (15.01.23): 00–49 are 20xx, 50–99 are 19xx
        .str.replace(r"^(\d{1,2}\.\d{1,2}\.)([0-4]\d)$", "${1}20${2}")
        .str.replace(r"^(\d{1,2}\.\d{1,2}\.)([5-9]\d)$", "${1}19${2}")
    )
    slash = uniq.str.extract(r"^(\d{1,2})/(\d{1,2})/\d{2,4}", 2).cast(pl.Int32, strict=False)
    month_first = bool((slash > 12).any())
    formats = _DATE_FORMATS + (_MONTH_FIRST + _DAY_FIRST if month_first else _DAY_FIRST + _MONTH_FIRST)
    # formats are tried in turn on what is still unparsed: most columns are one format, so the rest is cheap
    parts: list[pl.DataFrame] = []
    rest = pl.DataFrame({"key": uniq, "iso": iso})
    for fmt in formats:
        if rest.height == 0:
            break
        attempt = rest.with_columns(pl.col("iso").str.to_datetime(fmt, strict=False, time_unit="us").alias("value"))
        parts.append(attempt.filter(pl.col("value").is_not_null()).select("key", "value"))
        rest = attempt.filter(pl.col("value").is_null()).drop("value")
    digits = pl.col("key").str.contains(r"^\d+(\.0+)?$")
    number = pl.col("key").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    length = pl.col("key").str.replace(r"\.0+$", "").str.len_chars()
    parts.append(rest.select(
        pl.col("key"),
        pl.coalesce(
            pl.when(digits & (length == 13)).then(pl.from_epoch(number, time_unit="ms").cast(pl.Datetime("us"))),
            pl.when(digits & (length == 10)).then(pl.from_epoch(number, time_unit="s").cast(pl.Datetime("us"))),
            # Excel stores dates as days since 1899-12-30; 20000..80000 is 1954..2119
            pl.when(digits & number.is_between(20000, 80000)).then(
                pl.lit(datetime(1899, 12, 30)) + pl.duration(days=number)
            ),
        ).cast(pl.Datetime("us")).alias("value"),
    ))
    parsed = pl.concat(parts)
    out = (
        pl.DataFrame({"key": values.str.strip_chars()})
        .join(parsed, on="key", how="left", maintain_order="left")
        .get_column("value")
    )
    return out.alias(values.name)


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
