"""The report's content as one JSON-able dict (schema in docs/report-json.md); every renderer reads only this."""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from crmclean import __version__
from crmclean.audit import CLEAN_DEFINITION, KPI_LABELS, AuditResult, severity_counts
from crmclean.rules.base import find_rule
from crmclean.table import RecordTable
from crmclean.validate import SEVERITY_RANK

SCHEMA_VERSION = 1
PII_ROLES = frozenset({"email", "email2", "phone", "mobile", "phone2"})
IDENTITY_ROLES = ("full_name", "last_name", "first_name", "email", "phone", "mobile", "company")


# ---------------------------------------------------------------- masking


def mask_email(value: str) -> str:
    """'ivan.petrov@mail.ru' -> 'i***@mail.ru'."""
    local, at, domain = value.partition("@")
    if not at:
        return mask_text(value)
    return (local[:1] or "*") + "***@" + domain


def mask_phone(value: str) -> str:
    """Every digit but the last four becomes *: '+7 (495) 123-45-67' -> '+* (***) ***-45-67'."""
    digits = sum(ch.isdigit() for ch in value)
    keep = 4
    out = []
    seen = 0
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_text(value: str) -> str:
    return value[:1] + "***" if value else value


_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:[.,][\w-]+)*")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_free_text(text: str | None) -> str | None:
    """Mask emails and phone-like digit runs inside messages and hints ("did you mean ivan@gmail.com?")."""
    if not text:
        return text
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def masker(table: RecordTable, enabled: bool) -> Any:
    """A function (column, value) -> value shown, masking emails and phones when ``enabled``."""
    roles = table.roles

    def show(column: str | None, value: Any) -> Any:
        if not enabled or value is None or not isinstance(value, str):
            return value
        if column is None:  # free text: a message or a hint
            return mask_free_text(value)
        role = roles.get(column or "")
        if role in ("email", "email2") or (role is None and "@" in value and re.search(r"\S+@\S+", value)):
            return mask_email(value)
        if role in ("phone", "mobile", "phone2"):
            return mask_phone(value)
        return value

    return show


# ---------------------------------------------------------------- pieces


def identity_columns(table: RecordTable) -> list[str]:
    """A few columns that let a steward recognize a record (name, email, phone, company)."""
    out: list[str] = []
    by_role = table.by_role
    for role in IDENTITY_ROLES:
        for column in by_role.get(role, [])[:1]:
            if column not in out:
                out.append(column)
    return out[:5]


def record_cards(table: RecordTable, rows: list[int], show: Any) -> dict[int, dict[str, Any]]:
    """row -> {record_id, column: value …} for the identity columns of those rows."""
    if not rows:
        return {}
    columns = identity_columns(table)
    picked = table.frame.select([table.id_column, *columns]).with_row_index("__i").filter(
        pl.col("__i").is_in(rows)
    )
    cards = {}
    for rec in picked.iter_rows(named=True):
        i = int(rec.pop("__i"))
        rid = rec.pop(table.id_column)
        cards[i] = {"record_id": rid, "fields": {c: show(c, v) for c, v in rec.items() if v not in (None, "")}}
    return cards


def top_findings(result: AuditResult, limit: int, examples: int, show: Any) -> list[dict[str, Any]]:
    f = result.findings
    if f.height == 0:
        return []
    groups = (
        f.group_by("rule", "column", "severity")
        .agg(
            pl.len().alias("findings"),
            pl.col("row").n_unique().alias("records"),
            pl.col("message").first().alias("message"),
            pl.col("row").head(examples).alias("rows"),
            pl.col("value").head(examples).alias("values"),
            pl.col("message").head(examples).alias("messages"),
            pl.col("hint").head(examples).alias("hints"),
            pl.col("record_id").head(examples).alias("ids"),
        )
        .with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, default=0).alias("rank"))
        .sort(["rank", "records", "rule", "column"], descending=[True, True, False, False], nulls_last=True)
        .head(limit)
    )
    all_rows = [r for rows in groups.get_column("rows").to_list() for r in rows]
    cards = record_cards(result.table, sorted(set(all_rows)), show)
    out = []
    for g in groups.iter_rows(named=True):
        cls = find_rule(g["rule"]) if g["rule"] else None
        out.append({
            "rule": g["rule"],
            "name": cls.name if cls else g["rule"],
            "column": g["column"],
            "severity": g["severity"],
            "findings": int(g["findings"]),
            "records": int(g["records"]),
            "message": show(None, g["message"]),
            "examples": [
                {"record_id": rid, "value": show(g["column"], value), "message": show(None, message),
                 "hint": show(None, hint),
                 "record": cards.get(row, {}).get("fields", {})}
                for row, rid, value, message, hint in zip(g["rows"], g["ids"], g["values"], g["messages"],
                                                           g["hints"], strict=True)
            ],
        })
    return out


def _evidence(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw


def duplicates(result: AuditResult, limit: int, show: Any, masked: bool = False) -> dict[str, Any]:
    clusters = result.clusters
    summary = {
        "clusters": result.kpis.get("duplicate_clusters", 0),
        "records": result.kpis.get("duplicate_records", 0),
        "to_merge": result.kpis.get("duplicates_to_merge", 0),
        "shown": [],
    }
    if clusters.height == 0 or limit == 0:
        return summary
    ranked = (
        clusters.group_by("cluster_id").agg(pl.len().alias("size"), pl.col("record_id"))
        .sort(["size", "cluster_id"], descending=[True, False]).head(limit)
    )
    ids = result.table.ids
    shown_ids = [r for members in ranked.get_column("record_id").to_list() for r in members]
    row_of = (
        pl.DataFrame({"record_id": ids, "row": pl.int_range(0, len(ids), eager=True)})
        .filter(pl.col("record_id").is_in(shown_ids))
    )
    rows = dict(row_of.iter_rows())
    cards = record_cards(result.table, sorted(rows.values()), show)
    pairs = result.pairs.filter(pl.col("left_id").is_in(shown_ids) | pl.col("right_id").is_in(shown_ids))
    by_member: dict[str, list[dict[str, Any]]] = {}
    for p in pairs.iter_rows(named=True):
        by_member.setdefault(p["left_id"], []).append(p)
    for c in ranked.iter_rows(named=True):
        members = c["record_id"]
        member_set = set(members)
        cluster_pairs = [
            {"left_id": p["left_id"], "right_id": p["right_id"],
             "score": None if p["score"] is None else round(float(p["score"]), 4),
             "decision": p["decision"], "evidence": _mask_evidence(_evidence(p["evidence"]), masked)}
            for m in members for p in by_member.get(m, []) if p["right_id"] in member_set
        ][:10]
        summary["shown"].append({
            "cluster_id": c["cluster_id"],
            "size": int(c["size"]),
            "members": [cards.get(rows.get(m, -1), {"record_id": m, "fields": {}}) for m in members[:10]],
            "pairs": cluster_pairs,
        })
    return summary


def _mask_evidence(evidence: Any, masked: bool, pii: bool = False) -> Any:
    """Mask emails/phones inside evidence too: values under a key naming email/phone/mobile."""
    if not masked:
        return evidence
    if isinstance(evidence, dict):
        return {k: _mask_evidence(v, masked, pii or any(w in str(k).lower() for w in ("email", "phone", "mobile")))
                for k, v in evidence.items()}
    if isinstance(evidence, list):
        return [_mask_evidence(v, masked, pii) for v in evidence]
    if isinstance(evidence, str) and (pii or "@" in evidence):
        return mask_email(evidence) if "@" in evidence else mask_phone(evidence)
    return evidence


def proposed_changes(result: AuditResult, limit: int, show: Any) -> dict[str, Any]:
    ch = result.changes
    out: dict[str, Any] = {
        "total": ch.height,
        "fix": int((ch.get_column("confidence") == "fix").sum()) if ch.height else 0,
        "suggest": int((ch.get_column("confidence") == "suggest").sum()) if ch.height else 0,
        "records": int(ch.get_column("record_id").n_unique()) if ch.height else 0,
        "by_rule": [],
        "sample": [],
    }
    if ch.height == 0:
        return out
    by_rule = ch.group_by("rule", "column", "confidence").agg(pl.len().alias("changes")).sort(
        ["changes", "rule", "column"], descending=[True, False, False]
    )
    out["by_rule"] = [dict(r) for r in by_rule.iter_rows(named=True)]
    if limit:
        per_rule = max(1, limit // max(1, by_rule.height))
        sample = ch.with_columns(pl.int_range(pl.len()).over("rule", "column").alias("__k")).filter(
            pl.col("__k") < per_rule).drop("__k").head(limit)
        out["sample"] = [
            {**r, "before": show(r["column"], r["before"]), "after": show(r["column"], r["after"]),
             "reason": show(None, r["reason"])}
            for r in sample.iter_rows(named=True)
        ]
    return out


# ---------------------------------------------------------------- the whole report


def columns_section(result: AuditResult) -> dict[str, Any]:
    """The gate's column table: each column's role, unmapped columns (with the closest role), missing roles."""
    from crmclean.role_suggest import suggest_role
    from crmclean.validate import column_report

    report = result.validation.columns or column_report(result.table, result.rules)
    rows = []
    for row in report.rows():
        hint = suggest_role(row["column"]) if row["column"] in report.unmapped else None
        rows.append({**row, "suggested_role": hint.role if hint else None})
    return report.to_dict() | {"rows": rows}


def build_report(result: AuditResult, *, mask_pii: bool | None = None) -> dict[str, Any]:
    """The report content (schema_version 1); report.json is exactly this."""
    settings = result.rules.report
    masked = settings.mask_pii if mask_pii is None else mask_pii
    show = masker(result.table, masked)
    seconds = (result.finished_at - result.started_at).total_seconds() if result.finished_at else None
    lights = settings.lights
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": {"name": "crmclean", "version": __version__},
        "run": {
            "run_id": result.run_id,
            "source": result.source,
            "object_type": result.table.object_type,
            "id_column": result.table.id_column,
            "rules_file": result.rules.path,
            "rules_hash": result.rules.content_hash or None,
            "started_at": result.started_at.isoformat(timespec="seconds"),
            "finished_at": result.finished_at.isoformat(timespec="seconds") if result.finished_at else None,
            "seconds": round(seconds, 2) if seconds is not None else None,
            "parts": result.parts,
            "timings": result.timings,
            "mask_pii": masked,
            "read_issues": [{"line": i.line, "message": i.message, "kept": i.kept} for i in result.table.issues[:50]],
            "columns": [{"column": c, "role": result.table.roles.get(c)} for c in result.table.data_columns],
        },
        "definitions": {
            "clean_record": CLEAN_DEFINITION,
            "check_lights": {"yellow_pct": lights.yellow_pct, "red_pct": lights.red_pct, "info_max": lights.info_max},
            "grades": {"green": result.completeness.thresholds.green, "yellow": result.completeness.thresholds.yellow},
        },
        "kpi_labels": KPI_LABELS,
        "kpis": result.kpis,
        "columns": columns_section(result),
        "findings_by_severity": severity_counts(result.findings),
        "checks": result.checks,
        "completeness": result.completeness.summary(),
        "top_findings": top_findings(result, settings.top_findings, settings.max_examples, show),
        "duplicates": duplicates(result, settings.max_clusters, show, masked),
        "changes": proposed_changes(result, settings.max_changes, show),
        "trend": result.trend,
    }
