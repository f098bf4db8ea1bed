"""Country rule (COUNTRY001): countries to ISO 3166; flags what is not a country (COUNTRYV001 is its retired code)."""

from __future__ import annotations

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.country import (
    CountryOutput,
    ambiguous_country,
    country_alpha2,
    country_display,
    country_suggestion,
)
from crmclean.rules.base import ColumnEdit, Example, RuleContext, map_unique, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    FlagOptions,
    StdResult,
    derived_name,
    findings_where,
    flag_severity,
    map_unique_fast,
    unfilled_mask,
)


class CountryOptions(FlagOptions):
    output: CountryOutput = Field("alpha2", description="Write ISO alpha2 (RU), alpha3 (RUS), name_en (Russia) or "
                                  "name_ru (Россия).")
    fuzzy_score: float = Field(90, description="Minimum similarity (0-100) to propose a country for a misspelled "
                               "name (as `suggest`).")


def _country_hint(value: str) -> str:
    both = ambiguous_country(value)
    if both:
        names = " or ".join(f"{country_display(a2, 'name_en')} ({a2})" for a2 in both)
        return f"the name of two countries: {names}; write the code"
    guess = country_suggestion(value, 80)
    if guess:
        return f"did you mean {country_display(guess, 'name_en')}?"
    return "use an ISO code (RU, US, DE) or the country's name"


@register
class CountryIso(ColumnRule):
    """Write countries as ISO 3166 codes (or one name) whatever language or abbreviation they came in.

    What it does: recognizes country names in Russian and English, common abbreviations
    (РФ, США, UK, UAE, ОАЭ) and ISO alpha-2/alpha-3 codes, and writes ISO alpha-2 (or
    alpha-3 / the English or Russian name, by ``output``). Misspelled names close to a
    country are proposed as `suggest`; anything else that is not a country (a city typed
    into the country column) is flagged and kept, with a "did you mean" hint when one is
    somewhat close. Blanks and fillers are not judged. Replaces the check COUNTRYV001.

    Why: "Россия", "РФ", "Russia" and "RU" split one country into four in every report
    and segment, and phone parsing needs the record's country as a code; country also
    drives territory assignment and legal checks (152-FZ/GDPR).
    """

    code = "COUNTRY001"
    name = "country.iso"
    aliases = ("COUNTRYV001", "country.valid")
    summary = "Countries in Russian/English names or codes ('Россия', 'РФ', 'USA') to ISO 3166 alpha-2; flag non-countries."
    roles = ("country",)
    validates = True
    severity = "warning"
    invalidates = True
    order = 60
    reads_roles = ()
    Options = CountryOptions
    examples = (
        Example("Россия", "RU"),
        Example("РФ", "RU"),
        Example("Russian Federation", "RU"),
        Example("USA", "US"),
        Example("Соединённые Штаты", "US"),
        Example("Великобритания", "GB"),
        Example("Германия", "DE", "output: name_en gives 'Germany'"),
        Example("Москва", "Москва", "flagged: a city, not a country"),
        Example("Нарния", "Нарния", "flagged: not a country"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, CountryOptions)
        code = map_unique_fast(values, country_alpha2, pl.String)
        shown = map_unique_fast(code, lambda a2: country_display(a2, opts.output), pl.String)
        after = shown.fill_null(values).alias(column)
        edits = [ColumnEdit(column, after, f"country → ISO {opts.output}")]
        unknown = code.is_null() & values.is_not_null() & ~unfilled_mask(ctx, values, column)
        findings = None
        if unknown.any():
            guess = map_unique_fast(values.filter(unknown), lambda v: country_suggestion(v, opts.fuzzy_score), pl.String)
            full_guess = pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("").scatter(unknown.arg_true(), guess)
            suggested = map_unique_fast(full_guess, lambda a2: country_display(a2, opts.output), pl.String)
            if suggested.is_not_null().any():
                edits.append(ColumnEdit(column, suggested.fill_null(after), "misspelled country name", "suggest"))
            # the hint looks further than the suggestion (score 80): a hint may be wrong, an edit should not
            hint = map_unique(values.set(~unknown, None), _country_hint, pl.String)
            # a misspelling close enough for a suggested edit is reported by that edit (change log), not twice
            shared = map_unique(values.set(~unknown, None), lambda v: ambiguous_country(v) is not None, pl.Boolean)
            message = pl.select(pl.when(pl.lit(shared.fill_null(False))).then(pl.lit("one name of two countries"))
                                .otherwise(pl.lit("not a recognizable country"))).to_series()
            findings = findings_where(unknown & full_guess.is_null(), values, column, severity=flag_severity(self),  # type: ignore[arg-type]
                                      message=message, hint=hint)
        return StdResult(edits=edits, findings=findings, derived={derived_name(column, "iso2"): code})
