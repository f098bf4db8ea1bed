"""Company-name rule (COMPANY001): a thin declaration over :mod:`crmclean.fields.company`."""

from __future__ import annotations

import functools
from functools import partial
from typing import Any

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.company import FormMode, QuoteStyle, company_key, normalize_company, parse_company
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import ColumnRule, StdResult, derived_name, fix_where, map_unique_fast


def _normalize_for_rule(text: str, mode: FormMode, quotes: QuoteStyle, quote_names: bool) -> dict[str, Any]:
    value, form = normalize_company(text, mode, quotes, quote_names)
    return {"value": value, "form": form, "key": company_key(text), "sure": parse_company(text).sure}


@functools.cache
def _STRUCT() -> pl.Struct:  # built on first use: importing the module reads no polars
    return pl.Struct({"value": pl.String, "form": pl.String, "key": pl.String, "sure": pl.Boolean})


class LegalFormOptions(RuleOptions):
    mode: FormMode = Field("normalize", description="normalize: canonical form in its usual place (ООО «Ромашка», "
                           "Acme LLC); split: remove it from the name into <column>__legal_form; keep: leave as typed.")
    quotes: QuoteStyle = Field("auto", description="Quotes around a Russian name after a prefix form: auto («» for "
                               "Cyrillic names, \"\" for Latin), «», \"\" or none.")
    quote_names: bool = Field(True, description="Put the name in quotes after a prefix form (ООО Ромашка → "
                              "ООО «Ромашка»).")


@register
class CompanyLegalForm(ColumnRule):
    """Recognize the legal form of a company name and normalize it in place or move it to its own field.

    What it does: finds the legal form at the start or end of the name, written as an
    abbreviation with or without dots (ООО, О.О.О., АО, ПАО, ИП, LLC, L.L.C., Inc.,
    Ltd, GmbH, S.A., B.V. …) or in full ("Общество с ограниченной ответственностью",
    "Limited Liability Company"), and writes it canonically: Russian forms before the
    name with the name in «», foreign forms after it ("Acme LLC"). Quotes of any kind
    ("", „“, “”) become «» (inner ones „“). With ``mode: split`` the form moves to
    ``<column>__legal_form`` and the name keeps only itself. The matching key without
    form, quotes and case (``company_key``) goes to the match profile.

    Why: "ООО Ромашка", "Ромашка, ООО", "Общество с ограниченной ответственностью
    «Ромашка»" and 'OOO "Romashka"' are one account for a steward but four for a
    duplicate check.
    """

    code = "COMPANY001"
    name = "company.legal_form"
    summary = "Legal forms (ООО, АО, ИП, LLC, Inc., GmbH …) recognized and normalized or split; quotes → «»."
    roles = ("company",)
    order = 52
    reads_roles = ()
    Options = LegalFormOptions
    examples = (
        Example("Общество с ограниченной ответственностью \"Ромашка\"", "ООО «Ромашка»"),
        Example("ООО Ромашка", "ООО «Ромашка»"),
        Example("Ромашка, ООО", "ООО «Ромашка»"),
        Example("ЗАО “Торговый дом “Север””", "ЗАО «Торговый дом „Север“»"),
        Example("Acme, Inc", "Acme Inc."),
        Example("Globex L.L.C.", "Globex LLC"),
        Example("Initech Limited", "Initech Ltd"),
        Example("ООО «Ромашка»", "Ромашка", "mode: split; Company__legal_form = ООО"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, LegalFormOptions)
        fn = partial(_normalize_for_rule, mode=opts.mode, quotes=opts.quotes, quote_names=opts.quote_names)
        info = map_unique_fast(values, fn, _STRUCT()).struct.unnest()
        after = info.get_column("value").fill_null(values).alias(column)
        form = info.get_column("form")
        # a form spelled like an ordinary word (SPA, SA in an all-caps name) is proposed, never applied
        sure = info.get_column("sure").fill_null(True)
        confidence = fix_where(sure)
        edits = [ColumnEdit(column, after, "legal form and quotes normalized" if opts.mode != "split"
                            else f"legal form moved to {derived_name(column, 'legal_form')}", confidence)]
        derived = {derived_name(column, "legal_form"): form, derived_name(column, "key"): info.get_column("key")}
        carries = {derived_name(column, "legal_form")} if opts.mode == "split" else set()
        return StdResult(edits=edits, derived=derived, carries=carries)
