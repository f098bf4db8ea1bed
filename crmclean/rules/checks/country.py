"""Country check: the country column holds something that is not a recognizable country."""

from __future__ import annotations

import polars as pl

from crmclean.fields.country import country_code, country_codes, country_suggestion  # noqa: F401  (re-exported)
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    severity_of,
)


@register
class UnknownCountry(BaseCheck):
    """The country column holds something that is not a country.

    **What it does.** Reads English and Russian names, ISO alpha-2/alpha-3 codes and common short
    forms (РФ, USA, UK); flags the rest, e.g. a city typed into the country column.

    **Why.** Country drives phone parsing, territory assignment and legal checks (152-FZ/GDPR).
    """

    code = "COUNTRYV001"
    name = "country.valid"
    summary = "The country is not a recognizable country name or ISO code."
    severity = "warning"
    invalidates = True
    roles = ("country",)
    examples = (
        Example("Страна: 'Москва'", "flagged: a city, not a country"),
        Example("Country: 'Russian Federation'", "not flagged (→ RU)"),
        Example("Country: 'Untied States'", "flagged; hint: did you mean 'United States'?"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for column in self.target_columns(ctx):
            values = ctx.frame.get_column(column)
            bad = country_codes(values).is_null() & ~empty_mask(ctx, values)
            if not bad.any():
                continue

            def hint(v: str) -> str:
                guess = country_suggestion(v, 80)
                return f"did you mean {guess}?" if guess else "use an ISO code (RU, US, DE) or the country's name"

            hints = map_unique(values.set(~bad, None), hint, pl.String)
            parts.append(findings_where(bad, column, values, "not a recognizable country", hints, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
