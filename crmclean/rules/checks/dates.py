"""Date checks: unreadable dates, dates outside their range, modified-before-created."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from crmclean._lazy import polars as pl
from crmclean.config.validate import DateRange
from crmclean.fields.country import country_codes
from crmclean.fields.dates import MONTH_FIRST_REGIONS, parse_dates
from crmclean.roles import DATE_ROLES
from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    resolve_columns,
    severity_of,
)

EARLIEST = date(1900, 1, 1)


def date_columns(ctx: CheckContext) -> list[tuple[str, DateRange]]:
    """(column, range): every column with a date role, plus those configured in ``validate.dates``."""
    out: dict[str, DateRange] = {}
    for role in sorted(DATE_ROLES):
        for column in ctx.columns_for(role):
            out[column] = DateRange()
    for key, spec in ctx.validate.dates.items():
        for column in resolve_columns(ctx, key):
            out[column] = spec
    return list(out.items())


def date_region(ctx: CheckContext) -> str | None:
    """The region whose custom decides an ambiguous 03/04/2024 when no date of the file shows its order.

    The rules file's ``defaults.region`` when it is set; otherwise the records' own country when most filled
    country cells name one that writes dates month-first (a US export: 11/03/2026 is 3 November), else the
    default region (RU: day-first).
    """
    settings = ctx.settings
    defaults = getattr(settings, "defaults", None)
    if defaults is not None and "region" in defaults.model_fields_set:
        return ctx.default_region
    codes = [country_codes(ctx.frame.get_column(c)) for c in ctx.columns_for("country")]
    filled = pl.concat(codes).drop_nulls() if codes else pl.Series([], dtype=pl.String)
    if filled.len() and filled.is_in(sorted(MONTH_FIRST_REGIONS)).sum() * 2 > filled.len():
        return str(filled.mode().sort()[0])
    return ctx.default_region


def _slash_dates(values: pl.Series) -> bool:
    """True when every filled cell (of the first thousand) is a numeric date with slashes and a 4-digit year
    (3/31/2027, 25/03/2026): a date column with no date role. No phone, version or amount looks like one."""
    sample = values.drop_nulls().head(1000).str.strip_chars()
    sample = sample.filter(sample != "")
    return sample.len() > 0 and bool(sample.str.contains(r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?:[ T]|$)").all())


def parsed_column(ctx: CheckContext, column: str) -> pl.Series:
    """Parsed dates of a column, cached on the context (several checks and staleness read the same column).

    Read by :func:`crmclean.fields.dates.parse_dates`, the reader survivorship uses too. The text date columns
    of the file are read as one series, so an export's one date format decides the order of ambiguous values
    in every column (a 12/25/2026 in Created Date makes Last Modified's 11/02/2026 month-first too), with the
    file's other columns of slash dates as witnesses (a Salesforce report's Close Date 3/31/2027); with no such
    value anywhere, :func:`date_region` decides.
    """
    cache: dict[str, pl.Series] = ctx.__dict__.setdefault("_parsed_dates", {})
    if column not in cache:
        region = date_region(ctx)
        names = [c for c, _ in date_columns(ctx)] + ctx.columns_for("updated_at") + ctx.columns_for("last_activity")
        names = list(dict.fromkeys([*names, column]))
        text = [c for c in names if ctx.frame.schema[c] == pl.String]
        witnesses = [c for c in ctx.frame.columns if c not in names and not c.startswith("__")
                     and ctx.frame.schema[c] == pl.String and _slash_dates(ctx.frame.get_column(c))]
        if text:
            together = parse_dates(pl.concat([ctx.frame.get_column(c) for c in text + witnesses]), region=region)
            for i, c in enumerate(text):
                cache[c] = together.slice(i * ctx.height, ctx.height).alias(c)
        for c in names:
            if c not in cache:
                cache[c] = parse_dates(ctx.frame.get_column(c), region=region)
    return cache[column]


@register
class UnreadableDate(BaseCheck):
    """A date column holds a value that is not a date ('вчера', '31.02.2024', 'Q3').

    Understood (see :mod:`crmclean.fields.dates`): ISO (2024-03-01, 2024-03-01T10:00:00Z, Salesforce
    and Bitrix24 offsets), 01.03.2024, 1.3.24, 01/03/2024 and 01-03-2024 (day first unless the column
    shows month-first values or the default region is US), month names ('1 марта 2024 г.',
    'Mar 1, 2024', '01-Mar-2024'), epoch seconds (amoCRM) and milliseconds (HubSpot), Excel serial numbers.
    """

    code = "DATE001"
    name = "date.unreadable"
    summary = "A value of a date column cannot be read as a date."
    severity = "warning"
    invalidates = True
    examples = (
        Example("Дата создания: '31.02.2024'", "flagged: no such date"),
        Example("Created: 'last week'", "flagged: not a date"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, _ in date_columns(ctx):
            values = ctx.frame.get_column(column)
            bad = parsed_column(ctx, column).is_null() & ~empty_mask(ctx, values)
            parts.append(findings_where(bad, column, values, "not a readable date",
                                        "write the date as YYYY-MM-DD or DD.MM.YYYY", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class DateOutOfRange(BaseCheck):
    """A date is outside its allowed range: before 1900, in the future, or outside ``validate.dates``.

    YAML::

        validate:
          dates:
            birthdate: {min: 1920-01-01}
            "Дата договора": {min: 2015-01-01, allow_future: true}
    """

    code = "DATE002"
    name = "date.range"
    summary = "A date is before its minimum (default 1900-01-01) or after its maximum (default today)."
    severity = "warning"
    invalidates = True
    examples = (
        Example("Дата создания: '01.01.1899'", "flagged: before 1900-01-01"),
        Example("Last Modified: '2031-05-01'", "flagged: in the future"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, spec in date_columns(ctx):
            values = ctx.frame.get_column(column)
            parsed = parsed_column(ctx, column)
            lo = datetime.combine(spec.min or EARLIEST, datetime.min.time())
            hi_date = spec.max or (None if spec.allow_future else ctx.today)
            early = (parsed < lo).fill_null(False)
            if hi_date is not None:
                # "today" is this machine's date, and a stamp is read at its own wall-clock time: where that zone is
                # ahead (a Bitrix24 stamp of 00:30 Moscow time is 21:30 UTC the day before), today there is tomorrow
                # here, so the default bound allows one day more (no zone is more than a day ahead of another)
                ahead = timedelta(days=1) if spec.max is None else timedelta(0)
                hi = datetime.combine(hi_date + ahead, datetime.max.time())
                late = (parsed > hi).fill_null(False)
            else:
                late = pl.Series([False] * len(values))
            message = pl.select(
                pl.when(pl.lit(early)).then(pl.lit(f"before {(spec.min or EARLIEST).isoformat()}"))
                .otherwise(pl.lit(f"after {hi_date.isoformat()}" if hi_date else "out of range"))
            ).to_series()
            parts.append(findings_where(early | late, column, values, message,
                                        "check the date (typo in the year? wrong day/month order?)",
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class ModifiedBeforeCreated(BaseCheck):
    """The last-modified date is earlier than the creation date.

    **Why.** Usually a day/month swap or an import that overwrote dates; stale-record checks
    then misjudge the record.

    A last-activity date is not compared: it is the date of an activity, which may precede the record. In
    Salesforce, Contact/Lead ``LastActivityDate`` is the due date of the latest event or closed task
    (Object Reference, Contact: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/
    object_reference/sforce_api_objects_contact.htm), a date the user sets, and a lead's activities move to the
    contact created at conversion; a call logged after the fact is dated when it happened.
    """

    code = "DATE003"
    name = "date.order"
    summary = "Modified date is earlier than the created date."
    severity = "warning"
    invalidates = False
    examples = (Example("Создан: 2024-05-10, Изменён: 2023-05-10", "flagged: modified before created"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        created_col = ctx.first_column("created_at")
        if created_col is None:
            return RuleResult()
        created = parsed_column(ctx, created_col).dt.date()
        parts = []
        for role in ("updated_at",):
            for column in ctx.columns_for(role):
                later = parsed_column(ctx, column).dt.date()
                bad = (later < created).fill_null(False)
                shown = ctx.frame.get_column(column)
                message = pl.select(pl.format("{} is before {} ({})", pl.lit(column), pl.lit(created_col),
                                              pl.lit(ctx.frame.get_column(created_col)))).to_series()
                parts.append(findings_where(bad, column, shown, message, "check both dates", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
