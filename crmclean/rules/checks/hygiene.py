"""CRM hygiene checks: orphan contacts, unassigned records, stale records."""

from __future__ import annotations

from datetime import datetime, timedelta

from crmclean._lazy import polars as pl
from crmclean._lazy import process
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    norm_text,
    severity_of,
)
from crmclean.rules.checks.dates import parsed_column


def _all_empty(ctx: CheckContext, columns: list[str]) -> pl.Series:
    mask = pl.Series([True] * ctx.height)
    for c in columns:
        mask = mask & empty_mask(ctx, ctx.frame.get_column(c))
    return mask


@register
class OrphanContact(BaseCheck):
    """A contact is not linked to any company or account.

    **Why.** Orphans break account-level reporting, scoring and ABM, and usually mean the
    import lost the link. Runs when the source has a company/account column.
    """

    code = "ORPHAN001"
    name = "hygiene.orphan"
    summary = "A contact has no company/account."
    severity = "warning"
    kpi = "orphan"
    roles = ("company", "account_id")
    objects = ("contacts",)
    examples = (Example("Contact: Иванов Иван, Компания: (empty)", "flagged: orphan contact"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        columns = self.target_columns(ctx)
        if not columns:
            return RuleResult()
        orphan = _all_empty(ctx, columns)
        shown = ctx.frame.get_column(columns[0])
        return RuleResult(findings=findings_where(orphan, columns[0], shown, "contact has no company",
                                                  "link the contact to its company (account)", severity_of(self)))


@register
class Unassigned(BaseCheck):
    """A record has no owner (ответственный).

    **Why.** Nobody works an unowned lead; "two salespeople chasing the same prospect" starts with
    unclear ownership. Runs when the source has an owner column.
    """

    code = "OWNER001"
    name = "hygiene.unassigned"
    summary = "A record has no owner."
    severity = "warning"
    kpi = "unassigned"
    roles = ("owner",)
    examples = (Example("Lead: ООО «Ромашка», Ответственный: (empty)", "flagged: unassigned"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        columns = self.target_columns(ctx)
        if not columns:
            return RuleResult()
        unowned = _all_empty(ctx, columns)
        return RuleResult(findings=findings_where(unowned, columns[0], ctx.frame.get_column(columns[0]),
                                                  "record has no owner", "assign an active user",
                                                  severity_of(self)))


@register
class InactiveOwner(BaseCheck):
    """A record's owner is not in the list of active users (``validate.active_owners``).

    **Why.** Records of people who left the company are silently abandoned.

    YAML::

        validate:
          active_owners: [Иванова Е., Сидоров К., j.smith@acme.com]
    """

    code = "OWNER002"
    name = "hygiene.inactive_owner"
    summary = "The owner is not an active user (validate.active_owners)."
    severity = "warning"
    kpi = "unassigned"
    roles = ("owner",)
    examples = (Example("Ответственный: Петров П. (left in 2023)", "flagged: not an active user"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        active = ctx.validate.active_owners
        if active is None:
            return RuleResult()
        active_keys = [" ".join(a.lower().replace("ё", "е").split()) for a in active]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            key = norm_text(values).str.replace_all(r"\s+", " ")
            bad = ~key.is_in(active_keys).fill_null(False) & ~empty_mask(ctx, values)

            def hint(v: str) -> str:
                hit = process.extractOne(v.lower(), active_keys, score_cutoff=85)
                if hit:
                    return f"spelled differently from active user {active[hit[2]]!r}?"
                return "reassign to an active user"

            hints = map_unique(values.set(~bad, None), hint, pl.String)
            parts.append(findings_where(bad, column, values, "owner is not an active user", hints,
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


def _touch_columns(ctx: CheckContext) -> list[str]:
    return ctx.columns_for("updated_at") + ctx.columns_for("last_activity")


def last_touch(ctx: CheckContext) -> tuple[pl.Series, pl.Series, pl.Series] | None:
    """(latest modification/activity datetime, any date present, any date unreadable) per row."""
    columns = _touch_columns(ctx)
    if not columns:
        return None
    parsed = [parsed_column(ctx, c) for c in columns]
    frame = pl.DataFrame({f"d{i}": p for i, p in enumerate(parsed)})
    latest = frame.select(pl.max_horizontal(pl.all())).to_series()
    present = pl.Series([False] * ctx.height)
    unreadable = pl.Series([False] * ctx.height)
    for c, p in zip(columns, parsed, strict=True):
        filled = ~empty_mask(ctx, ctx.frame.get_column(c))
        present = present | filled
        unreadable = unreadable | (filled & p.is_null())
    return latest, present, unreadable


@register
class StaleRecord(BaseCheck):
    """No modification or activity for more than ``validate.stale_days`` days (default 365).

    **Why.** B2B data decays 3–4 % a month; a record nobody touched for a year is likely out of
    date (job changes, closed companies). Records with no date at all are STALE002 and records
    whose dates cannot be read STALE003, so the three are counted apart.
    """

    code = "STALE001"
    name = "hygiene.stale"
    summary = "No modification or activity for more than validate.stale_days days."
    severity = "info"
    kpi = "stale"
    roles = ("updated_at", "last_activity")
    examples = (Example("Изменено: 2021-03-01 (today 2025-06-01, stale_days 365)", "flagged: 4 years untouched"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        touch = last_touch(ctx)
        if touch is None:
            return RuleResult()
        latest, _, _ = touch
        cutoff = datetime.combine(ctx.today - timedelta(days=ctx.validate.stale_days), datetime.min.time())
        stale = (latest < cutoff).fill_null(False)
        age = ((pl.lit(datetime.combine(ctx.today, datetime.min.time())) - pl.lit(latest)).dt.total_days())
        # the finding names the column that holds the latest date, and its value as written there
        parts, left = [], stale
        activity = set(ctx.columns_for("last_activity"))
        for column in _touch_columns(ctx):
            here = left & (parsed_column(ctx, column) == latest).fill_null(False)
            left = left & ~here
            what = "no activity" if column in activity else "not modified"
            message = pl.select(pl.format(f"{what} for {{}} days", age)).to_series()
            parts.append(findings_where(here, column, ctx.frame.get_column(column), message,
                                        "re-verify the record (call, enrichment) or archive it", severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class NeverTouched(BaseCheck):
    """The record has no modification or activity date at all ("never")."""

    code = "STALE002"
    name = "hygiene.never_touched"
    summary = "The record has no modification or activity date at all."
    severity = "info"
    kpi = "stale_never"
    roles = ("updated_at", "last_activity")
    examples = (Example("Изменено: (empty), Последняя активность: (empty)", "flagged: never"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        touch = last_touch(ctx)
        if touch is None:
            return RuleResult()
        _, present, _ = touch
        column = _touch_columns(ctx)[0]
        return RuleResult(findings=findings_where(~present, column, ctx.frame.get_column(column),
                                                  "no modification or activity date",
                                                  "staleness unknown: check when the record was last verified",
                                                  severity_of(self)))


@register
class UnreadableTouchDate(BaseCheck):
    """The record's modification/activity dates are filled but cannot be read, so staleness is unknown."""

    code = "STALE003"
    name = "hygiene.unreadable_touch"
    summary = "Modification/activity dates are present but unreadable; staleness unknown."
    severity = "info"
    kpi = "stale_unreadable"
    roles = ("updated_at", "last_activity")
    examples = (Example("Изменено: 'давно'", "flagged: unreadable date"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        touch = last_touch(ctx)
        if touch is None:
            return RuleResult()
        latest, _, unreadable = touch
        column = _touch_columns(ctx)[0]
        mask = unreadable & latest.is_null()
        return RuleResult(findings=findings_where(mask, column, ctx.frame.get_column(column),
                                                  "modification date unreadable: staleness unknown",
                                                  "fix the date (see DATE001)", severity_of(self)))
