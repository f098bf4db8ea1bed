"""Person-name rules (NAME001-004): thin declarations over :mod:`crmclean.fields.names`."""

from __future__ import annotations

from pydantic import Field

from crmclean._lazy import polars as pl
from crmclean.fields.names import (
    NAME_ROLES,
    SALUTATION_RE,
    SUFFIX_RE,
    NameOrder,
    given_names,
    needs_case,
    proper_case_token,
    split_full_names,
)
from crmclean.rules.base import ColumnEdit, Example, RuleContext, RuleOptions, register
from crmclean.rules.standardizers._common import (
    ColumnRule,
    StdResult,
    derived_name,
    fix_where,
    map_unique_fast,
)


@register
class NameCase(ColumnRule):
    """Proper-case person names typed in ALL CAPS or all lower case, with the usual exceptions.

    What it does: re-cases each word that is entirely upper or lower case: "ИВАНОВ" →
    "Иванов", "mcdonald" → "McDonald", "o'neil" → "O'Neil", "jean-luc" → "Jean-Luc",
    "римский-корсаков" → "Римский-Корсаков"; particles stay lower case inside a name
    ("van der Berg", "de la Cruz", "Гусейн оглы"); initials become capitals ("и." → "И.").
    Words already in mixed case (DeVito, McDonald) are left as typed.

    Why: "ИВАНОВ ИВАН" in a greeting looks like shouting; "иванов" and "Иванов" must be
    one person in lookups and duplicate checks.
    """

    code = "NAME001"
    name = "name.case"
    summary = "Proper-case names (McDonald, O'Neil, van der Berg, de la Cruz, Jean-Luc, Римский-Корсаков)."
    roles = NAME_ROLES
    order = 32
    reads_roles = ()
    examples = (
        Example("ИВАНОВ ИВАН ИВАНОВИЧ", "Иванов Иван Иванович"),
        Example("петрова-водкина анна", "Петрова-Водкина Анна"),
        Example("JOHN MCDONALD", "John McDonald"),
        Example("o'neil", "O'Neil"),
        Example("JAN VAN DER BERG", "Jan van der Berg"),
        Example("maria de la cruz", "Maria de la Cruz"),
        Example("jean-luc picard", "Jean-Luc Picard"),
        Example("иванов и.и.", "Иванов И.И."),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        need = needs_case(values)
        if not need.any():
            return StdResult()
        sub = values.filter(need)
        single = ~sub.str.contains(" ")
        after_single = map_unique_fast(sub.filter(single), _proper_alone, pl.String)
        multi = sub.filter(~single)
        tokens = multi.str.split(" ")
        uniq = tokens.explode().drop_nulls().unique()
        mapped = pl.Series([proper_case_token(t) for t in uniq.to_list()], dtype=pl.String)
        fixed_multi = (
            pl.DataFrame({"t": tokens})
            .select(pl.col("t").list.eval(pl.element().replace_strict(uniq, mapped, default=pl.element())).list.join(" "))
            .to_series()
        )
        fixed = sub.clone()
        if len(after_single):
            fixed = fixed.scatter(single.arg_true(), after_single)
        if len(fixed_multi):
            fixed = fixed.scatter((~single).arg_true(), fixed_multi)
        after = values.clone().scatter(need.arg_true(), fixed).alias(column)
        return StdResult(edits=[ColumnEdit(column, after, "name case fixed")])


def _proper_alone(value: str) -> str:
    return proper_case_token(value, alone=True)


@register
class NameSalutation(ColumnRule):
    """Move salutations and suffixes (Mr, Dr, г-н, Jr, PhD, к.т.н.) out of name fields.

    What it does: a salutation at the start of a name (Mr, Mrs, Ms, Dr, Prof, г-н, г-жа,
    господин, д-р, проф.) moves to the salutation column when the table has an empty one,
    else to ``<column>__salutation``; a suffix at the end (Jr, Sr, III, PhD, MBA, к.т.н.)
    moves to ``<column>__suffix``. Nothing is deleted.

    Why: "Dr. Ivan Petrov" in a first/last-name split gives the first name "Dr."; mail
    merges say "Dear Dr. Dr. Petrov".
    """

    code = "NAME002"
    name = "name.salutation"
    summary = "Move salutations and suffixes (Mr, Dr, г-н, Jr, PhD) out of name fields into their own field."
    roles = NAME_ROLES
    order = 30
    reads_roles = ("salutation",)
    examples = (
        Example("Dr. John Smith", "John Smith", "Salutation = Dr."),
        Example("г-н Иванов Иван", "Иванов Иван", "Salutation = г-н"),
        Example("John Smith Jr.", "John Smith", "Name__suffix = Jr."),
        Example("Петров Пётр, к.т.н.", "Петров Пётр", "Name__suffix = к.т.н."),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        sal = values.str.extract(f"({SALUTATION_RE})", 1)
        rest = values.str.replace(SALUTATION_RE, "")
        sal = sal.zip_with(rest.str.strip_chars().str.len_chars().fill_null(0) > 0, pl.Series([None] * len(values),
                                                                                             dtype=pl.String))
        cleaned = pl.Series(values).zip_with(sal.is_null(), rest)
        suf = cleaned.str.extract(f"({SUFFIX_RE})", 1)
        before_suffix = cleaned.str.replace(SUFFIX_RE, "")
        has_suf = suf.is_not_null() & (before_suffix.str.strip_chars(" ,").str.len_chars().fill_null(0) > 0)
        cleaned = cleaned.zip_with(~has_suf, before_suffix.str.strip_chars(" ,"))
        sal = sal.str.strip_chars()
        suf = suf.zip_with(has_suf, pl.repeat(None, len(values), dtype=pl.String, eager=True).alias("")).str.strip_chars(" ,")
        if not (sal.is_not_null().any() or suf.is_not_null().any()):
            return StdResult()
        after = cleaned.str.strip_chars().alias(column)
        edits = [ColumnEdit(column, after, "salutation/suffix moved out of the name")]
        derived: dict[str, pl.Series] = {}
        carries: set[str] = set()
        sal_col = ctx.first_column("salutation")
        if sal_col is not None and sal_col in ctx.frame.columns:
            current = ctx.frame.get_column(sal_col)
            fill = current.is_null() & sal.is_not_null()
            if fill.any():
                edits.append(ColumnEdit(sal_col, current.zip_with(~fill, sal), f"salutation taken from {column}"))
            rest_sal = sal.zip_with(~fill, pl.repeat(None, len(values), dtype=pl.String, eager=True).alias(""))
        else:
            rest_sal = sal
        if rest_sal.is_not_null().any():
            derived[derived_name(column, "salutation")] = rest_sal
            carries.add(derived_name(column, "salutation"))
        if suf.is_not_null().any():
            derived[derived_name(column, "suffix")] = suf
            carries.add(derived_name(column, "suffix"))
        return StdResult(edits=edits, derived=derived, carries=carries)


class NameSplitOptions(RuleOptions):
    order: NameOrder = Field("auto", description="Order of two words when nothing tells: auto (Cyrillic text → "
                             "last first; Latin → first last), last_first or first_last.")
    fill_parts: bool = Field(True, description="Fill empty first/middle/last-name columns of the same record "
                             "from the full name (fix when the order is certain, suggest when it was a guess).")


@register
class NameSplit(ColumnRule):
    """Split a full-name column into first, middle and last name (Russian ФИО and initials included).

    What it does: recognizes "Фамилия Имя Отчество" by the patronymic ending (-ович,
    -евич, -ична, -овна, -евна, -инична), initials ("Иванов И.И.", "И. И. Иванов"),
    "Last, First", particles (van der, de la) and Turkic "оглы/кызы"; a known given name
    or a surname ending settles two-word names. The parts go to empty first/middle/last
    columns of the same record (when the table has them) and to the match profile; as
    columns ``<column>__first`` / ``__middle`` / ``__last`` with ``derived: all``.
    Words are only moved, never invented or dropped.

    Why: one "ФИО" column cannot be sorted by surname, greeted by first name, or matched
    against a CRM that stores names in parts.
    """

    code = "NAME003"
    name = "name.split"
    summary = "Split full names into first/middle/last: ФИО order by patronymic, initials, 'Last, First'."
    roles = ("full_name",)
    order = 34
    reads_roles = ("first_name", "middle_name", "last_name")
    Options = NameSplitOptions
    examples = (
        Example("Иванов Иван Иванович", "last=Иванов first=Иван middle=Иванович"),
        Example("Иван Иванович Иванов", "first=Иван middle=Иванович last=Иванов"),
        Example("Иванов И.И.", "last=Иванов first=И. middle=И."),
        Example("И. И. Иванов", "first=И. middle=И. last=Иванов"),
        Example("Smith, John", "first=John last=Smith"),
        Example("Jan van der Berg", "first=Jan last=van der Berg"),
    )

    def transform_column(self, values: pl.Series, column: str, ctx: RuleContext) -> StdResult:
        opts = self.options
        assert isinstance(opts, NameSplitOptions)
        # auto: Cyrillic values (a ФИО column) read last name first; a Latin name in the same column keeps
        # First Last and is never swapped because of the column's name
        order = opts.order
        parts = split_full_names(values, order)
        derived = {derived_name(column, p): parts.get_column(p) for p in ("first", "middle", "last")}
        edits: list[ColumnEdit] = []
        if opts.fill_parts:
            sure = parts.get_column("sure").fill_null(False)
            # a part the record already holds in its own column confirms the order ("Smith John", Фамилия = Smith);
            # one it holds otherwise says the split is not this record's: "Ким Ен Чер" with Фамилия Ким and Имя
            # "Ен Чер" is no first name Ким with patronymic Ен, so nothing is filled from it
            contradicted = pl.repeat(False, len(values), eager=True)
            for part, role in (("first", "first_name"), ("middle", "middle_name"), ("last", "last_name")):
                col = ctx.first_column(role)
                if col is not None and col in ctx.frame.columns:
                    held, mine = _folded(ctx.frame.get_column(col)), _folded(parts.get_column(part))
                    if part != "middle":
                        sure = sure | (held.is_not_null() & (held == mine)).fill_null(False)
                    initial = mine.str.contains(r"^\w\.?$") & (held.str.slice(0, 1) == mine.str.slice(0, 1))
                    contradicted = contradicted | ((held != mine) & ~initial).fill_null(False)
            for part, role in (("first", "first_name"), ("middle", "middle_name"), ("last", "last_name")):
                target = ctx.first_column(role)
                if target is None or target not in ctx.frame.columns:
                    continue
                current = ctx.frame.get_column(target)
                new = parts.get_column(part)
                fill = current.is_null() & new.is_not_null() & ~contradicted
                if not fill.any():
                    continue
                after = current.zip_with(~fill, new)
                conf = fix_where(sure)
                edits.append(ColumnEdit(target, after, f"{part} name taken from {column}", conf))
        return StdResult(edits=edits, derived=derived)


def _folded(values: pl.Series) -> pl.Series:
    """A name part compared ignoring case, ё/е and the spaces around it (null when empty)."""
    return values.str.strip_chars().str.to_lowercase().str.replace_all("ё", "е", literal=True)


@register
class NameSwapped(ColumnRule):
    """Detect first and last name swapped between columns and propose the swap (as `suggest`).

    What it does: when the first-name column holds a word that is not a known given name
    (or looks like a surname: -ов, -ева, -ский …) and the last-name column holds a known
    given name, it proposes exchanging them. Known given names come from lists shipped
    with crmclean (Russian and English, both genders, common short forms).

    Why: imports and web forms often fill "Имя" with the surname; the greeting then says
    "Dear Ivanov" and duplicate checks miss the person.
    """

    code = "NAME004"
    name = "name.swapped"
    summary = "Detect first/last name swapped between columns (by a given-name list) and propose the swap."
    roles = ("first_name", "last_name")
    suggests_only = True
    order = 36
    examples = (
        Example("first=Иванов last=Иван", "first=Иван last=Иванов", "suggest"),
        Example("first=Smith last=John", "first=John last=Smith", "suggest"),
    )

    def footprint(self, ctx: RuleContext) -> set[str] | None:
        return {c for c in (ctx.first_column("first_name"), ctx.first_column("last_name")) if c is not None}

    def apply(self, ctx: RuleContext) -> StdResult:
        first_col = ctx.first_column("first_name")
        last_col = ctx.first_column("last_name")
        if first_col is None or last_col is None:
            return StdResult()
        first = ctx.frame.get_column(first_col)
        last = ctx.frame.get_column(last_col)
        names = pl.Series(sorted(given_names()), dtype=pl.String).implode()
        frame = pl.DataFrame({"f": first, "l": last}).with_columns(
            pl.col(c).str.to_lowercase().str.replace_all("ё", "е", literal=True).alias(c + "k") for c in ("f", "l")
        )
        swapped = frame.select(
            (
                pl.col("lk").is_in(names)
                & ~pl.col("fk").is_in(names)
                & (pl.col("fk").str.len_chars() >= 2)
                & ~pl.col("fk").str.contains(r"\.|\s")
            ).fill_null(False)
        ).to_series()
        if not swapped.any():
            return StdResult()
        new_first = first.zip_with(~swapped, last)
        new_last = last.zip_with(~swapped, first)
        reason = "first and last name look swapped (the last name is a known given name)"
        return StdResult(edits=[ColumnEdit(first_col, new_first, reason, "suggest"),
                                ColumnEdit(last_col, new_last, reason, "suggest")])
