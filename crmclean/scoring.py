"""Completeness scoring: a 0–100 score and a traffic light per record, plus fill/validity rates per field.

A field counts as filled only when it holds a real value: blank cells, placeholders ("-",
"нет", "000") and values a check found invalid (a broken phone, a bad INN) do not count.
The score is the weighted share of filled fields among the fields weighted for the object
type (``completeness.weights``), so "email 25, phone 20 …" reads as "how much of what
matters is really there".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmclean.config import RulesFile
from crmclean.config.completeness import GradeThresholds
from crmclean.rules.base import RuleContext, find_rule, is_check
from crmclean.rules.checks._common import (
    CheckContext,
    blank_mask,
    empty_mask,
    placeholder_mask,
    resolve_columns,
    role_of,
)
from crmclean.table import RecordTable

GRADES = ("green", "yellow", "red")


@dataclass
class FieldStat:
    """Fill and validity of one weighted field across the table."""

    field: str  # the spec from the weights ("email|email2")
    columns: list[str]
    weight: float
    filled: int = 0  # non-blank, non-placeholder
    valid: int = 0  # filled and not flagged invalid
    absent: bool = False  # no column in the source

    def as_dict(self, records: int) -> dict[str, Any]:
        return {
            "field": self.field,
            "columns": self.columns,
            "weight": self.weight,
            "filled": self.filled,
            "valid": self.valid,
            "fill_rate": round(100 * self.filled / records, 2) if records else 0.0,
            "valid_rate": round(100 * self.valid / self.filled, 2) if self.filled else None,
            "absent": self.absent,
        }


@dataclass
class CompletenessResult:
    scores: pl.DataFrame  # row, record_id, score (0–100), grade, missing (fields not filled validly)
    fields: list[FieldStat]
    thresholds: GradeThresholds
    object_type: str
    histogram: list[dict[str, Any]] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.scores.height

    @property
    def average(self) -> float:
        value = self.scores.get_column("score").mean()
        return round(float(value), 1) if isinstance(value, int | float) else 0.0

    @property
    def median(self) -> float:
        value = self.scores.get_column("score").median()
        return round(float(value), 1) if isinstance(value, int | float) else 0.0

    def grade_counts(self) -> dict[str, int]:
        counts = dict(self.scores.get_column("grade").value_counts().iter_rows())
        return {g: int(counts.get(g, 0)) for g in GRADES}

    def summary(self) -> dict[str, Any]:
        return {
            "object_type": self.object_type,
            "average": self.average,
            "median": self.median,
            "thresholds": {"green": self.thresholds.green, "yellow": self.thresholds.yellow},
            "grades": self.grade_counts(),
            "fields": [f.as_dict(self.records) for f in self.fields],
            "histogram": self.histogram,
        }


def invalid_cells(findings: pl.DataFrame) -> pl.DataFrame:
    """(row, column) pairs whose value a finding says is wrong (error/warning of a value check or standardizer)."""
    if findings.height == 0:
        return pl.DataFrame(schema={"row": pl.Int64, "column": pl.String})
    rules = findings.get_column("rule").unique().to_list()
    invalidating = []
    for code in rules:
        cls = find_rule(code) if code else None
        if cls is None:
            continue
        if is_check(cls):  # a check, or a standardizer that replaced one: it says whether it invalidates
            if cls.invalidates:
                invalidating.append(code)
        elif cls.kind == "standardize":
            invalidating.append(code)  # standardizers only flag what they could not make valid
    return (
        findings.filter(pl.col("rule").is_in(invalidating) & pl.col("severity").is_in(["error", "warning"]))
        .select(pl.col("row").cast(pl.Int64), "column")
        .unique()
    )


def grade_expr(score: pl.Expr, thresholds: GradeThresholds) -> pl.Expr:
    return (
        pl.when(score >= thresholds.green).then(pl.lit("green"))
        .when(score >= thresholds.yellow).then(pl.lit("yellow"))
        .otherwise(pl.lit("red"))
    )


def score_table(
    table: RecordTable,
    rules: RulesFile | None = None,
    findings: pl.DataFrame | None = None,
    context: CheckContext | None = None,
) -> CompletenessResult:
    """Score every record of ``table``; ``findings`` (with ``row``) mark values that do not count.

    ``context`` is the validation's check context, whose cached blank/placeholder masks are reused.
    """
    rules = rules or RulesFile()
    settings = rules.completeness
    weights = settings.weights_for(table.object_type)
    frame = table.frame
    n = frame.height
    ctx = RuleContext(frame=frame, roles=table.by_role, id_column=table.id_column, settings=rules)
    bad = invalid_cells(findings) if findings is not None else pl.DataFrame(schema={"row": pl.Int64, "column": pl.String})
    extra_placeholders = rules.validate_.placeholders
    stats: list[FieldStat] = []
    earned = pl.Series("earned", [0.0] * n)
    possible = 0.0
    missing_lists: list[pl.Series] = []
    for spec, weight in weights.items():
        columns = resolve_columns(ctx, spec)
        stat = FieldStat(field=spec, columns=columns, weight=float(weight), absent=not columns)
        stats.append(stat)
        if not columns:
            if settings.missing_columns == "count":
                possible += weight
                missing_lists.append(pl.Series([spec] * n, dtype=pl.String))
            continue
        filled_any = pl.Series([False] * n, dtype=pl.Boolean)
        valid_any = pl.Series([False] * n, dtype=pl.Boolean)
        for column in columns:
            values = frame.get_column(column)
            if context is not None and context.frame is frame:
                filled = ~empty_mask(context, values)
            else:
                filled = ~blank_mask(values) & ~placeholder_mask(values, extra_placeholders, role_of(ctx, column))
            flagged_rows = bad.filter(pl.col("column") == column).get_column("row")
            flagged = pl.Series([False] * n, dtype=pl.Boolean).scatter(flagged_rows, True) if flagged_rows.len() else pl.Series([False] * n, dtype=pl.Boolean)
            filled_any = filled_any | filled
            valid_any = valid_any | (filled & ~flagged)
        stat.filled = int(filled_any.sum())
        stat.valid = int(valid_any.sum())
        possible += weight
        earned = earned + valid_any.cast(pl.Float64) * weight
        missing_lists.append(pl.select(pl.when(pl.lit(valid_any)).then(None).otherwise(pl.lit(spec))).to_series())
    score = (earned * 100.0 / possible).round(1) if possible else pl.Series([0.0] * n)
    missing = (
        pl.DataFrame({f"m{i}": s for i, s in enumerate(missing_lists)})
        .select(pl.concat_str(pl.all(), separator=", ", ignore_nulls=True).alias("missing"))
        .to_series()
        if missing_lists else pl.Series([""] * n, dtype=pl.String)
    )
    scores = pl.DataFrame({
        "row": pl.int_range(0, n, dtype=pl.Int64, eager=True),
        "record_id": frame.get_column(table.id_column),
        "score": score.cast(pl.Float64),
        "missing": missing,
    }).with_columns(grade_expr(pl.col("score"), settings.thresholds).alias("grade"))
    result = CompletenessResult(scores=scores.select("row", "record_id", "score", "grade", "missing"), fields=stats,
                                thresholds=settings.thresholds, object_type=table.object_type)
    result.histogram = histogram(scores.get_column("score"), settings.histogram_bins)
    return result


def histogram(scores: pl.Series, bins: int = 10) -> list[dict[str, Any]]:
    """Counts per equal-width bin over 0–100 (the last bin includes 100)."""
    width = 100.0 / bins
    index = (scores / width).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = dict(index.value_counts().iter_rows()) if scores.len() else {}
    return [
        {"from": round(i * width, 1), "to": round((i + 1) * width, 1), "count": int(counts.get(i, 0))}
        for i in range(bins)
    ]


def scored_records(table: RecordTable, result: CompletenessResult) -> pl.DataFrame:
    """The source records with ``completeness_score`` and ``completeness_grade`` appended (for `score --out`)."""
    frame = table.frame.select(table.data_columns if table.id_column in table.data_columns
                               else [table.id_column, *table.data_columns])
    return frame.with_columns(
        result.scores.get_column("score").alias("completeness_score"),
        result.scores.get_column("grade").alias("completeness_grade"),
        result.scores.get_column("missing").alias("completeness_missing"),
    )
