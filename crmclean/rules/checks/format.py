"""Format checks from ``validate.formats``: a whole-value regex, length limits, allowed characters."""

from __future__ import annotations

import re

from crmclean._lazy import polars as pl
from crmclean.config.validate import FormatSpec
from crmclean.errors import ConfigError
from crmclean.rules.base import Example, RuleResult, map_unique, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    resolve_columns,
)


def _config_error(ctx: CheckContext, key: str, message: str) -> ConfigError:
    settings = ctx.settings
    line, col = settings.mark(("validate", "formats", key)) if settings is not None else (None, None)
    return ConfigError(message, path=getattr(settings, "path", None), line=line, column=col)


def _columns(ctx: CheckContext, key: str) -> list[str]:
    columns = resolve_columns(ctx, key)
    if not columns and key not in ctx.frame.columns:
        from crmclean.roles import ROLES

        if key not in ROLES:
            raise _config_error(ctx, key, f"`validate.formats.{key}`: not a column of the source nor a role")
    return columns


def regex_mask(values: pl.Series, pattern: str) -> pl.Series:
    """True where the value fully matches ``pattern`` (Rust regex, else Python re once per unique value)."""
    anchored = f"^(?:{pattern})$"
    try:
        return values.str.contains(anchored)
    except Exception:  # lookarounds and backreferences: Python's re
        compiled = re.compile(anchored)
        return map_unique(values, lambda v: compiled.match(v) is not None, pl.Boolean)


def _specs(ctx: CheckContext) -> list[tuple[str, FormatSpec]]:
    return list(ctx.validate.formats.items())


@register
class RegexFormat(BaseCheck):
    """The value does not match the column's pattern.

    **What it does.** For each ``validate.formats.<column or role>.regex`` flags non-empty values
    that do not match the whole pattern.

    YAML::

        validate:
          formats:
            zip: {regex: "\\\\d{6}", message: "индекс — 6 цифр"}
            "Account Code": {regex: "[A-Z]{2}-\\\\d{4}"}
    """

    code = "FORMAT001"
    name = "format.regex"
    summary = "A value does not match the column's regular expression (validate.formats.<col>.regex)."
    severity = "error"
    invalidates = True
    examples = (
        Example("Индекс: '1010'  (regex \\d{6})", "flagged: does not match"),
        Example("Account Code: 'ab-12'  (regex [A-Z]{2}-\\d{4})", "flagged: does not match"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for key, spec in _specs(ctx):
            if not spec.regex:
                continue
            try:
                re.compile(spec.regex)
            except re.error as exc:
                raise _config_error(ctx, key, f"`validate.formats.{key}.regex` is not a valid regex: {exc}") from None
            for column in _columns(ctx, key):
                values = ctx.frame.get_column(column)
                bad = ~regex_mask(values.str.strip_chars(), spec.regex).fill_null(True) & ~empty_mask(ctx, values)
                parts.append(findings_where(
                    bad, column, values, spec.message or f"does not match the format `{spec.regex}`",
                    f"correct {column} to the agreed format", getattr(self.options, "severity", None) or spec.severity,
                ))
        return RuleResult(findings=concat_findings(parts))


@register
class LengthFormat(BaseCheck):
    """The value is shorter or longer than allowed (``validate.formats.<col>.min_length/max_length``).

    **Why.** Target CRMs truncate or reject long values on import (Salesforce: 80 characters for
    LastName, 40 for Phone); one-letter names are usually typos.
    """

    code = "FORMAT002"
    name = "format.length"
    summary = "A value is shorter than min_length or longer than max_length."
    severity = "error"
    invalidates = True
    examples = (Example("Фамилия: 'И' (min_length 2)", "flagged: too short"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for key, spec in _specs(ctx):
            if spec.min_length is None and spec.max_length is None:
                continue
            for column in _columns(ctx, key):
                values = ctx.frame.get_column(column)
                length = values.str.strip_chars().str.len_chars()
                short = length < spec.min_length if spec.min_length is not None else pl.Series([False] * len(values))
                long = length > spec.max_length if spec.max_length is not None else pl.Series([False] * len(values))
                bad = (short.fill_null(False) | long.fill_null(False)) & ~empty_mask(ctx, values)
                message = pl.Series([
                    f"{n} characters, more than {spec.max_length}" if lg else f"{n} characters, fewer than {spec.min_length}"
                    for n, lg in zip(length.fill_null(0).to_list(), long.fill_null(False).to_list(), strict=True)
                ]) if bad.any() else "length out of bounds"
                parts.append(findings_where(
                    bad, column, values, spec.message or message, "shorten or complete the value",
                    getattr(self.options, "severity", None) or spec.severity,
                ))
        return RuleResult(findings=concat_findings(parts))


@register
class AllowedCharacters(BaseCheck):
    """The value contains characters outside the allowed set (``validate.formats.<col>.allowed_chars``).

    ``allowed_chars`` is the body of a regex character class, e.g. ``0-9 +()-`` for phones or
    ``А-Яа-яЁё -`` for Russian names.
    """

    code = "FORMAT003"
    name = "format.characters"
    summary = "A value contains characters outside allowed_chars."
    severity = "error"
    invalidates = True
    examples = (Example("Фамилия: 'Ivanov' (allowed_chars А-Яа-яЁё -)", "flagged: Latin letters"),)

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        parts = []
        for key, spec in _specs(ctx):
            if not spec.allowed_chars:
                continue
            klass = f"[{spec.allowed_chars}]"
            try:
                re.compile(klass)
            except re.error as exc:
                raise _config_error(ctx, key, f"`validate.formats.{key}.allowed_chars` is not a valid class: {exc}") \
                    from None
            for column in _columns(ctx, key):
                values = ctx.frame.get_column(column)
                ok = regex_mask(values.str.strip_chars(), f"{klass}*").fill_null(True)
                bad = ~ok & ~empty_mask(ctx, values)
                parts.append(findings_where(
                    bad, column, values, spec.message or f"contains characters outside [{spec.allowed_chars}]",
                    "remove or replace the other characters", getattr(self.options, "severity", None) or spec.severity,
                ))
        return RuleResult(findings=concat_findings(parts))
