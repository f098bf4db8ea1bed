"""report.md: a short summary of an audit for email or chat."""

from __future__ import annotations

from typing import Any

_DOT = {"green": "🟢", "yellow": "🟡", "red": "🔴", "grey": "⚪"}


def _md(text: Any) -> str:
    """Plain text safe inside a Markdown table cell."""
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def render_markdown(report: dict[str, Any], top: int = 10) -> str:
    k = report["kpis"]
    run = report["run"]
    lines = [
        f"# CRM data quality audit: {_md(run['source'])}",
        "",
        f"{_md(run['object_type'])}, {k['records']:,} records, run `{_md(run['run_id'])}` at {_md(run['started_at'])}.",
        "",
        "| KPI | Value |",
        "|---|---:|",
        f"| % clean records | {k['pct_clean']}% ({k['clean_records']:,}) |",
        f"| Average completeness | {k['avg_completeness']} (green {k['grade_green']:,} · yellow {k['grade_yellow']:,}"
        f" · red {k['grade_red']:,}) |",
        f"| Records in duplicate clusters | {k['duplicate_records']:,} ({k['duplicate_clusters']:,} clusters) |",
        f"| Invalid phones | {k['invalid_phones']:,} |",
        f"| Invalid emails | {k['invalid_emails']:,} |",
        f"| Stale records | {k['stale']:,} (never touched {k['stale_never']:,}, unreadable date"
        f" {k['stale_unreadable']:,}) |",
        f"| Orphan contacts | {k['orphans']:,} |",
        f"| Unassigned | {k['unassigned']:,} |",
        f"| Proposed changes | {k['changes_fix']:,} automatic, {k['changes_suggest']:,} to review |",
        "",
    ]
    trend = report.get("trend") or []
    if len(trend) >= 2:
        prev, cur = trend[-2], trend[-1]
        if prev.get("pct_clean") is not None:
            delta = round(cur["pct_clean"] - prev["pct_clean"], 1)
            lines += [f"Since the previous audit ({_md(prev['started_at'])}): % clean {delta:+}.", ""]
    lines += _columns(report)
    flagged = [c for c in report["checks"] if c["records"]][:top]
    if flagged:
        lines += ["## Checks that need attention", "", "| | Check | Records | % |", "|---|---|---:|---:|"]
        lines += [f"| {_DOT.get(c['light'], '')} | `{_md(c['code'])}` {_md(c['name'])} | {c['records']:,} |"
                  f" {c['pct']}% |" for c in flagged]
        lines.append("")
    lines += [f"_% clean records: {_md(report['definitions']['clean_record'])}_", "",
              "Details: report.html (open in a browser), findings.csv, duplicates.csv, changes.csv.", ""]
    return "\n".join(lines)


def _columns(report: dict[str, Any]) -> list[str]:
    """The "Columns" table: each column's role, the unmapped columns and the required roles with no column."""
    cols = report.get("columns")
    if not cols:
        return []
    lines = ["## Columns", "",
             f"Read as **{_md(cols['object_type'])}**" + (f" ({_md('; '.join(cols['evidence']))})"
                                                          if cols.get("evidence") else "")
             + f": {len(cols['mapped'])} mapped, {len(cols['unmapped'])} unmapped (not checked),"
             f" {len(cols['missing_required'])} required roles with no column.", "",
             "| Column | Role | Note |", "|---|---|---|"]
    for row in cols["rows"]:
        note = row["note"] + (f"; closest role: {row['suggested_role']}" if row.get("suggested_role") else "")
        lines.append(f"| {_md(row['column']) or '—'} | {_md(row['role'])} | {_md(note)} |")
    return [*lines, ""]
