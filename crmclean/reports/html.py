"""report.html: one self-contained page (inline CSS and SVG, no scripts, no network) rendered from the report dict.

Every value that comes from the data goes through :func:`esc` (``html.escape`` with quotes),
so a contact named ``<script>alert(1)</script>`` shows as text.
"""

from __future__ import annotations

import html
import json
from typing import Any

LIGHT_COLORS = {"green": "#2e9d4f", "yellow": "#e0a800", "red": "#d64545", "grey": "#9aa0a6"}

CSS = """
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--accent:#0b5cad}
*{box-sizing:border-box}body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);
margin:0;background:#fff}header{background:#0b3d6e;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header .meta{opacity:.85;font-size:12.5px;margin-top:4px;word-break:break-all}main{padding:8px 28px 40px;max-width:1280px}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin-top:16px}
.kpi{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.kpi .label{color:var(--muted);font-size:12px}.kpi .kpi-value{font-size:24px;font-weight:600;display:block}
.kpi .sub{color:var(--muted);font-size:11.5px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.light{display:inline-block;width:12px;height:12px;border-radius:50%;vertical-align:-1px;margin-right:4px}
.sev{font-size:11px;padding:1px 6px;border-radius:10px;color:#fff}.sev-error{background:#d64545}
.sev-warning{background:#c98800}.sev-info{background:#6e7781}code{background:var(--bg);padding:0 3px;border-radius:3px}
.val{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;white-space:pre-wrap;word-break:break-word}
.hint{color:var(--muted)}.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
.muted{color:var(--muted)}.charts{display:flex;flex-wrap:wrap;gap:24px}.chart{flex:1 1 520px}
details summary{cursor:pointer;color:var(--accent)}.arrow{color:var(--muted);padding:0 4px}
.def{background:#fff8e6;border:1px solid #f0d48a;border-radius:6px;padding:8px 12px;font-size:13px}
footer{color:var(--muted);font-size:12px;padding:12px 28px;border-top:1px solid var(--line)}
"""


def esc(value: Any) -> str:
    """Text for HTML: every data value passes here."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else str(value)
    return html.escape(value, quote=True)


def fmt_num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".replace(",", " ")
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return esc(value)


def light(color: str) -> str:
    return f'<span class="light" style="background:{LIGHT_COLORS.get(color, "#9aa0a6")}" title="{esc(color)}"></span>'


def sev(severity: str | None) -> str:
    s = severity or "info"
    return f'<span class="sev sev-{esc(s)}">{esc(s)}</span>'


# ---------------------------------------------------------------- charts (inline SVG)


def bar_chart_fields(fields: list[dict[str, Any]]) -> str:
    """Horizontal bars: fill rate (light) and valid-fill rate (dark) per weighted field."""
    shown = [f for f in fields if not f["absent"]]
    if not shown:
        return '<p class="muted">No weighted field is present in the source.</p>'
    row_h, label_w, bar_w = 24, 190, 360
    height = row_h * len(shown) + 30
    parts = [f'<svg role="img" aria-label="Fill rate per field" width="{label_w + bar_w + 110}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for i, f in enumerate(shown):
        y = 10 + i * row_h
        fill = float(f["fill_rate"])
        valid_share = (f["valid"] / f["filled"]) if f["filled"] else 0.0
        valid_rate = fill * valid_share
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{esc(f["field"])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" fill="#eef1f4"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * fill / 100:.1f}" height="14" fill="#9cc3e8">'
                     f'<title>{esc(f["field"])}: filled {fill:.1f}%</title></rect>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * valid_rate / 100:.1f}" height="14" '
                     f'fill="#0b5cad"><title>{esc(f["field"])}: filled and valid {valid_rate:.1f}%</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}">{fill:.1f}% / {valid_rate:.1f}%</text>')
    parts.append(f'<text x="{label_w}" y="{height - 4}" fill="#57606a">light: filled · dark: filled and valid</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_chart(bins: list[dict[str, Any]], thresholds: dict[str, float]) -> str:
    if not bins:
        return ""
    width, height, pad = 520, 220, 34
    top = max(b["count"] for b in bins) or 1
    bw = (width - pad - 10) / len(bins)
    parts = [f'<svg role="img" aria-label="Completeness distribution" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for i, b in enumerate(bins):
        h = (height - 50) * b["count"] / top
        x = pad + i * bw
        y = height - 30 - h
        color = (LIGHT_COLORS["green"] if b["from"] >= thresholds["green"]
                 else LIGHT_COLORS["yellow"] if b["from"] >= thresholds["yellow"] else LIGHT_COLORS["red"])
        parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" fill="{color}">'
                     f'<title>{b["from"]:g}–{b["to"]:g}: {b["count"]} records</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{b["count"]}</text>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{height - 16}" text-anchor="middle">{b["from"]:g}</text>')
    parts.append(f'<line x1="{pad}" y1="{height - 30}" x2="{width - 8}" y2="{height - 30}" stroke="#57606a"/>')
    parts.append(f'<text x="{width / 2}" y="{height - 2}" text-anchor="middle" fill="#57606a">completeness score</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(trend: list[dict[str, Any]], key: str = "pct_clean") -> str:
    points = [(i, float(t[key])) for i, t in enumerate(trend) if t.get(key) is not None]
    if len(points) < 2:
        return ""
    width, height, pad = 520, 180, 36
    n = len(trend)
    step = (width - 2 * pad) / max(1, n - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, height - 28 - (height - 50) * float(v) / 100

    path = " ".join(f"{'M' if j == 0 else 'L'}{xy(i, v)[0]:.1f},{xy(i, v)[1]:.1f}" for j, (i, v) in enumerate(points))
    parts = [f'<svg role="img" aria-label="% clean over time" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="11">',
             f'<path d="{path}" fill="none" stroke="#0b5cad" stroke-width="2"/>']
    for i, v in points:
        x, y = xy(i, v)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0b5cad"><title>{esc(trend[i]["started_at"])}: '
                     f'{float(v):.1f}%</title></circle>')
        parts.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" text-anchor="middle">{float(v):.1f}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{esc(str(trend[i]["started_at"])[:10])}'
                     f'</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- sections


def _kpi(key: str, label: str, value: Any, suffix: str = "", sub: str = "") -> str:
    shown = fmt_num(value) + suffix
    return (f'<div class="kpi" id="kpi-{esc(key)}" data-kpi="{esc(key)}"><span class="label">{esc(label)}</span>'
            f'<span class="kpi-value" data-value="{esc(value)}">{shown}</span>'
            + (f'<span class="sub">{sub}</span>' if sub else "") + "</div>")


def section_kpis(r: dict[str, Any]) -> str:
    k = r["kpis"]
    n = k["records"] or 1

    def share(x: int) -> str:
        return f"{100 * x / n:.1f}% of records"

    cards = [
        _kpi("records", "Records", k["records"]),
        _kpi("pct_clean", "% clean records", k["pct_clean"], "%", f'{fmt_num(k["clean_records"])} clean'),
        _kpi("avg_completeness", "Average completeness", k["avg_completeness"], "",
             f'green {fmt_num(k["grade_green"])} · yellow {fmt_num(k["grade_yellow"])} · red {fmt_num(k["grade_red"])}'),
        _kpi("duplicate_records", "Records in duplicate clusters", k["duplicate_records"], "",
             f'{fmt_num(k["duplicate_clusters"])} clusters · {fmt_num(k["duplicates_to_merge"])} to merge'),
        _kpi("invalid_phones", "Invalid phones", k["invalid_phones"], "", share(k["invalid_phones"])),
        _kpi("invalid_emails", "Invalid emails", k["invalid_emails"], "", share(k["invalid_emails"])),
        _kpi("stale", "Stale records", k["stale"], "",
             f'never touched {fmt_num(k["stale_never"])} · unreadable date {fmt_num(k["stale_unreadable"])}'),
        _kpi("orphans", "Orphan contacts", k["orphans"], "", share(k["orphans"])),
        _kpi("unassigned", "Unassigned records", k["unassigned"], "", share(k["unassigned"])),
        _kpi("missing_required", "Missing required fields", k["missing_required"], "", share(k["missing_required"])),
    ]
    definition = esc(r["definitions"]["clean_record"])
    return (f'<section id="kpis"><div class="kpis">{"".join(cards)}</div>'
            f'<p class="def"><b>% clean records.</b> {definition}</p></section>')


def section_checks(r: dict[str, Any]) -> str:
    lights = r["definitions"]["check_lights"]
    rows: list[str] = []
    quiet: list[str] = []
    for c in r["checks"]:
        (rows if c["records"] else quiet).append(
            f'<tr data-check="{esc(c["code"])}"><td>{light(c["light"])}</td><td><code>{esc(c["code"])}</code></td>'
            f'<td>{esc(c["name"])}<div class="hint">{esc(c["summary"])}</div></td><td>{sev(c["severity"])}</td>'
            f'<td class="num">{fmt_num(c["records"])}</td><td class="num">{fmt_num(c["pct"], 2)}%</td>'
            f'<td class="muted">{esc(c["skipped"] or c["origin"])}</td></tr>'
        )
    return (
        '<section id="checks"><h2>Checks</h2>'
        f'<p class="muted">Light: green when at most {lights["yellow_pct"]:g}% of records are flagged, red above '
        f'{lights["red_pct"]:g}%, yellow between; an error-level check that flags anything is at least yellow, an '
        f'info-level check at most {esc(lights["info_max"])}; grey: did not run.</p>'
        '<table><thead><tr><th></th><th>Code</th><th>Check</th><th>Severity</th><th class="num">Records</th>'
        f'<th class="num">%</th><th>Source</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        + (f'<details><summary>{len(quiet)} checks flagged nothing</summary><table><tbody>{"".join(quiet)}</tbody>'
           '</table></details>' if quiet else "")
        + "</section>"
    )


def section_columns(r: dict[str, Any]) -> str:
    """Which column was read as which role, which were left unmapped, which required roles have no column."""
    cols = r.get("columns")
    if not cols:
        return ""
    rows = []
    for row in cols["rows"]:
        kind = "missing" if not row["column"] else ("unmapped" if not row["role"] else "mapped")
        note = esc(row["note"]) + (f' · closest role: <code>{esc(row["suggested_role"])}</code>'
                                   if row.get("suggested_role") else "")
        rows.append(f'<tr class="{kind}" data-column="{esc(row["column"])}"><td>{esc(row["column"]) or "—"}</td>'
                    f'<td><code>{esc(row["role"])}</code></td><td class="muted">{note}</td></tr>')
    evidence = "; ".join(cols.get("evidence") or [])
    summary = (f'{fmt_num(len(cols["mapped"]))} columns mapped, {fmt_num(len(cols["unmapped"]))} unmapped (not '
               f'checked), {fmt_num(len(cols["missing_required"]))} required roles with no column.')
    return (
        '<section id="columns"><h2>Columns</h2>'
        f'<p>Read as <b>{esc(cols["object_type"])}</b>' + (f' <span class="muted">({esc(evidence)})</span>'
                                                         if evidence else "")
        + f'. {summary}</p>'
        '<table><thead><tr><th>Column</th><th>Role</th><th>Note</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></section>'
    )


def section_completeness(r: dict[str, Any]) -> str:
    c = r["completeness"]
    rows = []
    for f in c["fields"]:
        rows.append(
            f'<tr><td>{esc(f["field"])}</td><td>{esc(", ".join(f["columns"]) or "— not in source")}</td>'
            f'<td class="num">{fmt_num(f["weight"], 0)}</td><td class="num">{fmt_num(f["fill_rate"], 1)}%</td>'
            f'<td class="num">{"—" if f["valid_rate"] is None else fmt_num(f["valid_rate"], 1) + "%"}</td></tr>'
        )
    g = c["grades"]
    t = c["thresholds"]
    return (
        '<section id="completeness"><h2>Completeness</h2>'
        f'<p>Average score <b data-value="{esc(c["average"])}">{fmt_num(c["average"])}</b> (median {fmt_num(c["median"])}) '
        f'for {esc(c["object_type"])}. {light("green")}green ≥ {t["green"]:g}: {fmt_num(g["green"])} · '
        f'{light("yellow")}yellow ≥ {t["yellow"]:g}: {fmt_num(g["yellow"])} · {light("red")}red: {fmt_num(g["red"])}. '
        'A field counts only when it is filled with a real value that no check found invalid.</p>'
        f'<div class="charts"><div class="chart"><h3>Fill rate per field</h3>{bar_chart_fields(c["fields"])}</div>'
        f'<div class="chart"><h3>Distribution of scores</h3>{histogram_chart(c["histogram"], t)}</div></div>'
        '<table><thead><tr><th>Field</th><th>Columns</th><th class="num">Weight</th><th class="num">Filled</th>'
        f'<th class="num">Valid (of filled)</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _record(fields: dict[str, Any]) -> str:
    return "; ".join(f"{esc(k)}: {esc(v)}" for k, v in fields.items())


def section_findings(r: dict[str, Any]) -> str:
    blocks = []
    for f in r["top_findings"]:
        examples = "".join(
            f'<tr><td><code>{esc(e["record_id"])}</code></td><td class="val">{esc(e["value"])}</td>'
            f'<td>{esc(e["message"])}<div class="hint">{esc(e["hint"])}</div></td>'
            f'<td class="muted">{_record(e["record"])}</td></tr>'
            for e in f["examples"]
        )
        blocks.append(
            f'<div class="card" data-finding="{esc(f["rule"])}">{sev(f["severity"])} <code>{esc(f["rule"])}</code> '
            f'<b>{esc(f["name"])}</b> in <b>{esc(f["column"])}</b> — {fmt_num(f["records"])} records '
            f'({fmt_num(f["findings"])} findings)<div class="hint">{esc(f["message"])}</div>'
            '<table><thead><tr><th>Record</th><th>Value</th><th>Finding</th><th>Record</th></tr></thead>'
            f'<tbody>{examples}</tbody></table></div>'
        )
    s = r["findings_by_severity"]
    body = "".join(blocks) or '<p class="muted">No findings.</p>'
    return (f'<section id="findings"><h2>Top findings</h2><p>{sev("error")} {fmt_num(s["error"])} '
            f'{sev("warning")} {fmt_num(s["warning"])} {sev("info")} {fmt_num(s["info"])} — all of them in '
            f'<code>findings.csv</code>.</p>{body}</section>')


def _weight_bar(weight: float) -> str:
    """A small inline bar: green to the right for evidence for a match, red to the left against."""
    width = min(60.0, abs(weight) * 8)
    x = 60 if weight >= 0 else 60 - width
    color = "#2e9d4f" if weight >= 0 else "#d64545"
    return (f'<svg width="122" height="10" xmlns="http://www.w3.org/2000/svg"><line x1="60" y1="0" x2="60" y2="10" '
            f'stroke="#9aa0a6"/><rect x="{x:.1f}" y="1" width="{width:.1f}" height="8" fill="{color}"/></svg>')


def _evidence_html(evidence: Any) -> str:
    if isinstance(evidence, dict) and any(isinstance(v, dict) and "weight" in v for v in evidence.values()):
        # the matcher's per-field waterfall: field, comparison level, weight (log-odds)
        rows = []
        for field_name, v in evidence.items():
            if isinstance(v, dict) and isinstance(v.get("weight"), int | float):
                rows.append(f'<tr><td>{esc(field_name)}</td><td>{esc(v.get("level"))}</td>'
                            f'<td class="num">{v["weight"]:+.2f}</td><td>{_weight_bar(float(v["weight"]))}</td></tr>')
            else:
                rows.append(f'<tr><td>{esc(field_name)}</td><td colspan="3" class="val">{esc(v)}</td></tr>')
        return f"<table>{''.join(rows)}</table>"
    if isinstance(evidence, dict):
        cells = "".join(f"<tr><td>{esc(k)}</td><td class=\"val\">{esc(v)}</td></tr>" for k, v in evidence.items())
        return f"<table>{cells}</table>"
    if isinstance(evidence, list):
        return "<table>" + "".join(f'<tr><td class="val">{esc(v)}</td></tr>' for v in evidence) + "</table>"
    return f'<span class="val">{esc(evidence)}</span>'


def section_duplicates(r: dict[str, Any]) -> str:
    d = r["duplicates"]
    parts = [f'<section id="duplicates"><h2>Duplicates</h2><p>{fmt_num(d["clusters"])} clusters holding '
             f'{fmt_num(d["records"])} records; merging would remove {fmt_num(d["to_merge"])}. '
             + (f'Showing the {len(d["shown"])} largest.' if d["shown"] else "") + "</p>"]
    if r["run"]["parts"].get("dedupe", "ok") != "ok":
        parts.append(f'<p class="muted">Duplicate detection did not run: {esc(r["run"]["parts"].get("dedupe"))}</p>')
    for c in d["shown"]:
        members = "".join(f'<tr><td><code>{esc(m["record_id"])}</code></td><td>{_record(m["fields"])}</td></tr>'
                          for m in c["members"])
        pairs = "".join(
            f'<tr><td><code>{esc(p["left_id"])}</code> ↔ <code>{esc(p["right_id"])}</code></td>'
            f'<td class="num">{fmt_num(p["score"], 3)}</td><td>{esc(p["decision"])}</td>'
            f'<td>{_evidence_html(p["evidence"])}</td></tr>'
            for p in c["pairs"]
        )
        parts.append(
            f'<div class="card" data-cluster="{esc(c["cluster_id"])}"><b>Cluster {esc(c["cluster_id"])}</b> — '
            f'{c["size"]} records<table><tbody>{members}</tbody></table>'
            + (f'<details><summary>Per-field evidence</summary><table><thead><tr><th>Pair</th><th class="num">Score'
               f'</th><th>Decision</th><th>Evidence</th></tr></thead><tbody>{pairs}</tbody></table></details>'
               if pairs else "")
            + "</div>"
        )
    parts.append("</section>")
    return "".join(parts)


def section_changes(r: dict[str, Any]) -> str:
    c = r["changes"]
    by_rule = "".join(
        f'<tr><td><code>{esc(b["rule"])}</code></td><td>{esc(b["column"])}</td><td>{esc(b["confidence"])}</td>'
        f'<td class="num">{fmt_num(b["changes"])}</td></tr>' for b in c["by_rule"]
    )
    sample = "".join(
        f'<tr><td><code>{esc(s["record_id"])}</code></td><td>{esc(s["column"])}</td><td class="val">{esc(s["before"])}'
        f'</td><td class="arrow">→</td><td class="val">{esc(s["after"])}</td><td><code>{esc(s["rule"])}</code> '
        f'{esc(s["confidence"])}<div class="hint">{esc(s["reason"])}</div></td></tr>'
        for s in c["sample"]
    )
    not_run = r["run"]["parts"].get("standardize", "ok")
    note = f'<p class="muted">Standardization did not run: {esc(not_run)}</p>' if not_run != "ok" else ""
    return (
        f'<section id="changes"><h2>Proposed changes</h2>{note}<p>{fmt_num(c["total"])} changes on '
        f'{fmt_num(c["records"])} records: {fmt_num(c["fix"])} automatic (<code>fix</code>), {fmt_num(c["suggest"])} '
        'to review (<code>suggest</code>). Nothing was changed: run <code>crmclean standardize</code> / '
        '<code>plan</code> to apply. All changes are in <code>changes.csv</code>.</p>'
        + (f'<table><thead><tr><th>Rule</th><th>Column</th><th>Confidence</th><th class="num">Changes</th></tr></thead>'
           f'<tbody>{by_rule}</tbody></table>' if by_rule else "")
        + (f'<h3>Examples</h3><table><thead><tr><th>Record</th><th>Column</th><th>Before</th><th></th><th>After</th>'
           f'<th>Rule</th></tr></thead><tbody>{sample}</tbody></table>' if sample else "")
        + "</section>"
    )


def section_trend(r: dict[str, Any]) -> str:
    trend = r["trend"]
    if len(trend) < 2:
        return ('<section id="trend"><h2>Trend</h2><p class="muted">No earlier audit of this source in the run store;'
                ' the trend appears from the next audit on.</p></section>')
    bold = ' style="font-weight:600"'
    rows = "".join(
        f'<tr{bold if t.get("current") else ""}><td>{esc(t["started_at"])}</td>'
        f'<td><code>{esc(t["run_id"])}</code></td><td class="num">{fmt_num(t["records"])}</td>'
        f'<td class="num">{fmt_num(t["pct_clean"])}%</td><td class="num">{fmt_num(t["avg_completeness"])}</td>'
        f'<td class="num">{fmt_num(t["duplicate_records"])}</td><td class="num">{fmt_num(t["invalid_phones"])}</td>'
        f'<td class="num">{fmt_num(t["invalid_emails"])}</td><td class="num">{fmt_num(t["stale"])}</td></tr>'
        for t in trend
    )
    return (
        f'<section id="trend"><h2>Trend</h2>{trend_chart(trend)}<table><thead><tr><th>When</th><th>Run</th>'
        '<th class="num">Records</th><th class="num">% clean</th><th class="num">Completeness</th>'
        '<th class="num">Duplicates</th><th class="num">Invalid phones</th><th class="num">Invalid emails</th>'
        f'<th class="num">Stale</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def render_html(report: dict[str, Any]) -> str:
    run = report["run"]
    title = f"crmclean audit — {run['source']}"
    meta = (f"{esc(run['source'])} · {esc(run['object_type'])} · {fmt_num(report['kpis']['records'])} records · "
            f"run {esc(run['run_id'])} · {esc(run['started_at'])}"
            + (" · emails and phones masked" if run.get("mask_pii") else ""))
    body = "".join([
        section_kpis(report), section_columns(report), section_checks(report), section_completeness(report), section_findings(report),
        section_duplicates(report), section_changes(report), section_trend(report),
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>CRM data quality audit</h1><div class=\"meta\">{meta}</div></header>"
        f"<main>{body}</main>"
        f"<footer>crmclean {esc(report['generator']['version'])} · report schema {report['schema_version']} · "
        f"rules {esc(run.get('rules_file') or 'built-in')} {esc(run.get('rules_hash') or '')} · "
        f"the same content is in report.json</footer></body></html>\n"
    )
