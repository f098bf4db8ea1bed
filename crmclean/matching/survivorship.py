"""Survivorship: pick each cluster's master record and build its golden record, column by column, declaratively.

Master rules (applied in order, each breaking the previous one's ties; file order last):
``most_complete`` (most non-empty fields), ``oldest`` / ``newest`` (created date),
``most_recently_modified`` (modified date), ``source_priority`` (a column's values in a
given order), ``field_order`` (same, another column), ``first``.

Field rules: ``master`` (master's value, else the best-ranked non-empty one), ``master_only``,
``first_non_empty`` (oldest record first), ``most_recent``, ``most_frequent``, ``longest``,
``max``, ``min``, ``concat_unique`` (notes, tags), ``keep_all`` (the master's value, and
every distinct value in ``<column>__all``: phones, emails). All work column-wise in polars.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmclean.config.dedupe import SurvivorshipSettings
from crmclean.fields.dates import parse_dates


def date_keys(frame: pl.DataFrame, roles: dict[str, list[str]], region: str | None = None) -> pl.DataFrame:
    """``_created`` and ``_updated`` datetimes of each row (columns present only when the roles are).

    Read by :func:`crmclean.fields.dates.parse_dates`, the reader the date and staleness checks use,
    over whole columns so that a column's unambiguous values decide its day/month order everywhere.
    """
    created = roles.get("created_at", [])
    updated = roles.get("updated_at", [])
    out: dict[str, pl.Series] = {}
    if created and created[0] in frame.columns:
        out["_created"] = parse_dates(frame.get_column(created[0]), region=region)
    modified = (updated or created)[:1]
    if modified and modified[0] in frame.columns:
        out["_updated"] = parse_dates(frame.get_column(modified[0]), region=region)
    return pl.DataFrame(out)  # no columns when the table has neither role


@dataclass
class GoldenRecords:
    """One row per multi-record cluster: ids, golden values, and where each value came from."""

    frame: pl.DataFrame  # cluster_id, master_id, loser_ids, <data columns...>, <col>__all, reasons
    masters: pl.DataFrame  # record_id, cluster_id, rank (0 = master) of every record, in the frame's row order


def rank_members(
    frame: pl.DataFrame,
    cluster_of: pl.Series,
    *,
    id_column: str,
    data_columns: Sequence[str],
    roles: dict[str, list[str]],
    settings: SurvivorshipSettings,
    dates: pl.DataFrame | None = None,
    region: str | None = None,
) -> pl.DataFrame:
    """Rank records within each cluster by the master rules: record_id, cluster_id, rank, _pos.

    ``dates`` is :func:`date_keys` of ``frame`` when the caller read it from a larger table
    (computed here otherwise); ``region`` decides ambiguous day/month order as in the checks.
    """
    if dates is None:
        dates = date_keys(frame, roles, region)
    work = frame.select(pl.col(id_column).alias("record_id"), *data_columns).with_columns(
        cluster_of.alias("cluster_id"), pl.int_range(0, frame.height).alias("_pos"))
    sort_cols: list[str] = ["cluster_id"]
    descending: list[bool] = [False]
    keys: list[pl.Expr] = []
    for i, rule in enumerate(settings.master):
        name = f"_k{i}"
        expr: pl.Expr | None = None
        desc = False
        if rule == "most_complete":
            expr = pl.sum_horizontal([
                (pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "")).cast(pl.Int32) for c in data_columns
            ])
            desc = True
        elif rule in ("oldest", "newest") and "_created" in dates.columns:
            expr = pl.lit(dates.get_column("_created"))
            desc = rule == "newest"
        elif rule == "most_recently_modified" and "_updated" in dates.columns:
            expr = pl.lit(dates.get_column("_updated"))
            desc = True
        elif rule == "source_priority" and settings.source_column and settings.source_column in frame.columns:
            order = {v.casefold(): j for j, v in enumerate(settings.source_priority)}
            expr = pl.col(settings.source_column).str.to_lowercase().replace_strict(
                order, default=len(order), return_dtype=pl.Int32)
        elif rule == "field_order" and settings.order_column and settings.order_column in frame.columns:
            order = {v.casefold(): j for j, v in enumerate(settings.order_values)}
            expr = pl.col(settings.order_column).str.to_lowercase().replace_strict(
                order, default=len(order), return_dtype=pl.Int32)
        if expr is None:
            continue
        keys.append(expr.alias(name))
        sort_cols.append(name)
        descending.append(desc)
    if keys:
        work = work.with_columns(keys)
    sort_cols.append("_pos")
    descending.append(False)
    work = work.sort(sort_cols, descending=descending, nulls_last=True)
    return work.with_columns(pl.int_range(0, pl.len()).over("cluster_id").alias("rank")).select(
        "record_id", "cluster_id", "rank", "_pos")


def golden_records(
    frame: pl.DataFrame,
    cluster_of: pl.Series,
    *,
    id_column: str,
    data_columns: Sequence[str],
    roles: dict[str, list[str]],
    settings: SurvivorshipSettings,
    region: str | None = None,
) -> GoldenRecords:
    """Master and golden record of every cluster with two or more records.

    ``region`` (the rules file's default region) decides ambiguous day/month order of the
    created/modified dates, as it does in the date checks.
    """
    # only records of multi-record clusters need ranking and merging (most records are singles)
    positions = cluster_of.is_duplicated().arg_true()  # (a cluster id held twice or more)
    # filler typed into required fields ("n/a", "нет", "noemail@…") must never win a golden value
    sub = _blank_placeholders(frame[positions], roles, data_columns, id_column)
    sub_clusters = cluster_of.gather(positions)
    # dates are read over the whole table (as the checks read them), then narrowed to the clusters
    dates = date_keys(frame, roles, region)
    dates = dates[positions] if dates.width else dates
    ranked_sub = rank_members(sub, sub_clusters, id_column=id_column, data_columns=data_columns, roles=roles,
                              settings=settings, dates=dates)
    # every record's rank (0: a single's), in the frame's order: the clusters' ranks put at their rows' positions
    rank = pl.repeat(0, frame.height, dtype=pl.Int64, eager=True).scatter(
        positions.gather(ranked_sub.get_column("_pos")), ranked_sub.get_column("rank"))
    ranked = pl.DataFrame({"record_id": frame.get_column(id_column), "cluster_id": cluster_of, "rank": rank})
    members = ranked_sub.sort("cluster_id", "rank")
    values = sub.select(*[c for c in data_columns if c != id_column]).with_columns(
        pl.int_range(0, sub.height).alias("_pos"))
    values = pl.concat([values, dates], how="horizontal") if dates.width else values
    rows = members.join(values, on="_pos", how="left").sort("cluster_id", "rank")
    # every column's rule is one aggregation of a single group_by (polars runs them side by side); the safe rules
    # aggregate their column-wise part there and settle the clusters it leaves open one by one afterwards
    # (a text join inside the group_by runs per cluster: the parts are aggregated as a list, joined afterwards)
    aggs: list[pl.Expr] = [pl.col("record_id").first().alias("master_id"),
                           pl.col("record_id").slice(1).alias("loser_ids")]
    joins: list[pl.Expr] = [pl.col("loser_ids").list.join("; ")]
    shown: list[str] = ["cluster_id", "master_id", "loser_ids"]
    safe_columns: list[tuple[str, str]] = []
    flags: list[pl.Expr] = []
    reasons: list[pl.Expr] = []
    role_of = {c: role for role, cols in roles.items() for c in cols}
    for col in data_columns:
        if col == id_column:
            continue
        rule: str = settings.fields.get(col, settings.default)
        safe = _safe_rule(col, role_of.get(col), settings)
        if safe is not None:
            rule = safe
            safe_columns.append((col, rule))
            row_flags, safe_aggs, safe_joins = _uniform_aggs(rows, col, rule)
            flags.extend(row_flags)
            aggs.extend(safe_aggs)
            joins.extend(safe_joins)
        else:
            # whether a cell is non-empty is a row flag the aggregations read, not a test run again in each
            flags.append(_non_empty(col).is_not_null().alias(f"__has_{col}"))
            val, src = _apply_rule(rows, col, rule, pl.col(f"__has_{col}"))
            aggs.extend([val.alias(col), src.alias(f"_src_{col}")])
        shown.append(col)
        if rule == "keep_all":
            aggs.append(pl.col(col).filter(pl.col(f"__has_{col}")).unique(maintain_order=True).str.join("; ")
                        .alias(f"{col}__all"))
            shown.append(f"{col}__all")
        reasons.append(pl.struct(pl.lit(rule).alias("rule"), pl.col(f"_src_{col}").alias("from")).alias(col))
    per = _flagged(rows, flags).group_by("cluster_id", maintain_order=True).agg(aggs).with_columns(joins)
    golden = _settle_safe(rows, per, safe_columns)
    if reasons:
        golden = golden.with_columns(pl.struct(reasons).struct.json_encode().alias("reasons"))
        shown.append("reasons")
    golden = golden.select(shown)
    return GoldenRecords(golden, ranked.select("record_id", "cluster_id", "rank"))


def _blank_placeholders(frame: pl.DataFrame, roles: dict[str, list[str]], data_columns: Sequence[str],
                        id_column: str) -> pl.DataFrame:
    from crmclean.fields.placeholder import placeholder_mask
    from crmclean.roles import CONSENT_ROLES

    role_of = {col: role for role, cols in roles.items() for col in cols}
    blanked = []
    for col in data_columns:
        if col == id_column or col not in frame.columns or frame.height == 0:
            continue
        if role_of.get(col) in CONSENT_ROLES:  # «нет» in a consent column is a refusal, not a filler
            continue
        mask = placeholder_mask(frame.get_column(col), role_of.get(col))
        if mask.any():
            blanked.append(pl.when(mask).then(None).otherwise(pl.col(col)).alias(col))
    return frame.with_columns(blanked) if blanked else frame


def _non_empty(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.when(c.str.strip_chars().str.len_chars() > 0).then(c).otherwise(None)


def _apply_rule(rows: pl.DataFrame, col: str, rule: str, has: pl.Expr | None = None) -> tuple[pl.Expr, pl.Expr]:
    """(value, source record id) aggregations for one column under one field rule (rows sorted by rank); ``has``:
    the cell is not empty (a flag column; tested here when not given)."""
    v = _non_empty(col)
    has = v.is_not_null() if has is None else has
    rid = pl.col("record_id")
    if rule == "master_only":
        return pl.col(col).first(), rid.first()
    if rule in ("master", "keep_all"):
        return pl.col(col).filter(has).first(), rid.filter(has).first()  # (a non-empty cell is itself)
    if rule == "first_non_empty" and "_created" in rows.columns:
        order = pl.col("_created").filter(has)
        return v.filter(has).sort_by(order, nulls_last=True).first(), rid.filter(has).sort_by(
            order, nulls_last=True).first()
    if rule == "first_non_empty":
        return v.filter(has).first(), rid.filter(has).first()
    if rule == "most_recent" and "_updated" in rows.columns:
        order = pl.col("_updated").filter(has)
        return (v.filter(has).sort_by(order, descending=True, nulls_last=True).first(),
                rid.filter(has).sort_by(order, descending=True, nulls_last=True).first())
    if rule == "most_recent":
        return v.filter(has).first(), rid.filter(has).first()
    if rule == "most_frequent":
        freq = pl.len().over(["cluster_id", col])
        key = pl.when(has).then(freq).otherwise(0)
        return (v.sort_by(key, descending=True, maintain_order=True).first(),
                rid.sort_by(key, descending=True, maintain_order=True).first())
    if rule == "longest":
        key = v.str.len_chars().fill_null(-1)
        return (v.sort_by(key, descending=True, maintain_order=True).first(),
                rid.sort_by(key, descending=True, maintain_order=True).first())
    if rule in ("max", "min"):
        num = v.str.replace_all(r"[\s\u00a0]", "").str.replace(",", ".").cast(pl.Float64, strict=False)
        desc = rule == "max"
        key = pl.when(num.is_not_null()).then(num).otherwise(None)
        # numbers compare as numbers; text falls back to text order
        value = pl.when(num.is_not_null().any()).then(
            v.sort_by(key, descending=desc, nulls_last=True).first()
        ).otherwise(v.filter(has).sort(descending=desc).first())
        source = pl.when(num.is_not_null().any()).then(
            rid.sort_by(key, descending=desc, nulls_last=True).first()
        ).otherwise(rid.filter(has).sort_by(v.filter(has), descending=desc, nulls_last=True).first())
        return value, source
    if rule == "concat_unique":
        return v.drop_nulls().unique(maintain_order=True).str.join("; "), rid.filter(has).str.join("; ")
    return v.filter(has).first(), rid.filter(has).first()


# ---------------------------------------------------------------- safe by default (issue 11)

SAFE_RULES = ("most_restrictive", "fullest", "all_values")
_YES = frozenset({"true", "1", "yes", "y", "да", "д", "x", "х", "✓", "✔", "+", "on", "истина", "opted out",
                  "unsubscribed", "отписан", "отказ", "не звонить"})
_NO = frozenset({"false", "0", "no", "n", "нет", "н", "-", "off", "ложь", "отказ", "отозвано", "отозвано согласие",
                 "не согласен", "revoked", "withdrawn"})
_MULTI_ROLES = frozenset({"phone", "mobile", "email", "email2"})
_NAME_ROLES = frozenset({"full_name", "first_name", "middle_name", "last_name", "company"})


def _safe_rule(col: str, role: str | None, settings: SurvivorshipSettings) -> str | None:
    """The safe default for a column the rules file does not configure: consent/opt-out keep the most
    restrictive value, phones/e-mails keep every distinct value, names take a fuller spelling of themselves."""
    from crmclean.roles import CONSENT_ROLES, OPT_OUT_ROLES

    if role in OPT_OUT_ROLES or role in CONSENT_ROLES:
        return "most_restrictive:" + ("opt_out" if role in OPT_OUT_ROLES else "consent")  # never overridden
    if col in settings.fields or settings.default != "master":
        return None
    if role in _MULTI_ROLES:
        return "all_values"
    if role in _NAME_ROLES:
        return "fullest"
    return None


def is_restrictive(value: str | None, kind: str) -> bool:
    """An opt-out set (true, 1, да, x …) or a consent refused (нет, false, 0, отозвано …)."""
    if value is None:
        return False
    text = value.strip().casefold()
    return text in _YES if kind == "opt_out" else text in _NO and text != "-"


_NAME_SPLIT = re.compile(r"[\s.]+")


@functools.lru_cache(maxsize=1 << 16)
def _name_words(text: str) -> tuple[str, ...]:
    """The casefolded words of a name (a cluster's first value is compared with each later one: split once)."""
    return tuple(t for t in _NAME_SPLIT.split(text.casefold()) if t)


def _abbreviates(short: str, full: str) -> bool:
    """«Жуков А.В.» abbreviates «Жуков Алексей Викторович»; «+7495123» a prefix of the whole number."""
    a = list(_name_words(short))
    b = _name_words(full)
    if not a or len(b) < len(a) or a[0][0] != b[0][0] or short.casefold() == full.casefold():
        return False  # (every word of the short form begins its word of the full one: the first letters agree)
    if len(a) == 1 and len(b) > 1 and len(a[0]) > 1 and a[0] == b[0]:
        return False  # a bare surname is not an abbreviation of a full name here: keep the master's
    # initials glued together («А.В.» → «ав») spread over the remaining words
    if len(a) < len(b) and len(a[-1]) == len(b) - len(a) + 1 and all(len(x) == 1 for x in a[-1]):
        a = [*a[:-1], *a[-1]]
    if len(a) != len(b):
        return False
    return all(y.startswith(x) for x, y in zip(a, b, strict=True))


def _safe_value(ids: list[str], cells: list[Any], rule: str) -> tuple[str | None, str | None]:
    """(value, source record ids) of one cluster under a safe-default rule: the reference the column-wise path
    (``_uniform_clusters``) must agree with."""
    from crmclean.model.multivalue import cell_separator, join_cell, split_cell

    vals = [v if v is not None and str(v).strip() else None for v in cells]
    filled = [(i, v) for i, v in zip(ids, vals, strict=True) if v is not None]
    value: str | None = filled[0][1] if filled else None
    source: str | None = filled[0][0] if filled else None
    if rule.startswith("most_restrictive"):
        kind = rule.split(":", 1)[1]
        hit = next(((i, v) for i, v in filled if is_restrictive(v, kind)), None)
        if hit is not None:
            source, value = hit
    elif rule == "all_values" and filled:
        parts: list[str] = []
        for _, v in filled:
            parts.extend(split_cell(v))
        value = join_cell(parts, cell_separator(filled[0][1]))
        extra = [i for i, v in filled[1:] if any(p not in split_cell(filled[0][1]) for p in split_cell(v))]
        source = "; ".join([filled[0][0], *extra])
    elif rule == "fullest" and filled:
        for i, v in filled[1:]:
            if value is not None and v != value and _abbreviates(value, v):  # (a value never abbreviates itself)
                source, value = i, v
    return value, source


def _safe_part(rows: pl.DataFrame, col: str, rule: str) -> pl.DataFrame:
    """cluster_id, <col>, _src_<col> under a safe-default rule: column-wise where the cells are plain
    (:func:`_uniform_aggs`), one cluster at a time by :func:`_safe_value` elsewhere."""
    flags, aggs, joins = _uniform_aggs(rows, col, rule)
    per = _flagged(rows, flags).group_by("cluster_id", maintain_order=True).agg(aggs).with_columns(joins)
    return _settle_safe(rows, per, [(col, rule)]).select("cluster_id", col, f"_src_{col}")


def _settle_safe(rows: pl.DataFrame, per: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> pl.DataFrame:
    """``per`` (one row per cluster of ``rows``, in their order) with <col> and _src_<col> of each safe column:
    the column-wise value where :func:`_uniform_aggs` decided the cluster, :func:`_safe_value` of the cluster's
    cells where it did not (clusters are few; the loop reads plain lists, not a frame slice per cluster)."""
    for col, rule in columns:
        easy, value, source = f"__easy_{col}", f"__value_{col}", f"__source_{col}"
        if easy in per.columns:
            slow = per.get_column(easy).fill_null(False).not_()
            values = per.get_column(value).cast(pl.String)
            sources = per.get_column(source).cast(pl.String)
        else:  # not text: every cluster by the per-cluster rule
            slow = pl.repeat(True, per.height, dtype=pl.Boolean, eager=True)
            values = sources = pl.repeat(None, per.height, dtype=pl.String, eager=True)
        if rule == "fullest" and f"__simple_{col}" in per.columns:
            # clusters of simple names whose spellings differ: the fold, column-wise
            fold = (slow & per.get_column(f"__simple_{col}").fill_null(False)).arg_true()
            if len(fold):
                folded_val, folded_src = _fullest_fold(rows, per.get_column("cluster_id").gather(fold), col)
                values = values.scatter(fold, folded_val)
                sources = sources.scatter(fold, folded_src)
                slow = slow.scatter(fold, False)
        idx = slow.arg_true()
        if len(idx):
            # the open clusters in the same order (a filter keeps the rows' order, so the first appearances)
            wanted = per.get_column("cluster_id").gather(idx)
            cells = rows.filter(pl.col("cluster_id").is_in(wanted.implode())).group_by(
                "cluster_id", maintain_order=True).agg(pl.col("record_id"), pl.col(col))
            out_val: list[str | None] = []
            out_src: list[str | None] = []
            for rids, cell_list in zip(cells.get_column("record_id").to_list(), cells.get_column(col).to_list(),
                                       strict=True):
                v, src = _safe_value([str(x) for x in rids], cell_list, rule)
                out_val.append(v)
                out_src.append(src)
            values = values.scatter(idx, pl.Series(out_val, dtype=pl.String))
            sources = sources.scatter(idx, pl.Series(out_src, dtype=pl.String))
        per = per.drop([c for c in (easy, value, source, f"__simple_{col}") if c in per.columns]).with_columns(
            values.alias(col), sources.alias(f"_src_{col}"))
    return per


_ASCII_BLANKS = " \t\n\r\x0b\x0c"


def _flagged(rows: pl.DataFrame, flags: Sequence[pl.Expr]) -> pl.DataFrame:
    """``rows`` with :func:`_uniform_aggs`' flags: the ``__filled_`` ones first, then those that read them."""
    first = [x for x in flags if x.meta.output_name().startswith("__filled_")]
    rest = [x for x in flags if not x.meta.output_name().startswith("__filled_")]
    return rows.with_columns(first).with_columns(rest) if flags else rows


def _uniform_aggs(rows: pl.DataFrame, col: str, rule: str) -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr]]:
    """A safe rule's column-wise part: (per-row flags to add to ``rows``, aggregations per cluster over them, and
    the joins of the aggregated lists, applied to the group_by's result).

    The aggregations give ``__easy_<col>`` where the cluster's cells are plain, with the rule's value
    ``__value_<col>`` and source ``__source_<col>``; there are none where the column is not text.
    Plain: every filled cell is one value without surrounding blanks (and, for ``all_values``, without a
    separator, so it is its only part). Then ``all_values`` keeps the distinct cells in order joined with the
    default separator, from the first record and each later one bringing another value; the other rules keep the
    first filled cell where the filled cells all hold one value (one value is as restrictive and as full as
    itself). The flags are computed row-wise (a filter by a computed predicate inside a group costs per group).
    """
    if rows.schema[col] != pl.String:
        return [], [], []
    from crmclean.model.multivalue import BLANK_EDGE_PATTERN, DEFAULT_SEPARATOR, SEPARATOR_PATTERN

    c = pl.col(col)
    # not plain: a blank (Python's or Rust's idea) at either end, or a \x1c-\x1f anywhere; for all_values also a
    # separator (such a cell is split and rejoined, not copied): one regex scan per cell
    plain = ~c.str.contains(BLANK_EDGE_PATTERN + ("|" + SEPARATOR_PATTERN if rule == "all_values" else ""))
    # a filled cell (not blank) that is not plain makes its cluster slow; a blank cell is skipped by every rule
    f, odd = f"__filled_{col}", f"__odd_{col}"
    # the filled flag is a column the other flags read (:func:`_flagged` adds it first), not an expression each
    # of them evaluates again
    filled = pl.col(f)
    flags = [(c.is_not_null() & (c.str.strip_chars(_ASCII_BLANKS) != "")).alias(f),
             (filled & ~plain.fill_null(False)).alias(odd)]
    rid = pl.col("record_id").cast(pl.String)
    ok = pl.col(odd).sum() == 0
    distinct = c.filter(pl.col(f)).n_unique()
    first = c.filter(pl.col(f)).first()
    source = rid.filter(pl.col(f)).first()
    if rule == "fullest":
        # the cluster's spellings differ (or are padded) but every filled cell is a simple name: _fullest_fold
        odd_name = f"__odd_name_{col}"
        flags.append((filled & ~c.str.contains(_SIMPLE_NAME).fill_null(False)).alias(odd_name))
        return flags, [(ok & (distinct <= 1)).alias(f"__easy_{col}"), first.alias(f"__value_{col}"),
                       source.alias(f"__source_{col}"), (pl.col(odd_name).sum() == 0).alias(f"__simple_{col}")], []
    if rule != "all_values":
        return flags, [(ok & (distinct <= 1)).alias(f"__easy_{col}"), first.alias(f"__value_{col}"),
                       source.alias(f"__source_{col}")], []
    # the first filled cell of each value, and the records bringing one: the first filled record and each later
    # one whose value differs from the first
    new, brings = f"__new_{col}", f"__brings_{col}"
    # rows come sorted by cluster, so a cluster's rows are contiguous: its first filled row is one whose previous
    # filled row is another cluster's, and that row's value carried forward is the cluster's first filled value
    # (forward fills, not windows over the cluster: a tenth of the CPU)
    cid = pl.col("cluster_id")
    before = pl.when(filled).then(cid).forward_fill().shift(1)
    first_row = filled & (before.is_null() | (before != cid))
    first_here = pl.when(first_row).then(c).forward_fill()
    flags += [(filled & pl.struct("cluster_id", c).is_first_distinct()).alias(new),
              (filled & (first_row | (c != first_here))).alias(brings)]
    # the new values and the bringing records as lists (a str.join inside the group_by runs per cluster: ~6x the
    # CPU), joined on the result; a cluster without a filled cell has no new value (an empty list) and gets none
    value, source = pl.col(f"__value_{col}"), pl.col(f"__source_{col}")
    return flags, [ok.alias(f"__easy_{col}"), c.filter(pl.col(new)).alias(f"__value_{col}"),
                   rid.filter(pl.col(brings)).alias(f"__source_{col}")], [
        pl.when(value.list.len() > 0).then(value.list.join(DEFAULT_SEPARATOR)).alias(f"__value_{col}"),
        pl.when(value.list.len() > 0).then(source.list.join("; ")).alias(f"__source_{col}")]


# characters whose Rust lowercase is Python's casefold and whose only blank is the space (so a name of them splits
# into the same words column-wise as _name_words splits it): printable ASCII, Latin-1 to Latin Extended-B but the
# no-break space, µ, ß, ŉ, ſ, ǰ; Cyrillic; dashes, quotes and the other general punctuation but its blanks; №
_SIMPLE_NAME = (r"^[\x20-\x7e\u00a1-\u00b4\u00b6-\u00de\u00e0-\u0148\u014a-\u017e\u0180-\u01ef\u01f1-\u024f"
                r"\u0400-\u052f\u2010-\u2027\u2030-\u205e\u2116]*$")


def _fullest_fold(rows: pl.DataFrame, clusters: pl.Series, col: str) -> tuple[pl.Series, pl.Series]:
    """``fullest`` (:func:`_safe_value`) of ``clusters`` (whose filled cells are all simple names), column-wise:
    (value, source) per cluster in their order. The fold keeps the current value of every cluster and, one rank at a
    time, takes the cluster's next filled cell where :func:`_abbreviates` says the current one abbreviates it — the
    same tests in the same order on words split as :func:`_name_words` splits them (``_SIMPLE_NAME`` makes them
    agree)."""
    c = pl.col("_v")
    cells = (
        rows.select("cluster_id", pl.col("record_id").cast(pl.String), pl.col(col).alias("_v"))
        .join(pl.DataFrame({"cluster_id": clusters, "_g": pl.int_range(0, clusters.len(), dtype=pl.Int64,
                                                                         eager=True)}),
              on="cluster_id", how="inner", maintain_order="left")
        .filter(c.is_not_null() & (c.str.strip_chars(_ASCII_BLANKS) != ""))  # as _uniform_aggs reads "filled"
        .with_columns(c.str.to_lowercase().alias("_low"))
        # the normalized name read from the lowercased column (a column: the expression written three times below
        # ran three times)
        .with_columns(pl.col("_low").str.replace_all(r"[ .]+", " ").str.strip_chars(" ").alias("_norm"))
        .with_columns(pl.col("_norm").str.split(" ").alias("_words"),
                      pl.when(pl.col("_norm") == "").then(0).otherwise(pl.col("_norm").str.count_matches(" ") + 1)
                      .alias("_n"))
        .with_columns(pl.col("_words").list.first().alias("_first"), pl.col("_words").list.last().alias("_last"))
    )
    g = cells.get_column("_g").to_numpy()
    # each cell's place among its cluster's cells in row order (a window over the clusters cost a tenth of a second
    # per column at 300k): a stable sort by cluster, the position in each run
    order = np.argsort(g, kind="stable")
    run_start = np.ones(len(g), dtype=bool)
    run_start[1:] = g[order][1:] != g[order][:-1]
    at = np.arange(len(g))
    k = np.empty(len(g), dtype=np.int64)
    k[order] = at - np.maximum.accumulate(np.where(run_start, at, 0))
    current = np.empty(clusters.len(), dtype=np.int64)
    current[g[k == 0]] = np.flatnonzero(k == 0)
    attrs = cells.select("_v", "_low", "_words", "_n", "_first", "_last")
    for step in range(1, int(k.max()) + 1 if len(k) else 0):
        at = np.flatnonzero(k == step)
        mine = current[g[at]]
        pair = pl.concat([attrs[mine].rename(lambda x: "a" + x), attrs[at].rename(lambda x: "b" + x)],
                         how="horizontal").with_columns(pl.int_range(0, len(at)).alias("_p"))
        take = _abbreviates_frame(pair)
        current[g[at[take]]] = at[take]
    return (cells.get_column("_v").gather(current).alias(col),
            cells.get_column("record_id").gather(current).alias(f"_src_{col}"))


def _abbreviates_frame(pair: pl.DataFrame) -> np.ndarray:
    """``a_v != b_v and _abbreviates(a_v, b_v)`` on every row of ``pair`` (the values' words, counts, first and last
    words beside them, as :func:`_fullest_fold` prepares them): a boolean array."""
    an, bn, af, bf, al = (pl.col(x) for x in ("a_n", "b_n", "a_first", "b_first", "a_last"))
    spread = (an < bn) & (al.str.len_chars() == bn - an + 1)  # initials glued together spread over the words
    maybe = pair.with_columns(spread.alias("_spread")).filter(
        (pl.col("a_v") != pl.col("b_v")) & (an > 0) & (bn >= an)
        & (af.str.slice(0, 1) == bf.str.slice(0, 1)) & (pl.col("a_low") != pl.col("b_low"))
        & ~((an == 1) & (bn > 1) & (af.str.len_chars() > 1) & (af == bf))  # a bare surname
        & (pl.col("_spread") | (an == bn)))
    out = np.zeros(pair.height, dtype=bool)
    if maybe.height == 0:
        return out
    j = pl.int_range(0, pl.len()).over("_p")
    word = maybe.select("_p", "a_words", "a_n", "a_last", "_spread", "b_words").explode("b_words").with_columns(
        j.alias("_j"))
    prefix = pl.when(pl.col("_spread") & (pl.col("_j") >= pl.col("a_n") - 1)).then(
        pl.col("a_last").str.slice(pl.col("_j") - pl.col("a_n") + 1, 1)).otherwise(
        pl.col("a_words").list.get(pl.col("_j"), null_on_oob=True))
    agree = word.group_by("_p").agg(pl.col("b_words").str.starts_with(prefix).all().alias("_ok"))
    hit = agree.filter(pl.col("_ok")).get_column("_p").to_numpy()
    out[hit] = True
    return out


def reasons_text(reasons_json: str) -> str:
    """'Email: master (100234); Notes: concat_unique (100234; 100871)' from the reasons column."""
    data = json.loads(reasons_json)
    return "; ".join(f"{col}: {r['rule']} ({r['from']})" for col, r in data.items() if r.get("from"))
