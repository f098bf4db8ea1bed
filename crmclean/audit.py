"""The audit: standardization as proposals, validation, duplicate detection and completeness in one read-only pass.

``run_audit`` returns an :class:`AuditResult` holding every part's output plus the headline
KPIs; ``crmclean.reports`` turns it into report.html/json/md and CSVs. Nothing is written
to the source. Each audit is recorded in the run store so later audits show a trend.

"% clean records" (the headline KPI) is defined in :data:`CLEAN_DEFINITION`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from crmclean import ui
from crmclean.config import RulesFile, load_rules
from crmclean.rules.base import CHANGE_SCHEMA, find_rule
from crmclean.scoring import CompletenessResult, score_table
from crmclean.sources import SourceOptions, open_source
from crmclean.store import RunStore
from crmclean.table import RecordTable
from crmclean.validate import (
    FINDINGS_SCHEMA,
    SEVERITY_RANK,
    ValidationResult,
    exit_code_for,
    match_existing,
    validate_table,
)

CLEAN_DEFINITION = (
    "A record is clean when (1) it has no finding of severity error or warning (from validation checks or "
    "standardizers), (2) it is not a member of a duplicate cluster, and (3) standardization proposes no "
    "correcting `fix` change for it. Formatting-only changes do not count: the same text ignoring case, spaces "
    "and punctuation, the same phone digits (+7 495 … vs 8 (495) …), a country name written as its ISO code, "
    "or an empty cell filled from another column (ФИО split into first/last name); neither do changes of the "
    "rules listed in report.clean_ignore_rules (default TITLE001, canonical job titles). Info findings and "
    "`suggest` changes do not make a record unclean."
)

# KPI key -> label, in the order reports show them (values are all computed in compute_kpis).
KPI_LABELS: dict[str, str] = {
    "records": "Records",
    "pct_clean": "% clean records",
    "avg_completeness": "Average completeness",
    "duplicate_records": "Records in duplicate clusters",
    "invalid_phones": "Records with invalid phones",
    "invalid_emails": "Records with invalid emails",
    "stale": "Stale records",
    "orphans": "Orphan contacts",
}


@dataclass
class AuditOptions:
    """How to run an audit (CLI flags and the rules file's ``report:`` section)."""

    store: str | Path | None = None  # run store path (None: default location)
    record_run: bool = True  # write the run's summary to the run store
    command: str = "audit"
    today: date | None = None
    dedupe: bool = True
    standardize: bool = True
    against: str | None = None  # import target to look for already-existing records (validate --against)
    progress: Callable[[str], None] | None = None


@dataclass
class AuditResult:
    """Everything one audit found; reports render it, tests inspect it."""

    source: str
    table: RecordTable
    rules: RulesFile
    started_at: datetime
    findings: pl.DataFrame  # row, record_id, column, value, rule, severity, message, hint, origin
    changes: pl.DataFrame  # CHANGE_SCHEMA proposals (nothing applied)
    validation: ValidationResult
    completeness: CompletenessResult
    clusters: pl.DataFrame  # cluster_id, record_id, size (only clusters of two or more)
    pairs: pl.DataFrame  # left_id, right_id, score, decision, evidence
    kpis: dict[str, Any]
    checks: list[dict[str, Any]]
    clean: pl.Series  # per row: True when clean
    trend: list[dict[str, Any]] = field(default_factory=list)
    run_id: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    parts: dict[str, str] = field(default_factory=dict)  # part -> "ok" or why it did not run
    finished_at: datetime | None = None
    correcting_records: int = 0  # records with a correcting (not formatting-only) fix change

    def exit_code(self, fail_on: str) -> int:
        return exit_code_for(self.findings, fail_on)


# ---------------------------------------------------------------- parts


def _standardize(table: RecordTable, rules: RulesFile) -> tuple[Any, pl.DataFrame, pl.DataFrame]:
    """(StandardizeResult, changes, findings-with-row) of the standardizer, run as proposals only."""
    from crmclean.standardize import standardize_table

    std = standardize_table(table, rules)
    changes = std.changes if std.changes is not None else pl.DataFrame(schema=CHANGE_SCHEMA)
    findings = std.findings if std.findings is not None else pl.DataFrame(schema=FINDINGS_SCHEMA)
    if "row" not in findings.columns:
        rows = pl.DataFrame({"record_id": table.ids, "row": pl.int_range(0, table.frame.height, eager=True,
                                                                          dtype=pl.Int64)})
        findings = findings.join(rows, on="record_id", how="left")
    if "record_id" not in findings.columns:
        findings = findings.with_columns(
            pl.col("row").map_batches(lambda r: table.ids.gather(r), return_dtype=pl.String).alias("record_id")
        )
    if "rule" not in findings.columns:
        findings = findings.with_columns(pl.lit(None, dtype=pl.String).alias("rule"))
    findings = findings.select([pl.col(c).cast(t) for c, t in FINDINGS_SCHEMA.items()])
    return std, changes.select([pl.col(c).cast(t) for c, t in CHANGE_SCHEMA.items()]), findings


def _profile(table: RecordTable, rules: RulesFile, std: Any) -> pl.DataFrame:
    from crmclean.profile import build_profile

    try:
        return build_profile(table, rules, std=std)
    except TypeError:  # the early profile builder takes no standardization result
        return build_profile(table, rules)


def _dedupe(table: RecordTable, rules: RulesFile, profile: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(clusters: cluster_id, record_id, size — clusters of 2+ only; pairs with evidence)."""
    from crmclean.matching.engine import dedupe

    result = dedupe(table, rules, profile=profile)
    clusters = _as_frame(result.clusters)
    pairs = _as_frame(result.pairs)
    return normalize_clusters(clusters), normalize_pairs(pairs)


def _as_frame(obj: Any) -> pl.DataFrame:
    if isinstance(obj, pl.DataFrame):
        return obj
    if obj is None:
        return pl.DataFrame()
    if isinstance(obj, list) and obj and not isinstance(obj[0], dict):
        return pl.DataFrame([getattr(o, "__dict__", o) for o in obj])
    return pl.DataFrame(obj)


def normalize_clusters(clusters: pl.DataFrame) -> pl.DataFrame:
    """cluster_id, record_id, size for clusters of two or more records (whatever the engine's column names)."""
    schema = {"cluster_id": pl.String, "record_id": pl.String, "size": pl.Int64}
    if clusters.height == 0:
        return pl.DataFrame(schema=schema)
    cid = next((c for c in ("cluster_id", "cluster", "group_id") if c in clusters.columns), None)
    rid = next((c for c in ("record_id", "id", "member") if c in clusters.columns), None)
    if cid is None:
        raise RuntimeError(f"dedupe clusters frame has no cluster id column: {clusters.columns}")
    if rid is None and "record_ids" in clusters.columns:
        clusters = clusters.explode("record_ids").rename({"record_ids": "record_id"})
        rid = "record_id"
    if rid is None:
        raise RuntimeError(f"dedupe clusters frame has no record id column: {clusters.columns}")
    out = clusters.select(pl.col(cid).cast(pl.String).alias("cluster_id"), pl.col(rid).cast(pl.String).alias("record_id"))
    out = out.unique(maintain_order=True).with_columns(pl.len().over("cluster_id").cast(pl.Int64).alias("size"))
    return out.filter(pl.col("size") >= 2)


def normalize_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    schema = {"left_id": pl.String, "right_id": pl.String, "score": pl.Float64, "decision": pl.String,
              "evidence": pl.String}
    if pairs.height == 0:
        return pl.DataFrame(schema=schema)
    exprs = []
    for name, dtype in schema.items():
        if name in pairs.columns:
            col = pl.col(name)
            if name == "evidence" and pairs.schema[name] != pl.String:
                col = col.map_elements(lambda v: __import__("json").dumps(v, ensure_ascii=False, default=str),
                                       return_dtype=pl.String)
            exprs.append(col.cast(dtype, strict=False).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    return pairs.select(exprs)


# ---------------------------------------------------------------- findings


def with_origin(validation: ValidationResult) -> pl.DataFrame:
    """The validation findings (one per problem per cell) with ``origin``: check, or standardize for the
    findings of rules only the standardizer runs (TITLE001, INN005 …)."""
    checks = sorted({run.code for run in validation.checks})
    return validation.findings.with_columns(
        pl.when(pl.col("rule").is_in(checks)).then(pl.lit("check")).otherwise(pl.lit("standardize")).alias("origin")
    )


# ---------------------------------------------------------------- KPIs


def _records_for_kpi(findings: pl.DataFrame, kpi: str) -> int:
    """Records with a finding that feeds ``kpi``: of a rule with that kpi, and one its ``kpi_findings`` selects."""
    from crmclean.rules.base import all_rules

    rules = [c for c in all_rules() if getattr(c, "kpi", None) == kpi]
    if not rules or findings.height == 0:
        return 0
    mask = pl.lit(False)
    for cls in rules:
        mask = mask | ((pl.col("rule") == cls.code) & cls.kpi_findings())
    return int(findings.filter(mask).get_column("row").n_unique())


def correcting_changes(changes: pl.DataFrame, table: RecordTable, ignore_rules: Sequence[str] = ()) -> pl.DataFrame:
    """The `fix` changes that correct content, not just its format (see :data:`CLEAN_DEFINITION`)."""
    from crmclean.fields.country import country_codes

    fixes = changes.filter((pl.col("confidence") == "fix") & ~pl.col("rule").is_in(list(ignore_rules)))
    if fixes.height == 0:
        return fixes
    phone_cols = [c for c, r in table.roles.items() if r in ("phone", "mobile")]
    country_cols = [c for c, r in table.roles.items() if r == "country"]

    def key(col: str) -> pl.Expr:
        return pl.col(col).str.to_lowercase().str.replace_all("ё", "е").str.replace_all(r"[^\p{L}\p{N}]", "")

    fixes = fixes.with_columns(
        pl.when(pl.col("column").is_in(phone_cols))
        .then(pl.col("before").str.replace_all(r"\D", "").str.slice(-10) == pl.col("after").str.replace_all(r"\D", "")
              .str.slice(-10))
        .otherwise(key("before") == key("after")).fill_null(False).alias("_same"),
        (pl.col("before").is_null() | (pl.col("before").str.strip_chars() == "")).alias("_filled_empty"),
    )
    if country_cols:
        # only country cells are looked up (one lookup per distinct value)
        in_country = fixes.get_column("column").is_in(country_cols)
        before = fixes.get_column("before").zip_with(in_country, pl.Series([None] * fixes.height, dtype=pl.String))
        iso = country_codes(before)
        fixes = fixes.with_columns(
            (pl.col("_same") | (pl.lit(iso) == pl.col("after")).fill_null(False)).alias("_same")
        )
    return fixes.filter(~pl.col("_same") & ~pl.col("_filled_empty")).drop("_same", "_filled_empty")


def clean_mask(n: int, findings: pl.DataFrame, changes: pl.DataFrame, clusters: pl.DataFrame,
               ids: pl.Series) -> pl.Series:
    """Per row: clean under :data:`CLEAN_DEFINITION` (``changes``: the correcting fixes only)."""
    dirty = pl.Series([False] * n, dtype=pl.Boolean)
    bad_rows = findings.filter(pl.col("severity").is_in(["error", "warning"])).get_column("row").unique()
    if bad_rows.len():
        dirty = dirty.scatter(bad_rows, True)
    bad_ids = pl.concat([
        changes.get_column("record_id"),
        clusters.get_column("record_id"),
    ]).unique()
    if bad_ids.len():
        dirty = dirty | ids.is_in(bad_ids.implode())
    return ~dirty


def compute_kpis(result: AuditResult) -> dict[str, Any]:
    n = result.table.frame.height
    f = result.findings
    clean = int(result.clean.sum())
    sizes = result.clusters.unique("cluster_id").get_column("size") if result.clusters.height else pl.Series([], dtype=pl.Int64)
    fix_changes = result.changes.filter(pl.col("confidence") == "fix")
    severity_counts = dict(f.get_column("severity").value_counts().iter_rows()) if f.height else {}
    grades = result.completeness.grade_counts()

    def pct(x: int) -> float:
        return round(100.0 * x / n, 1) if n else 0.0

    return {
        "records": n,
        "clean_records": clean,
        "pct_clean": pct(clean),
        "avg_completeness": result.completeness.average,
        "median_completeness": result.completeness.median,
        "grade_green": grades["green"],
        "grade_yellow": grades["yellow"],
        "grade_red": grades["red"],
        "duplicate_clusters": int(sizes.len()),
        "duplicate_records": int(sizes.sum()) if sizes.len() else 0,
        "duplicates_to_merge": int((sizes - 1).sum()) if sizes.len() else 0,
        "invalid_phones": _records_for_kpi(f, "invalid_phone"),
        "invalid_emails": _records_for_kpi(f, "invalid_email"),
        "invalid_taxids": _records_for_kpi(f, "invalid_taxid"),
        "missing_required": _records_for_kpi(f, "missing_required"),
        "stale": _records_for_kpi(f, "stale"),
        "stale_never": _records_for_kpi(f, "stale_never"),
        "stale_unreadable": _records_for_kpi(f, "stale_unreadable"),
        "orphans": _records_for_kpi(f, "orphan"),
        "unassigned": _records_for_kpi(f, "unassigned"),
        "findings_error": int(severity_counts.get("error", 0)),
        "findings_warning": int(severity_counts.get("warning", 0)),
        "findings_info": int(severity_counts.get("info", 0)),
        "changes_fix": fix_changes.height,
        "changes_suggest": result.changes.height - fix_changes.height,
        "records_needing_fix": int(fix_changes.get_column("record_id").n_unique()) if fix_changes.height else 0,
        "records_needing_correction": result.correcting_records,
    }


def check_light(severity: str, pct: float, rules: RulesFile) -> str:
    """Traffic light of one check: share of records flagged against report.lights thresholds.

    Green when nothing (or at most yellow_pct %) is flagged; red above red_pct %; yellow between.
    An error-level check that flags anything is at least yellow; an info-level check is at most
    ``info_max``.
    """
    lights = rules.report.lights
    if pct <= 0:
        return "green"
    light = "red" if pct > lights.red_pct else "yellow" if pct > lights.yellow_pct else "green"
    if severity == "error" and light == "green":
        light = "yellow"
    if severity == "info" and light == "red":
        light = lights.info_max
    if severity == "info" and lights.info_max == "green":
        light = "green"
    return light


def check_table(result: AuditResult) -> list[dict[str, Any]]:
    """One row per check (and per standardizer that flagged something): records flagged, %, light."""
    n = result.table.frame.height
    f = result.findings
    per_rule = (
        f.group_by("rule").agg(pl.len().alias("findings"), pl.col("row").n_unique().alias("records"),
                               pl.col("severity").first().alias("severity"))
        if f.height else pl.DataFrame(schema={"rule": pl.String, "findings": pl.UInt32, "records": pl.UInt32,
                                              "severity": pl.String})
    )
    stats = {r["rule"]: r for r in per_rule.iter_rows(named=True)}
    rows: list[dict[str, Any]] = []
    seen = set()
    for run in result.validation.checks:
        s = stats.get(run.code, {})
        records = int(s.get("records", 0))
        pct = round(100.0 * records / n, 2) if n else 0.0
        rows.append({
            "code": run.code, "name": run.name, "summary": run.summary, "origin": "check",
            "severity": run.severity, "findings": int(s.get("findings", 0)), "records": records, "pct": pct,
            "light": "grey" if run.skipped else check_light(run.severity, pct, result.rules),
            "skipped": run.skipped, "seconds": round(run.seconds, 3),
        })
        seen.add(run.code)
    for code, s in sorted(stats.items(), key=lambda kv: str(kv[0])):
        if code in seen:
            continue
        cls = find_rule(code) if code else None
        records = int(s["records"])
        pct = round(100.0 * records / n, 2) if n else 0.0
        rows.append({
            "code": code, "name": cls.name if cls else code, "summary": cls.summary if cls else "",
            "origin": "standardize", "severity": s["severity"], "findings": int(s["findings"]), "records": records,
            "pct": pct, "light": check_light(s["severity"], pct, result.rules), "skipped": None, "seconds": None,
        })
    order = {"red": 0, "yellow": 1, "green": 2, "grey": 3}
    rows.sort(key=lambda r: (order[r["light"]], -SEVERITY_RANK.get(r["severity"], 0), -r["records"], r["code"]))
    return rows


# ---------------------------------------------------------------- run store


def _trend_entry(run_id: str, started: Any, kpis: dict[str, Any], current: bool = False) -> dict[str, Any]:
    return {"run_id": run_id, "started_at": str(started)[:19], "current": current,
            **{k: kpis.get(k) for k in ("records", "pct_clean", "avg_completeness", "duplicate_records",
                                        "invalid_phones", "invalid_emails", "stale", "orphans")}}


# ---------------------------------------------------------------- the audit


def run_audit(
    source: str | RecordTable,
    rules: RulesFile | str | Path | None = None,
    source_options: SourceOptions | None = None,
    options: AuditOptions | None = None,
) -> AuditResult:
    """Audit ``source`` (a path / CRM spec, or an already-read table) read-only and return every result."""
    options = options or AuditOptions()
    say = options.progress or (lambda message: None)
    started_at = datetime.now(UTC)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    if isinstance(source, RecordTable):
        table = source
        rules_file = rules if isinstance(rules, RulesFile) else load_rules(rules)
        spec = table.source
    else:
        say("reading source")
        table, rules_file, _ = open_source(source, str(rules) if isinstance(rules, Path) else rules, source_options)
        spec = source
    lap("read")
    parts: dict[str, str] = {}

    std: Any = None
    std_findings = pl.DataFrame(schema=FINDINGS_SCHEMA)
    std_rules: list[str] = []
    changes = pl.DataFrame(schema=CHANGE_SCHEMA)
    if options.standardize:
        say("standardizing (proposals only)")
        try:
            std, changes, std_findings = _standardize(table, rules_file)
            std_rules = list(getattr(std, "rules_run", []))
            parts["standardize"] = "ok"
        except ImportError as exc:
            parts["standardize"] = f"not available ({exc})"
            ui.warn(f"standardization not available: {exc}")
    else:
        parts["standardize"] = "disabled"
    lap("standardize")

    profile = None
    try:
        profile = _profile(table, rules_file, std)
    except ImportError:
        profile = None
    lap("profile")

    derived = getattr(std, "derived", None) if std is not None else None
    # the standardized copy of the table is no longer needed: free it before the memory-hungry steps
    std = None
    gc.collect()

    existing = None
    if options.against:
        say(f"matching against {options.against}")
        existing = match_existing(table, options.against, rules_file, profile)
        parts["against"] = "ok"
    lap("against")

    say("validating")
    validation = validate_table(table, rules_file, profile=profile, today=options.today, existing=existing,
                                derived=derived if isinstance(derived, pl.DataFrame) else None,
                                std_findings=std_findings, std_rules=std_rules)
    parts["validate"] = "ok"
    derived = None
    if validation.context is not None:
        validation.context.release(keep=("_empty",))  # scoring reuses the blank/placeholder masks only
    gc.collect()
    lap("validate")

    clusters = normalize_clusters(pl.DataFrame())
    pairs = normalize_pairs(pl.DataFrame())
    if options.dedupe and table.object_type in ("deals", "activities"):
        parts["dedupe"] = f"not for {table.object_type} (the matcher compares people and companies)"
    elif options.dedupe:
        say("finding duplicates")
        try:
            clusters, pairs = _dedupe(table, rules_file, profile)
            parts["dedupe"] = "ok"
        except ImportError as exc:
            parts["dedupe"] = f"not available ({exc})"
            ui.warn(f"duplicate detection not available: {exc}")
    else:
        parts["dedupe"] = "disabled"
    lap("dedupe")

    findings = with_origin(validation)
    say("scoring completeness")
    completeness = score_table(table, rules_file, findings, validation.context)
    parts["score"] = "ok"
    lap("score")

    correcting = correcting_changes(changes, table, rules_file.report.clean_ignore_rules)
    clean = clean_mask(table.frame.height, findings, correcting, clusters, table.ids)
    result = AuditResult(
        source=spec, table=table, rules=rules_file, started_at=started_at, findings=findings, changes=changes,
        validation=validation, completeness=completeness, clusters=clusters, pairs=pairs, kpis={}, checks=[],
        clean=clean, timings=timings, parts=parts,
        correcting_records=int(correcting.get_column("record_id").n_unique()) if correcting.height else 0,
    )
    result.kpis = compute_kpis(result)
    result.checks = check_table(result)
    lap("kpis")

    if options.record_run:
        with RunStore(options.store) as store:
            earlier = store.trend(spec, command=options.command)
            run_id = store.start_run(options.command, spec, rules_hash=rules_file.content_hash or None,
                                     details={"object_type": table.object_type})
            counts = {"records": table.frame.height, "findings": findings.height, "changes": changes.height,
                      "clusters": result.kpis["duplicate_clusters"]}
            store.finish_run(run_id, "ok", counts=counts, kpis=result.kpis,
                             details={"object_type": table.object_type, "parts": parts})
            result.run_id = run_id
            result.trend = [_trend_entry(r.run_id, r.started_at, r.kpis) for r in earlier]
    result.trend.append(_trend_entry(result.run_id or "current", started_at.replace(tzinfo=None), result.kpis, True))
    result.finished_at = datetime.now(UTC)
    lap("store")
    return result


def severity_counts(findings: pl.DataFrame) -> dict[str, int]:
    counts = dict(findings.get_column("severity").value_counts().iter_rows()) if findings.height else {}
    return {s: int(counts.get(s, 0)) for s in ("error", "warning", "info")}
