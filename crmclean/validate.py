"""The validation engine: run the configured checks over a record table and return findings with record ids."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from crmclean.config import RulesFile
from crmclean.config.check import check_rules
from crmclean.errors import UsageError
from crmclean.rules.base import FINDING_SCHEMA, Rule, all_rules, find_rule, ignored_rules, is_check, rule_options
from crmclean.rules.checks._common import CheckContext
from crmclean.table import RecordTable

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
FAIL_ON = ("error", "warning", "never")

# Findings as the engine returns them: FINDING_SCHEMA plus the row index into the table.
FINDINGS_SCHEMA: dict[str, Any] = {"row": pl.Int64, **FINDING_SCHEMA}


@dataclass
class CheckRun:
    """What one check did: how many findings, on how many records, how long it took."""

    code: str
    name: str
    summary: str
    severity: str
    kpi: str | None
    invalidates: bool
    findings: int = 0
    records: int = 0
    seconds: float = 0.0
    skipped: str | None = None  # why the check did not run (not for this object type, disabled ...)


@dataclass
class ValidationResult:
    findings: pl.DataFrame  # FINDINGS_SCHEMA, sorted by row
    checks: list[CheckRun] = field(default_factory=list)
    object_type: str = "contacts"
    records: int = 0
    context: CheckContext | None = None  # holds the per-column masks scoring reuses
    columns: ColumnReport | None = None  # which column was read as which role, what is unmapped or missing

    def count(self, severity: str) -> int:
        return int((self.findings.get_column("severity") == severity).sum())

    def worst(self) -> str | None:
        present = set(self.findings.get_column("severity").unique().to_list())
        for sev in ("error", "warning", "info"):
            if sev in present:
                return sev
        return None


@dataclass
class ColumnReport:
    """The gate's first answer: each column's role, the columns left unmapped, the required roles with no column."""

    mapped: dict[str, str]  # column -> role, in column order
    unmapped: list[str]
    missing: list[str]  # required specs ("email|phone") no column answers
    object_type: str
    evidence: list[str]
    id_column: str

    def rows(self) -> list[dict[str, str]]:
        """One row per column (the report's "Columns" table): column, role, note."""
        out = [{"column": self.id_column, "role": "id", "note": "record id"}] if not self.id_column.startswith("__") \
            else []
        out += [{"column": c, "role": r, "note": ""} for c, r in self.mapped.items()]
        out += [{"column": c, "role": "", "note": "unmapped: not checked (--map \"Header=role\")"}
                for c in self.unmapped]
        out += [{"column": "", "role": spec, "note": "required, no column: an error on every record"}
                for spec in self.missing]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"object_type": self.object_type, "evidence": self.evidence, "mapped": self.mapped,
                "unmapped": self.unmapped, "missing_required": self.missing, "id_column": self.id_column}


def column_report(table: RecordTable, rules: RulesFile) -> ColumnReport:
    """Which columns the gate understood, before any check runs (see :func:`ensure_recognized`)."""
    from crmclean.rules.checks.required import DEFAULT_REQUIRED

    configured = rules.validate_.required
    if configured is not None and table.object_type in configured:
        specs = list(configured[table.object_type])
    else:
        specs = list(DEFAULT_REQUIRED.get(table.object_type, []))
    by_role = table.by_role
    columns = set(table.frame.columns)

    def answered(spec: str) -> bool:
        return any(part.strip() in columns or by_role.get(part.strip()) for part in spec.split("|"))

    mapped = {c: table.roles[c] for c in table.data_columns if c in table.roles}
    unmapped = [c for c in table.data_columns if c not in table.roles and c != table.id_column]
    return ColumnReport(mapped=mapped, unmapped=unmapped, missing=[s for s in specs if not answered(s)],
                        object_type=table.object_type, evidence=list(table.object_evidence),
                        id_column=table.id_column)


def ensure_recognized(table: RecordTable, report: ColumnReport) -> None:
    """Fail closed: a file none of whose columns is recognized is not validated (exit 2, with the list)."""
    if report.mapped or not report.unmapped:
        return
    from crmclean.role_suggest import suggest_role

    def shown(column: str) -> str:
        hint = suggest_role(column)  # the closest role, as `rules infer` prints it: 'Emial' (email?)
        return f"{column!r} ({hint.role}?)" if hint else repr(column)

    listed = ", ".join(shown(c) for c in report.unmapped[:20])
    raise UsageError(
        f"{table.source}: no column recognized ({listed}); nothing could be checked",
        hint='map them: --map "Header=role" (see `crmclean rules infer`), or --header-row N if the header '
             "is not the first row",
    )


def missing_column_findings(table: RecordTable, report: ColumnReport, rules: RulesFile) -> pl.DataFrame | None:
    """REQ001 errors for a required role no column answers: every record misses it (never a silent skip).

    A spec the rules file lists itself is REQ001's own business; this covers the built-in requirements.
    """
    configured = rules.validate_.required
    if configured is not None and table.object_type in configured:
        return None
    if not report.missing or table.frame.height == 0:
        return None
    from crmclean.rules.base import find_rule

    req = find_rule("REQ001")
    if req is None or req in ignored_rules(rules):
        return None
    parts = []
    for spec in report.missing:
        parts.append(pl.DataFrame({
            "row": pl.int_range(0, table.frame.height, dtype=pl.Int64, eager=True),
            "column": pl.Series([spec] * table.frame.height, dtype=pl.String),
            "value": pl.Series([None] * table.frame.height, dtype=pl.String),
            "rule": "REQ001", "severity": "error",
            "message": f"required field `{spec}` has no column in this file",
            "hint": 'map the column that holds it: --map "Header=role", or add the column before import',
        }))
    return pl.concat(parts)


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def selected_checks(rules: RulesFile, select: Sequence[str] | None = None) -> list[Rule]:
    """Instances of the rules ``validate`` runs (checks, and standardizers that flag), with their options."""
    settings = rules.validate_
    chosen = list(select) if select else settings.select
    everything = [c for c in all_rules() if is_check(c)]
    if any(k.upper() == "ALL" for k in chosen):
        classes = list(everything)
    else:
        classes = []
        for key in chosen:
            cls = find_rule(key)
            if cls is None or not is_check(cls):
                raise UsageError(f"unknown check {key!r}", hint="see `crmclean rules list`")
            if cls not in classes:
                classes.append(cls)
    ignored = ignored_rules(rules)
    out = []
    for cls in classes:
        if cls in ignored:
            continue
        check = cls(rule_options(cls, rules))
        if not check.options.enabled:
            continue
        out.append(check)
    return out


def make_context(
    table: RecordTable,
    rules: RulesFile,
    *,
    profile: pl.DataFrame | None = None,
    today: date | None = None,
    existing: pl.DataFrame | None = None,
    derived: pl.DataFrame | None = None,
    std_findings: pl.DataFrame | None = None,
) -> CheckContext:
    picklists = {f.name: tuple(f.picklist) for f in table.fields if f.picklist}
    return CheckContext(
        frame=table.frame,
        roles=table.by_role,
        id_column=table.id_column,
        default_region=rules.defaults.region,
        settings=rules,
        object_type=table.object_type,
        profile=profile,
        today=today or rules.validate_.today or date.today(),
        picklists=picklists,
        existing=existing,
        derived=derived,
        std_findings=std_findings,
    )


def validate_table(
    table: RecordTable,
    rules: RulesFile | None = None,
    *,
    profile: pl.DataFrame | None = None,
    today: date | None = None,
    select: Sequence[str] | None = None,
    existing: pl.DataFrame | None = None,
    derived: pl.DataFrame | None = None,
    std_findings: pl.DataFrame | None = None,
    std_rules: Sequence[str] | None = None,
) -> ValidationResult:
    """Run every selected check on ``table``; findings carry the record id and the row index.

    ``existing`` (row, existing_id, score) lists records already in an import target (see
    :func:`match_existing`); EXISTS001 turns them into findings.

    ``std_findings`` are the findings of a standardization run over the same table and rules
    (``std_rules``: the codes it ran). A rule that both fixes and flags (PHONE002, INN002 …) is
    not run again: its findings are taken from there. The other standardizers' findings are
    passed through, so the result holds exactly one finding per problem per cell.
    """
    rules = check_rules(rules or RulesFile())
    columns = column_report(table, rules)
    if table.kind in ("csv", "xlsx", "xls", "ods", "html", "parquet", "jsonl"):
        ensure_recognized(table, columns)
    ctx = make_context(table, rules, profile=profile, today=today, existing=existing, derived=derived,
                       std_findings=std_findings)
    parts: list[pl.DataFrame] = []
    runs: list[CheckRun] = []
    ran_std = set(std_rules or ()) if std_findings is not None else set()
    selected = selected_checks(rules, select)
    for check in selected:
        sev = getattr(check.options, "severity", None) or check.severity
        run = CheckRun(check.code, check.name, check.summary, sev, check.kpi, check.invalidates)
        runs.append(run)
        if not check.applies_to(table.object_type):
            run.skipped = f"not for {table.object_type}"
            continue
        if table.frame.height == 0:  # a header-only file or an empty CRM object: a clean 0-record result
            run.skipped = "no records"
            continue
        started = time.perf_counter()
        if check.code in ran_std and std_findings is not None:
            found = _row_findings(std_findings.filter(pl.col("rule") == check.code))
        else:
            found = check.apply(ctx).findings  # type: ignore[attr-defined]
        run.seconds = time.perf_counter() - started
        if found is None or found.height == 0:
            continue
        found = found.with_columns(
            pl.col("row").cast(pl.Int64),
            pl.lit(check.code).alias("rule"),
            pl.col("severity").fill_null(sev),
        )
        run.findings = found.height
        run.records = found.get_column("row").n_unique()
        parts.append(found)
    if std_findings is not None and std_findings.height:
        parts.append(_passed_through(std_findings, rules, {c.code for c in selected}))
    if any(c.code == "REQ001" and c.applies_to(table.object_type) for c in selected):
        missing = missing_column_findings(table, columns, rules)
        if missing is not None:
            parts.append(missing)
            for run in runs:
                if run.code == "REQ001":
                    run.findings += missing.height
                    run.records = table.frame.height
    if parts:
        findings = pl.concat(parts, how="diagonal_relaxed")
        ids = table.frame.get_column(table.id_column)
        findings = findings.with_columns(pl.col("row").map_batches(lambda r: ids.gather(r), return_dtype=pl.String)
                                         .alias("record_id"))
        findings = findings.select([pl.col(c).cast(t) for c, t in FINDINGS_SCHEMA.items()]).sort("row", maintain_order=True)
    else:
        findings = empty_findings()
    return ValidationResult(findings=findings, checks=runs, object_type=table.object_type, records=table.frame.height,
                            context=ctx, columns=columns)


def _row_findings(found: pl.DataFrame) -> pl.DataFrame:
    return found.select("row", "column", "value", "severity", "message", "hint")


def _passed_through(std_findings: pl.DataFrame, rules: RulesFile, taken: set[str]) -> pl.DataFrame:
    """Standardizer findings that are not a selected check's: only-standardize rules (TITLE001, INN005 …).

    A rule that also validates is reported by validate (above) or not at all (not selected, ignored).
    """
    ignored = {c.code for c in ignored_rules(rules)}
    flagging = {c.code for c in all_rules() if is_check(c)}
    drop = taken | ignored | flagging
    return std_findings.filter(~pl.col("rule").is_in(sorted(drop))).select(
        "row", "column", "value", "rule", "severity", "message", "hint")


def check_fail_on(fail_on: str) -> str:
    """The --fail-on value, or a UsageError naming the allowed ones."""
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)} (got {fail_on!r})")
    return fail_on


def exit_code_for(findings: pl.DataFrame, fail_on: str) -> int:
    """1 when a finding reaches ``fail_on`` (error, warning), else 0; ``never`` always 0."""
    check_fail_on(fail_on)
    if fail_on == "never" or findings.height == 0:
        return 0
    threshold = SEVERITY_RANK[fail_on]
    worst = max(SEVERITY_RANK.get(s, 0) for s in findings.get_column("severity").unique().to_list())
    return 1 if worst >= threshold else 0


def failing_findings(findings: pl.DataFrame, fail_on: str, limit: int = 10) -> tuple[pl.DataFrame, int]:
    """(the first ``limit`` findings at or above ``fail_on``, worst first then in file order; how many there are).

    What the gate prints when it fails, so a steward sees which records stopped the import without --out.
    """
    check_fail_on(fail_on)
    if fail_on == "never" or findings.height == 0:
        return findings.head(0), 0
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=0, return_dtype=pl.Int8)
    failing = findings.filter(rank >= SEVERITY_RANK[fail_on]).with_columns(rank.alias("_rank"))
    by = ["_rank", "row"] if "row" in failing.columns else ["_rank"]
    shown = failing.sort(by, descending=[True, False][: len(by)], maintain_order=True).drop("_rank")
    return shown.head(limit), failing.height


def match_existing(table: RecordTable, other: str, rules: RulesFile, profile: pl.DataFrame | None = None
                   ) -> pl.DataFrame:
    """Records of ``table`` that already exist in ``other`` (file or CRM spec): row, existing_id, score.

    Uses the matcher's ``link`` (the same comparisons as dedupe) and keeps the links it decides are
    matches; "review" links are not reported as existing.
    """
    from crmclean.matching.engine import link
    from crmclean.sources import open_source

    # the rules' columns, id column and format describe the file being imported, not the target
    target_rules = RulesFile.model_validate({"source": {"credentials_file": rules.source.credentials_file}})
    target, _, connector = open_source(other, target_rules)
    linked = link(table, target, rules, source_profile=profile)
    matches = linked.matches.filter(pl.col("decision") == "match")
    rows = pl.DataFrame({"source_id": table.ids,
                         "row": pl.int_range(0, table.frame.height, dtype=pl.Int64, eager=True)})
    found = matches.select(
        pl.col("source_id").cast(pl.String), pl.col("other_id").cast(pl.String).alias("existing_id"),
        pl.col("score").cast(pl.Float64),
    ).join(rows, on="source_id").select("row", "existing_id", "score")
    # a CRM that finds duplicates itself (Bitrix24's crm.duplicate.findbycomm) adds what it knows
    find_existing = getattr(connector, "find_existing", None)
    if callable(find_existing):
        by_role = table.by_role
        phones = [c for r in ("phone", "mobile") for c in by_role.get(r, [])]
        emails = [c for r in ("email", "email2") for c in by_role.get(r, [])]
        if phones or emails:
            found = pl.concat([found, find_existing(table.frame, phones, emails)], how="vertical_relaxed")
    return found
