"""Rules for any column, configured in the rules file: value maps, regex replace, picklists, letter case (MAP001, REGEX001, MAP002, CASE001)."""

from __future__ import annotations

from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmclean._lazy import fuzz, process
from crmclean._lazy import polars as pl
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import ColumnRule, StdResult, findings_where, fold, map_unique_fast

CaseName = Literal["upper", "lower", "title", "sentence"]


def _columns(ctx: RuleContext, keys: list[str]) -> list[str]:
    """Keys are column names or roles; returns the matching columns in table order."""
    out: list[str] = []
    for key in keys:
        if key in ctx.frame.columns:
            cols = [key]
        else:
            cols = ctx.columns_for(key)
        out += [c for c in cols if c not in out and c != ctx.id_column]
    return out


# ---------------------------------------------------------------- value map


class ValueMapOptions(RuleOptions):
    values: dict[str, str | None] = Field(default_factory=dict, description="Mapping applied to every column in "
                                          "`columns`/`roles`; keys compare case-insensitively and ignore spaces "
                                          "around; a null value empties the cell.")
    by_column: dict[str, dict[str, str | None]] = Field(default_factory=dict, description="Mapping per column name "
                                                        "or role, e.g. {city: {мск: Москва, moscow: Москва}}.")


def map_values(values: pl.Series, mapping: dict[str, str | None]) -> pl.Series:
    """Replace values through ``mapping`` with case- and ё-insensitive keys; unmatched values stay."""
    if not mapping:
        return values
    keys = {fold(k).strip(): v for k, v in mapping.items()}
    folded = values.str.to_lowercase().str.replace_all("ё", "е", literal=True).str.strip_chars()
    hit = folded.is_in(list(keys))
    mapped = folded.replace_strict(list(keys), list(keys.values()), default=None, return_dtype=pl.String)
    return values.zip_with(~hit.fill_null(False), mapped)


@register
class ValueMap(ColumnRule):
    """Replace values through a mapping you give (case-insensitive keys).

    What it does: for the columns you name (by column name or role), replaces each value
    found in the mapping. Keys compare ignoring case, ё/е and surrounding spaces; a null
    target empties the cell.

    Why: the fastest way to fold a CRM's local spellings into one ("мск", "Msk",
    "г. Москва" → "Москва") without writing code.
    """

    code = "MAP001"
    name = "generic.value_map"
    summary = "Map values to replacements you list (case-insensitive keys), per column or role."
    roles = ()
    order = 200
    Options = ValueMapOptions
    examples = (
        Example("мск", "Москва", "by_column: {city: {мск: Москва}}"),
        Example("Msk", "Москва"),
        Example("St. Petersburg", "Санкт-Петербург", "values: {st. petersburg: Санкт-Петербург}"),
    )

    def apply(self, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, ValueMapOptions)
        result = StdResult()
        plan: dict[str, dict[str, str | None]] = {}
        if opts.values:
            for col in self.target_columns(ctx):
                plan.setdefault(col, {}).update(opts.values)
        for key, mapping in opts.by_column.items():
            for col in _columns(ctx, [key]):
                plan.setdefault(col, {}).update(mapping)
        for col, mapping in plan.items():
            current = ctx.frame.get_column(col)
            result.edits.append(ColumnEdit(col, map_values(current, mapping).alias(col), "value map"))
        return result


# ---------------------------------------------------------------- regex replace


class RegexReplacement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(description="Column names or roles.")
    pattern: str = Field(description="Regular expression (Rust/polars syntax: no look-around or backreferences).")
    replace: str = Field("", description="Replacement; $1, ${name} refer to groups.")
    ignore_case: bool = Field(False, description="Match case-insensitively.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            pl.Series(["x"]).str.contains(v)
        except Exception as exc:  # polars raises ComputeError for bad patterns
            raise ValueError(f"invalid regular expression: {str(exc).splitlines()[0]}") from None
        return v


class RegexOptions(RuleOptions):
    replacements: list[RegexReplacement] = Field(default_factory=list, description="Replacements applied in order: "
                                                 "[{columns, pattern, replace, ignore_case}].")


@register
class RegexReplace(ColumnRule):
    """Rewrite values with regular expressions you give.

    What it does: applies each ``{columns, pattern, replace}`` in order to the named
    columns (names or roles); a value that becomes empty is emptied.

    Why: house conventions that no built-in rule knows ("г. Москва" → "Москва", strip a
    CRM's "(копия)" suffix) without code.
    """

    code = "REGEX001"
    name = "generic.regex_replace"
    summary = "Rewrite values with regular expressions you give (per column or role)."
    roles = ()
    order = 15
    Options = RegexOptions
    examples = (
        Example("г. Москва", "Москва", "{columns: [city], pattern: '^г\\.\\s*', replace: ''}"),
        Example("ООО Ромашка (копия)", "ООО Ромашка", "{columns: [company], pattern: '\\s*\\(копия\\)$'}"),
        Example("Acme Corp (duplicate)", "Acme Corp", "{columns: [company], pattern: '\\s*\\(duplicate\\)$'}"),
    )

    def apply(self, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, RegexOptions)
        result = StdResult()
        frame = ctx.frame
        for rep in opts.replacements:
            pattern = f"(?i){rep.pattern}" if rep.ignore_case else rep.pattern
            for col in _columns(ctx, rep.columns):
                current = frame.get_column(col)
                new = current.str.replace_all(pattern, rep.replace)
                new = new.zip_with(new.str.strip_chars() != "", pl.repeat(None, len(new), dtype=pl.String, eager=True).alias(""))
                result.edits.append(ColumnEdit(col, new.alias(col), f"regex {rep.pattern!r}"))
                frame = frame.with_columns(new.alias(col))
        return result


# ---------------------------------------------------------------- picklist


class PicklistOptions(RuleOptions):
    allowed: list[str] = Field(default_factory=list, description="Allowed values for the columns in "
                               "`columns`/`roles`.")
    by_column: dict[str, list[str]] = Field(default_factory=dict, description="Allowed values per column name or role.")
    fuzzy_score: float = Field(85, description="Minimum rapidfuzz similarity (0-100) to propose an allowed value for "
                               "one outside the list (as `suggest`).")
    flag_unknown: bool = Field(True, description="Report values that match no allowed value.")


def picklist_match(value: str, allowed: list[str], min_score: float = 85) -> tuple[str | None, bool]:
    """(allowed value, exact): exact when it differs only in case/spaces/ё, else the closest above ``min_score``."""
    key = fold(value).strip()
    for a in allowed:
        if fold(a).strip() == key:
            return a, True
    best = process.extractOne(key, [fold(a) for a in allowed], scorer=fuzz.WRatio, score_cutoff=min_score)
    if best is None:
        return None, False
    return allowed[best[2]], False


def _picklist_struct(value: str, allowed: list[str], min_score: float) -> dict[str, object]:
    match, exact = picklist_match(value, allowed, min_score)
    return {"value": match, "exact": exact}


@register
class Picklist(ColumnRule):
    """Map free-text values onto a picklist: exact (case-insensitive) matches fixed, close ones proposed.

    What it does: for each column with an allowed list, a value equal to an allowed
    value up to case, spaces and ё is rewritten to it (`fix`); a value close to one
    (rapidfuzz, ``fuzzy_score``) is proposed (`suggest`); anything else is reported.

    Why: "Lead source", "Отрасль", "Статус" typed as free text split one category into
    many and break every report grouped by it.
    """

    code = "MAP002"
    name = "generic.picklist"
    summary = "Map values onto an allowed list: case-insensitive matches fixed, close ones suggested, others flagged."
    roles = ()
    order = 210
    Options = PicklistOptions
    examples = (
        Example("website", "Website", "allowed: [Website, Referral, Cold call]"),
        Example("Webiste", "Website", "suggest"),
        Example("выставка", "Выставка", "allowed: [Выставка, Сайт, Рекомендация]"),
    )

    def apply(self, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, PicklistOptions)
        plan: dict[str, list[str]] = {}
        if opts.allowed:
            for col in self.target_columns(ctx):
                plan[col] = list(opts.allowed)
        for key, allowed in opts.by_column.items():
            for col in _columns(ctx, [key]):
                plan[col] = list(allowed)
        result = StdResult()
        findings = []
        for col, allowed in plan.items():
            values = ctx.frame.get_column(col)
            fn = partial(_picklist_struct, allowed=allowed, min_score=opts.fuzzy_score)
            info = map_unique_fast(values, fn, pl.Struct({"value": pl.String, "exact": pl.Boolean})).struct.unnest()
            value, exact = info.get_column("value"), info.get_column("exact").fill_null(False)
            fixed = value.zip_with(exact, values).alias(col)
            result.edits.append(ColumnEdit(col, fixed, "picklist value"))
            close = value.is_not_null() & ~exact
            if close.any():
                result.edits.append(ColumnEdit(col, value.zip_with(close, fixed).alias(col),
                                               "closest picklist value", "suggest"))
            if opts.flag_unknown:
                findings.append(findings_where(value.is_null() & values.is_not_null(), values, col, severity="warning",
                                               message="value not in the picklist",
                                               hint="allowed: " + ", ".join(allowed[:10])))
        from crmclean.rules.standardizers._common import concat_findings

        result.findings = concat_findings(findings)
        return result


# ---------------------------------------------------------------- case


class GenericCaseOptions(RuleOptions):
    case: CaseName | None = Field(None, description="Case for the columns in `columns`/`roles`: upper, lower, title "
                                  "or sentence.")
    by_column: dict[str, CaseName] = Field(default_factory=dict, description="Case per column name or role.")


def apply_case(values: pl.Series, case: CaseName) -> pl.Series:
    if case == "upper":
        return values.str.to_uppercase()
    if case == "lower":
        return values.str.to_lowercase()
    if case == "title":
        return values.str.to_titlecase()
    low = values.str.to_lowercase()
    return low.str.slice(0, 1).str.to_uppercase() + low.str.slice(1)


@register
class GenericCase(ColumnRule):
    """Force a letter case on columns you name (upper, lower, title, sentence).

    What it does: rewrites every value of the named columns (names or roles) in the
    case you choose.

    Why: codes such as region or currency ("rub" → "RUB"), or statuses that must read
    the same in every record.
    """

    code = "CASE001"
    name = "generic.case"
    summary = "Force upper/lower/title/sentence case on the columns you name."
    roles = ()
    order = 220
    Options = GenericCaseOptions
    examples = (
        Example("rub", "RUB", "case: upper"),
        Example("HOT LEAD", "Hot lead", "case: sentence"),
    )

    def apply(self, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, GenericCaseOptions)
        plan: dict[str, CaseName] = {}
        if opts.case:
            for col in self.target_columns(ctx):
                plan[col] = opts.case
        for key, case in opts.by_column.items():
            for col in _columns(ctx, [key]):
                plan[col] = case
        return StdResult(edits=[ColumnEdit(col, apply_case(ctx.frame.get_column(col), case).alias(col),
                                           f"{case} case") for col, case in plan.items()])

