"""Audit reports: report.html / report.json / report.md and the findings, changes and duplicates CSVs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.audit import AuditResult
from crmclean.connectors.files import atomic_write_text, write_output
from crmclean.reports.content import build_report, mask_free_text, masker
from crmclean.reports.html import render_html
from crmclean.reports.jsonreport import render_json
from crmclean.reports.markdown import render_markdown
from crmclean.rules.base import map_unique


@dataclass
class ReportFiles:
    directory: Path
    files: dict[str, Path]
    report: dict[str, Any]

    def as_dict(self) -> dict[str, str]:
        return {name: str(path) for name, path in self.files.items()}


def default_out_dir(base: str | Path | None = None) -> Path:
    """./crmclean-report/<timestamp>/ (a new folder per audit, so earlier reports stay)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(base or "crmclean-report") / stamp


def _masked_cells(frame: pl.DataFrame, value_column: str, show: Any) -> pl.Series:
    """show(column, value) once per distinct (column, value) pair, broadcast back to every row.

    Millions of findings repeat a few hundred thousand distinct cells: masking row by row in Python
    would dominate writing findings.csv.
    """
    distinct = frame.select("column", value_column).unique()
    masked = pl.Series("__masked", [show(c, v) for c, v in distinct.iter_rows()], dtype=pl.String)
    lookup = distinct.with_columns(masked)
    return (frame.select("column", value_column)
            .join(lookup, on=["column", value_column], how="left", maintain_order="left", nulls_equal=True)
            .get_column("__masked").alias(value_column))


def findings_frame_for_csv(result: AuditResult, mask_pii: bool) -> pl.DataFrame:
    f = result.findings.select("record_id", "rule", "severity", "column", "value", "message", "hint", "origin")
    if mask_pii and f.height:
        show = masker(result.table, True)
        f = f.with_columns(
            _masked_cells(f, "value", show),
            map_unique(f.get_column("message"), mask_free_text, pl.String).alias("message"),
            map_unique(f.get_column("hint"), mask_free_text, pl.String).alias("hint"),
        )
    return f


def changes_frame_for_csv(result: AuditResult, mask_pii: bool) -> pl.DataFrame:
    ch = result.changes
    if mask_pii and ch.height:
        show = masker(result.table, True)
        ch = ch.with_columns(
            _masked_cells(ch, "before", show),
            _masked_cells(ch, "after", show),
            map_unique(ch.get_column("reason"), mask_free_text, pl.String).alias("reason"),
        )
    return ch


def duplicates_frame_for_csv(result: AuditResult) -> pl.DataFrame:
    """One row per clustered record, with the best pair score that put it there."""
    clusters = result.clusters
    if clusters.height == 0:
        return pl.DataFrame(schema={"cluster_id": pl.String, "record_id": pl.String, "size": pl.Int64,
                                    "best_score": pl.Float64, "matched_with": pl.String})
    pairs = result.pairs
    sides = pl.concat([
        pairs.select(pl.col("left_id").alias("record_id"), pl.col("right_id").alias("other"), "score"),
        pairs.select(pl.col("right_id").alias("record_id"), pl.col("left_id").alias("other"), "score"),
    ])
    best = sides.sort("score", descending=True, nulls_last=True).group_by("record_id", maintain_order=True).agg(
        pl.col("score").first().alias("best_score"), pl.col("other").first().alias("matched_with"))
    return clusters.join(best, on="record_id", how="left").sort(["size", "cluster_id"], descending=[True, False])


def write_reports(result: AuditResult, out_dir: str | Path | None = None, *, mask_pii: bool | None = None,
                  formats: tuple[str, ...] = ("html", "json", "md", "csv")) -> ReportFiles:
    """Write every report file into ``out_dir`` (created) and return their paths and the report dict."""
    settings = result.rules.report
    directory = Path(out_dir) if out_dir else (Path(settings.out_dir) if settings.out_dir else default_out_dir())
    directory.mkdir(parents=True, exist_ok=True)
    masked = settings.mask_pii if mask_pii is None else mask_pii
    report = build_report(result, mask_pii=masked)
    files: dict[str, Path] = {}
    if "json" in formats:
        files["json"] = directory / "report.json"
        atomic_write_text(files["json"], render_json(report))
    if "html" in formats:
        files["html"] = directory / "report.html"
        atomic_write_text(files["html"], render_html(report))
    if "md" in formats:
        files["md"] = directory / "report.md"
        atomic_write_text(files["md"], render_markdown(report))
    if "csv" in formats:
        # in the input's encoding and delimiter (a cp1251 ';' export gets cp1251 ';' back), else UTF-8 with BOM
        style = {"encoding": result.table.output_encoding, "delimiter": result.table.output_delimiter}
        files["findings"] = directory / "findings.csv"
        write_output(findings_frame_for_csv(result, masked), files["findings"], **style)
        files["changes"] = directory / "changes.csv"
        write_output(changes_frame_for_csv(result, masked), files["changes"], **style)
        files["duplicates"] = directory / "duplicates.csv"
        write_output(duplicates_frame_for_csv(result), files["duplicates"], **style)
    return ReportFiles(directory=directory, files=files, report=report)
