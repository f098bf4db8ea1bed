"""Review that remembers (issue 13): a steward's accept/reject labels persist in the run store.

Labels are keyed by the source (``crmclean.store.source_key``: a file's absolute path, a CRM object's spec)
and the two record ids, the smaller id first, so a pair is one row whichever side it was shown on. Every
``--labels`` file is remembered; every later dedupe of the same source merges what it remembers with the
labels given (the file given wins), so an accepted pair is merged, a rejected one is never merged, and a
labelled pair in the review queue comes back with its label filled in — never unlabelled.

The store is optional: when it cannot be opened (locked by another process for longer than the wait, not
writable) the run goes on without memory and says so in ``summary["review_memory"]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.errors import SourceError
from crmclean.store import RunStore, default_store_path, register_ddl, source_key

LABELS_DDL = """
CREATE TABLE IF NOT EXISTS match_labels (
    scope       VARCHAR NOT NULL,   -- the source (absolute file path or CRM object spec)
    left_id     VARCHAR NOT NULL,   -- the smaller of the two record ids
    right_id    VARCHAR NOT NULL,
    accepted    BOOLEAN NOT NULL,
    labelled_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, left_id, right_id)
);
"""
register_ddl(LABELS_DDL)

_SCHEMA = {"left_id": pl.String, "right_id": pl.String, "accepted": pl.Boolean}


def _ordered(labels: pl.DataFrame) -> pl.DataFrame:
    """left_id < right_id on every row, one row per pair (the last label given wins)."""
    return (labels.select(pl.min_horizontal("left_id", "right_id").alias("left_id"),
                          pl.max_horizontal("left_id", "right_id").alias("right_id"),
                          pl.col("accepted").cast(pl.Boolean))
            .filter(pl.col("left_id") != pl.col("right_id"))
            .unique(subset=["left_id", "right_id"], keep="last", maintain_order=True))


def remember_labels(scope: str, labels: pl.DataFrame, store: str | Path | None = None) -> int:
    """Store (insert or replace) the labels of ``scope``; returns how many pairs were written."""
    rows = _ordered(labels)
    if rows.height == 0:
        return 0
    now = datetime.now(UTC).replace(tzinfo=None)
    with RunStore(store) as rs:
        rs.con.execute(LABELS_DDL)
        rs.con.executemany(
            "INSERT OR REPLACE INTO match_labels VALUES (?, ?, ?, ?, ?)",
            [(scope, a, b, bool(acc), now) for a, b, acc in rows.iter_rows()],
        )
    return rows.height


def recall_labels(scope: str, store: str | Path | None = None) -> pl.DataFrame:
    """Every remembered label of ``scope`` (left_id, right_id, accepted); empty when the store has none."""
    path = Path(store) if store else default_store_path()
    if not path.exists():
        return pl.DataFrame(schema=_SCHEMA)
    with RunStore(path) as rs:
        rs.con.execute(LABELS_DDL)
        rows = rs.con.execute("SELECT left_id, right_id, accepted FROM match_labels WHERE scope = ? "
                              "ORDER BY labelled_at, left_id, right_id", [scope]).fetchall()
    return pl.DataFrame(rows, schema=_SCHEMA, orient="row")


def merge_labels(remembered: pl.DataFrame, given: pl.DataFrame | None) -> pl.DataFrame:
    """Remembered labels overridden by the ones given now."""
    parts = [remembered.select(list(_SCHEMA))]
    if given is not None and given.height:
        parts.append(given.select(list(_SCHEMA)))
    return _ordered(pl.concat(parts, how="vertical_relaxed"))


def label_review(review: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """The review queue with the label column filled (accept / reject) for every pair a steward labelled."""
    if review.height == 0 or labels.height == 0 or "label" not in review.columns:
        return review
    known = _ordered(labels).with_columns(
        pl.when(pl.col("accepted")).then(pl.lit("accept")).otherwise(pl.lit("reject")).alias("_label"))
    key = review.select(pl.min_horizontal("left_id", "right_id").alias("a"),
                        pl.max_horizontal("left_id", "right_id").alias("b"))
    filled = key.join(known.rename({"left_id": "a", "right_id": "b"}), on=["a", "b"], how="left",
                      maintain_order="left").get_column("_label")
    return review.with_columns(
        pl.when(filled.is_not_null()).then(filled).otherwise(pl.col("label")).alias("label"))


def dedupe_remembering(table: Any, rules: Any = None, *, labels: str | Path | pl.DataFrame | None = None,
                       store: str | Path | None = None, **options: Any) -> Any:
    """``dedupe`` with the steward's labels remembered across runs (see the module docstring)."""
    from crmclean.matching.engine import dedupe, read_labels

    given: pl.DataFrame | None = None
    if labels is not None:
        given = labels if isinstance(labels, pl.DataFrame) else read_labels(labels)
    scope = source_key(str(getattr(table, "source", "")))
    status = "on"
    remembered = pl.DataFrame(schema=_SCHEMA)
    try:
        if given is not None and given.height:
            remember_labels(scope, given, store)
        remembered = recall_labels(scope, store)
    except (SourceError, OSError) as exc:
        status = f"unavailable: {exc}"
    combined = merge_labels(remembered, given)
    result = dedupe(table, rules, labels=combined if combined.height else None, **options)
    result.review = label_review(result.review, combined)
    result.summary["review_memory"] = {"status": status, "remembered_labels": remembered.height,
                                       "labels_used": combined.height}
    return result


__all__ = ["LABELS_DDL", "dedupe_remembering", "label_review", "merge_labels", "recall_labels", "remember_labels"]
