"""Uniqueness check: a column whose non-empty values must not repeat across records."""

from __future__ import annotations

from crmclean._lazy import polars as pl
from crmclean.fields.taxid import clean_tax_ids
from crmclean.rules.base import Example, RuleResult, register
from crmclean.rules.checks._common import (
    BaseCheck,
    CheckContext,
    concat_findings,
    empty_mask,
    findings_where,
    norm_text,
    resolve_columns,
    severity_of,
)

DEFAULT_UNIQUE: dict[str, list[str]] = {"companies": ["inn"], "contacts": [], "leads": [], "deals": [], "activities": []}


def own_id_column(ctx: CheckContext) -> str | None:
    """The column holding the record's own id (Id, Record ID, Код …): the table's id column, or, when the table fell
    back to row numbers because that column repeats or has blanks, the column it would have taken
    (:func:`crmclean.table.detect_id_column` without the uniqueness test). Not a reference such as a report's
    Contact ID beside its Opportunity ID, which may repeat."""
    from crmclean.table import detect_id_column

    if not ctx.id_column.startswith("__"):
        return ctx.id_column
    headers = [c for c in ctx.frame.columns if not c.startswith("__")]
    return detect_id_column(headers)


def _key(ctx: CheckContext, column: str, values: pl.Series) -> pl.Series:
    """What a value means, for comparing: a phone its number (E.164, and its extension: '8 916 123 45 67' repeats
    '+7 (916) 123-45-67', доб. 204 and доб. 205 are two lines), an email its address as EMAIL001 cleans it
    ('mailto:Ivanov@Romashka.ru'); else the text trimmed and case-folded. A value neither parser reads keeps its text.
    """
    text = norm_text(values)
    if column in ctx.columns_for("phone") + ctx.columns_for("mobile"):
        from crmclean.fields.phone import analyze_phones
        from crmclean.rules.checks.phone import row_regions

        info = analyze_phones(values, row_regions(ctx))
        number = pl.select(pl.concat_str([pl.lit(info.get_column("e164")),
                                          pl.lit(" x" + info.get_column("ext")).fill_null(""),
                                          pl.lit("; " + info.get_column("extra_e164")).fill_null("")])).to_series()
        return pl.select(pl.coalesce(pl.lit(number), pl.lit(text))).to_series()
    if column in ctx.columns_for("email") + ctx.columns_for("email2"):
        from crmclean.fields.email import analyze_emails

        address = analyze_emails(values, suggestions=False).get_column("email").str.to_lowercase()
        return pl.select(pl.coalesce(pl.lit(address), pl.lit(text))).to_series()
    return text


@register
class UniqueValue(BaseCheck):
    """A value that must be unique appears in more than one record.

    **What it does.** For each column or role in ``validate.unique`` (default: the record's own
    id column, and ``inn`` for companies) flags every record whose value (trimmed,
    case-insensitive) is shared with another record; the hint names up to three other record ids.

    **Why.** Two companies with one INN are the same counterparty entered twice; a unique
    external key that repeats breaks integrations. (Fuzzy duplicates are the dedupe step's job.)

    **Branches.** A legal entity's branches (обособленные подразделения) share its INN, each with
    its own KPP (НК РФ ст. 83-84): records of one INN whose KPPs are both filled and differ are
    two registrations, not a repeat. A record without KPP beside another of its INN is still
    flagged (it may be a copy of either).

    YAML::

        validate:
          unique: [inn, "External ID"]
    """

    code = "UNIQUE001"
    name = "unique.value"
    summary = "A value that must be unique (validate.unique) is shared by several records."
    severity = "error"
    invalidates = False
    kpi = "not_unique"
    examples = (
        Example("ИНН 7707083893 in records 17 and 245", "both flagged; hint: also in record 245 / 17"),
        Example("External ID 'SF-001' twice", "both flagged"),
    )

    def apply(self, ctx: CheckContext) -> RuleResult:  # type: ignore[override]
        specs = ctx.validate.unique
        if specs is None:
            # a record's own id names one record: the same id on two rows is one record twice (an import would
            # overwrite the first or fail); empty ids (new records) never repeat
            own = own_id_column(ctx)
            specs = [*([own] if own else []), *DEFAULT_UNIQUE.get(ctx.object_type, [])]
        parts = []
        ids = ctx.frame.get_column(ctx.id_column)
        kpp_column = ctx.first_column("kpp")
        for spec in specs:
            for column in resolve_columns(ctx, spec):
                values = ctx.frame.get_column(column)
                key = _key(ctx, column, values).set(empty_mask(ctx, values), None)
                kpp = pl.repeat(None, len(ids), dtype=pl.String, eager=True)
                if column in ctx.columns_for("inn"):
                    key = clean_tax_ids(values).set(key.is_null(), None)  # 'ИНН 7707 083 893' repeats 7707083893
                    if kpp_column is not None:
                        raw = ctx.frame.get_column(kpp_column)
                        kpp = clean_tax_ids(raw).set(empty_mask(ctx, raw), None)
                frame = pl.DataFrame({"key": key, "kpp": kpp, "id": ids, "row": pl.int_range(0, len(ids), eager=True)})
                groups = (
                    frame.filter(pl.col("key").is_not_null())
                    .group_by("key")
                    .agg(pl.col("id").head(4).alias("ids"), pl.len().alias("n"), pl.col("kpp").null_count().alias("blank"))
                    .filter(pl.col("n") > 1)
                )
                if groups.height == 0:
                    continue
                joined = frame.join(groups, on="key", how="left", maintain_order="left")
                # a repeat: another record of the value, unless both are registrations with their own KPP (a branch)
                same_kpp = pl.len().over("key", "kpp") > 1
                dup = joined.select(pl.col("n").is_not_null() & (pl.col("kpp").is_null() | same_kpp | (pl.col("blank") > 0))
                                    ).to_series()
                hint = joined.select(
                    pl.format(
                        "{} records share this value; also in: {}",
                        pl.col("n"),
                        pl.col("ids").list.set_difference(pl.concat_list(pl.col("id"))).list.head(3).list.join(", "),
                    )
                ).to_series()
                parts.append(findings_where(dup, column, values, f"{column} must be unique", hint, severity_of(self)))
        return RuleResult(findings=concat_findings(parts))
