"""report.json: the report dict as UTF-8 JSON (schema documented in docs/report-json.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"


def write_json(report: dict[str, Any], path: Path) -> Path:
    from crmclean.connectors.files import atomic_write_text

    atomic_write_text(path, render_json(report))
    return path


def summary(report: dict[str, Any], files: dict[str, str] | None = None) -> dict[str, Any]:
    """The short JSON printed by ``--json``: run, KPIs, counts per severity, lights, where the files are."""
    return {
        "schema_version": report["schema_version"],
        "run": {k: report["run"][k] for k in ("run_id", "source", "object_type", "started_at", "seconds", "parts")},
        "kpis": report["kpis"],
        "findings_by_severity": report["findings_by_severity"],
        "checks": [{k: c[k] for k in ("code", "severity", "records", "pct", "light")} for c in report["checks"]
                   if c["records"]],
        "files": files or {},
    }
