"""Required-field check: a field the business needs is empty (REQ001).

A required field holding filler is PLACEHOLDER001's finding (REQ002 is its retired code).
"""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.errors import ConfigError
from crmclean.rules.base import Example, RuleContext, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    blank_mask,
    concat_findings,
    filler_mask,
    findings_where,
    resolve_columns,
    severity_of,
    spec_known,
)

# Used when the rules file has no ``validate.required`` for the object type; a field whose
# columns are absent from the source is skipped (an export may simply not include it).
DEFAULT_REQUIRED: dict[str, list[str]] = {
    "contacts": ["last_name|full_name|first_name", "email|email2|phone|mobile"],
    "leads": ["last_name|full_name|first_name|company", "email|email2|phone|mobile"],
    "companies": ["company"],
    # a stage only: an open deal often has no amount yet, and no CRM requires one (Salesforce Opportunity requires
    # Name, StageName, CloseDate; HubSpot a deal's name, pipeline and stage): the amount weighs in completeness
    "deals": ["deal_stage|status"],  # a deals report's "Stage" / "Этап" column reads as status
}


def required_fields(ctx: RuleContext) -> tuple[list[str], bool]:
    """(field specs, explicit) for the context's object type (any rule context: PLACEHOLDER001 reads it too)."""
    validate = getattr(ctx.settings, "validate_", None)
    configured = getattr(validate, "required", None)
    if configured is not None and ctx.object_type in configured:
        return list(configured[ctx.object_type]), True
    return list(DEFAULT_REQUIRED.get(ctx.object_type, DEFAULT_REQUIRED["contacts"])), False


def _required_masks(ctx: CheckContext, spec: str, explicit: bool) -> tuple[str, pl.Series, pl.Series] | None:
    """(column shown, all-empty mask, placeholder-only mask) for one required spec, or None to skip."""
    columns = resolve_columns(ctx, spec)
    if not columns:
        if not explicit:
            return None
        if not spec_known(ctx, spec):
            settings = ctx.settings
            line, col = settings.mark(("validate", "required", ctx.object_type)) if settings else (None, None)
            raise ConfigError(
                f"required field {spec!r} is neither a column of the source nor a role",
                path=getattr(settings, "path", None), line=line, column=col,
            )
        # a role the business requires but the source lacks entirely: every record misses it
        everyone = pl.Series([True] * ctx.height)
        return spec, everyone, pl.Series([False] * ctx.height)
    blank_all = pl.Series([True] * ctx.height)
    filler_any = pl.Series([False] * ctx.height)
    filled_any = pl.Series([False] * ctx.height)
    for c in columns:
        values = ctx.frame.get_column(c)
        blank = blank_mask(values)
        filler = filler_mask(ctx, c)
        blank_all = blank_all & (blank | filler)
        filler_any = filler_any | filler
        filled_any = filled_any | (~blank & ~filler)
    shown = " | ".join(columns)
    return shown, blank_all & ~filler_any, blank_all & filler_any


def _value_of(ctx: CheckContext, spec: str) -> pl.Series:
    columns = resolve_columns(ctx, spec)
    if not columns:
        return pl.Series([None] * ctx.height, dtype=pl.String)
    joined = ctx.frame.select(pl.concat_str([pl.col(c) for c in columns], separator=" | ", ignore_nulls=True))
    return joined.to_series().replace("", None)


@register
class RequiredFieldMissing(BaseCheck):
    """A required field is empty.

    **What it does.** For each field listed under ``validate.required.<object type>`` (default:
    contacts and leads need a name and an email or phone; companies a name; deals a stage)
    flags records where the field is empty. ``email|phone`` means "at least one of".

    **Why.** A record without a way to reach the person (or without a name) cannot be worked;
    1C:CRM and Salesforce make such fields mandatory at entry, imports bypass that.

    YAML::

        validate:
          required:
            contacts: [last_name, "email|phone", company]
            companies: [company, inn]
    """

    code = "REQ001"
    name = "required.missing"
    summary = "A required field is empty."
    severity = "error"
    invalidates = False
    kpi = "missing_required"
    examples = (
        Example("ФИО: Иванов Иван, Email: (empty), Телефон: (empty)", "flagged: email|phone is required"),
        Example("Last Name: (empty), Email: j.smith@acme.com", "flagged: last_name|full_name is required"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        specs, explicit = required_fields(ctx)
        parts = []
        sev = severity_of(self)
        for spec in specs:
            masks = _required_masks(ctx, spec, explicit)
            if masks is None:
                continue
            shown, empty, _ = masks
            parts.append(
                findings_where(
                    empty, shown, _value_of(ctx, spec), f"required field `{spec}` is empty",
                    f"fill {shown} (or fix the record at its source) before import", sev,
                )
            )
        return RuleResult(findings=concat_findings(parts))
