"""Picklist checks: a value outside the allowed list, with the closest allowed value as the hint."""

from __future__ import annotations

from crmclean._lazy import fuzz, process
from crmclean._lazy import polars as pl
from crmclean.errors import ConfigError
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    resolve_columns,
    severity_of,
)


def picklists(ctx: CheckContext) -> list[tuple[str, list[str]]]:
    """(column, allowed values): the rules file's picklists, then the source's own (Salesforce metadata)."""
    out: list[tuple[str, list[str]]] = []
    seen: set[str] = set()
    for key, allowed in ctx.validate.picklists.items():
        columns = resolve_columns(ctx, key)
        if not columns:
            from crmclean.roles import ROLES

            if key not in ROLES:
                settings = ctx.settings
                line, col = settings.mark(("validate", "picklists", key)) if settings else (None, None)
                raise ConfigError(f"`validate.picklists.{key}`: not a column of the source nor a role",
                                  path=getattr(settings, "path", None), line=line, column=col)
        for c in columns:
            out.append((c, list(allowed)))
            seen.add(c)
    for column, declared in ctx.picklists.items():
        if column not in seen and declared and column in ctx.frame.columns:
            out.append((column, list(declared)))
    return out


def _loose(values: pl.Series) -> pl.Series:
    return values.str.strip_chars().str.to_lowercase().str.replace_all("ё", "е").str.replace_all(r"\s+", " ")


def _split(ctx: CheckContext, column: str, allowed: list[str]) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(values, exact-miss-but-loose-hit -> allowed value, total miss) for one picklist column."""
    values = ctx.frame.get_column(column)
    stripped = values.str.strip_chars()
    exact = stripped.is_in(allowed)
    loose_map = pl.DataFrame({"k": _loose(pl.Series(allowed)), "allowed": allowed}).unique("k", keep="first")
    loose_hit = (
        pl.DataFrame({"k": _loose(values)}).join(loose_map, on="k", how="left", maintain_order="left")
        .get_column("allowed")
    )
    candidate = ~exact.fill_null(False) & ~empty_mask(ctx, values)
    return values, loose_hit.set(~candidate, None), candidate & loose_hit.is_null()


@register
class PicklistValue(BaseCheck):
    """The value is not one of the column's allowed values.

    **What it does.** For each ``validate.picklists.<column or role>`` (and each picklist the
    source declares, e.g. Salesforce LeadSource) flags values not in the list; the hint names the
    closest allowed value. Values that differ only by case or spaces are PICKLIST002.

    YAML::

        validate:
          picklists:
            lead_source: [Сайт, Выставка, Звонок, Рекомендация, Web, Partner]
            Статус: [Новый, В работе, Квалифицирован, Отказ]
    """

    code = "PICKLIST001"
    name = "picklist.value"
    summary = "A value is not in the column's picklist; the hint names the closest allowed value."
    severity = "error"
    invalidates = True
    examples = (
        Example("Источник: 'Выстовка' (picklist Сайт, Выставка, Звонок)", "flagged; hint: did you mean 'Выставка'?"),
        Example("Lead Source: 'webinar' (picklist Web, Partner)", "flagged; hint: allowed values: Web, Partner"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, allowed in picklists(ctx):
            values, _, miss = _split(ctx, column, allowed)
            if not miss.any():
                continue

            def closest(v: str, allowed: list[str] = allowed) -> str:
                hit = process.extractOne(v.strip(), allowed, scorer=fuzz.WRatio, processor=str.lower)
                if hit and hit[1] >= 70:
                    return f"did you mean {hit[0]!r}?"
                return "allowed values: " + ", ".join(allowed[:12]) + (" …" if len(allowed) > 12 else "")

            hint = map_unique(values.filter(miss), closest, pl.String)
            hints = pl.Series([None] * len(values), dtype=pl.String).scatter(miss.arg_true(), hint)
            parts.append(findings_where(miss, column, values, f"not an allowed value of {column}", hints,
                                        severity_of(self)))
        return RuleResult(findings=concat_findings(parts))


@register
class PicklistCase(BaseCheck):
    """The value matches an allowed value only when case and spaces are ignored.

    **Why.** ``москва`` and ``Москва`` are the same choice, but reports and filters treat them apart;
    an import into a restricted picklist rejects the record.
    """

    code = "PICKLIST002"
    name = "picklist.case"
    summary = "A value matches a picklist value only ignoring case/spaces; the hint gives the exact spelling."
    severity = "warning"
    invalidates = False
    examples = (Example("Статус: 'в работе' (picklist Новый, В работе)", "flagged; hint: use 'В работе'"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column, allowed in picklists(ctx):
            values, loose, _ = _split(ctx, column, allowed)
            mask = loose.is_not_null()
            hints = pl.DataFrame({"a": loose}).select(pl.format("use '{}'", pl.col("a"))).to_series()
            parts.append(findings_where(mask, column, values, "differs from the picklist value in case or spaces",
                                        hints, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
