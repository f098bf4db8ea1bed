"""The standardization engine: runs the selected standardizers in order over a record table and logs every change.

Each rule sees the table as the rules before it left it (``RuleContext.frame``). A rule
returns whole-column edits; the engine diffs them against the current values, logs
every changed cell (record id, column, before, after, rule code, confidence, reason),
applies ``fix`` edits (and ``suggest`` ones only with ``apply_suggestions``), and keeps
the derived columns rules compute (phone extensions, name parts, seniority …) for the
match profile and, by ``standardize.derived``, for the output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmclean.config import RulesFile
from crmclean.config.check import check_rules
from crmclean.rules.base import (
    CHANGE_SCHEMA,
    FINDING_SCHEMA,
    ColumnEdit,
    Rule,
    RuleContext,
    RuleResult,
    Standardizer,
    all_rules,
    find_rule,
    ignored_rules,
    rule_options,
)
from crmclean.table import RecordTable

STATS_SCHEMA: dict[str, Any] = {
    "rule": pl.String,
    "name": pl.String,
    "fixed": pl.Int64,  # cells changed and applied
    "rows_fixed": pl.Int64,  # records with at least one applied change
    "suggested": pl.Int64,  # cells with a proposed (not applied) change
    "flagged": pl.Int64,  # findings
    "seconds": pl.Float64,
}


@dataclass
class StandardizeContext(RuleContext):
    """RuleContext plus the derived columns computed so far (a later rule may read an earlier rule's parts)."""

    derived: dict[str, pl.Series] = field(default_factory=dict)


@dataclass
class StandardizeResult:
    """The standardized table, the change log, findings, per-rule statistics and every derived column."""

    table: RecordTable  # fix edits applied; same rows, columns and order (+ derived columns by config)
    changes: pl.DataFrame  # CHANGE_SCHEMA
    findings: pl.DataFrame  # FINDING_SCHEMA
    stats: pl.DataFrame  # STATS_SCHEMA, one row per rule that ran
    derived: pl.DataFrame  # every derived column, row-aligned with ``table`` (whether written or not)
    rules_run: list[str] = field(default_factory=list)
    apply_suggestions: bool = False

    @property
    def unknown_titles(self) -> int:
        f = self.findings
        return int(f.filter(pl.col("rule") == "TITLE001").height) if f.height else 0

    def summary(self) -> dict[str, Any]:
        """Counts for printing and for the run store."""
        fixes = self.changes.filter(pl.col("confidence") == "fix") if self.changes.height else self.changes
        return {
            "records": self.table.frame.height,
            "changes": int(self.changes.height),
            "fixed": int(fixes.height),
            "suggested": int(self.changes.height - fixes.height),
            "records_changed": int(fixes.get_column("record_id").n_unique()) if fixes.height else 0,
            "findings": int(self.findings.height),
            "unknown_titles": self.unknown_titles,
            "rules": self.stats.to_dicts(),
        }


# ---------------------------------------------------------------- rule selection


def select_rules(settings: RulesFile | None = None) -> list[Standardizer]:
    """The standardizers to run, configured and in order (``standardize.select/ignore/order/rules``)."""
    settings = check_rules(settings or RulesFile.model_validate({}))
    std = settings.standardize
    available = [c for c in all_rules() if c.kind == "standardize"]

    def resolve(key: str, where: str) -> type[Rule]:
        cls = find_rule(key)
        assert cls is not None, f"standardize.{where}: {key!r} passed check_rules"
        return cls

    if any(k.upper() == "ALL" for k in std.select):
        chosen = list(available)
    else:
        chosen = []
        for key in std.select:
            cls = resolve(key, "select")
            if cls not in chosen:
                chosen.append(cls)
        # a rule given options is clearly wanted even if `select` forgot it
        for key in std.rules:
            cls = resolve(key, "rules")
            if cls not in chosen:
                chosen.append(cls)
    # validate.ignore switches off a rule that only flags everywhere; one that also fixes keeps fixing
    # (its findings are dropped in _run_rules)
    ignored = {resolve(k, "ignore") for k in std.ignore} | {c for c in ignored_rules(settings) if not c.fixes}
    chosen = [c for c in chosen if c not in ignored]
    first = [resolve(k, "order") for k in std.order]
    ordered = [c for c in first if c in chosen]
    ordered += sorted((c for c in chosen if c not in ordered), key=lambda c: (c.order, c.code))
    rules: list[Standardizer] = []
    for cls in ordered:
        rule = cls(rule_options(cls, settings))  # options passed check_rules
        if rule.options.enabled:
            assert isinstance(rule, Standardizer)
            rules.append(rule)
    return rules


# ---------------------------------------------------------------- the engine


def _as_series(value: pl.Series | str, n: int, name: str) -> pl.Series:
    if isinstance(value, pl.Series):
        return value.cast(pl.String).alias(name)
    return pl.Series(name, [value], dtype=pl.String).extend_constant(value, n - 1) if n else pl.Series(
        name, [], dtype=pl.String)


def _change_rows(
    ids: pl.Series, column: str, before: pl.Series, after: pl.Series, changed: pl.Series, rule: str,
    confidence: pl.Series, reason: pl.Series,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ids.filter(changed),
            "column": pl.Series([column], dtype=pl.String).extend_constant(column, int(changed.sum()) - 1),
            "before": before.filter(changed),
            "after": after.filter(changed),
            "rule": pl.Series([rule], dtype=pl.String).extend_constant(rule, int(changed.sum()) - 1),
            "confidence": confidence.filter(changed),
            "reason": reason.filter(changed),
        },
        schema=CHANGE_SCHEMA,
    )


def standardize_table(
    table: RecordTable,
    rules: RulesFile | None = None,
    *,
    apply_suggestions: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    profile_only: bool = False,
) -> StandardizeResult:
    """Run every selected standardizer over ``table``; see :class:`StandardizeResult`.

    Idempotent: standardizing the result again changes nothing (suggestions are proposed
    again, but never applied unless asked).

    ``profile_only`` computes just what the match profile reads (the standardized values and
    the derived columns): rules that only flag or only propose are skipped, and the change
    log and findings are left empty (stats still count fixes); a rule may leave out work and
    derived columns that only serve proposals and findings (``RuleContext.proposals``: PHONE001's
    reasons for PHONE002). ``build_profile`` uses it.
    """
    from crmclean.fields._unique import fork_pool
    from crmclean.rules.standardizers._common import clear_memo

    settings = rules or RulesFile.model_validate({})
    apply_suggestions = apply_suggestions or settings.standardize.apply_suggestions
    selected = select_rules(settings)
    clear_memo()
    try:
        # the rules' process pool (map_unique), forked once here, before the rule threads start
        with fork_pool(table.frame.height):
            return _run_rules(table, settings, selected, apply_suggestions, progress, profile_only)
    finally:
        clear_memo()


def _run_rules(
    table: RecordTable,
    settings: RulesFile,
    selected: list[Standardizer],
    apply_suggestions: bool,
    progress: Callable[[int, int, str], None] | None,
    profile_only: bool,
) -> StandardizeResult:
    if profile_only:
        selected = [r for r in selected if r.changes_values(apply_suggestions)]
    frame = table.frame
    n = frame.height
    ids = frame.get_column(table.id_column).cast(pl.String)
    ctx = StandardizeContext(
        frame=frame,
        roles=table.by_role,
        id_column=table.id_column,
        default_region=(settings.defaults.region or "RU").upper(),
        settings=settings,
        object_type=table.object_type,
        proposals=not profile_only or apply_suggestions,
    )
    done, frame = _run_concurrently(selected, ctx, ids, apply_suggestions, progress, profile_only)
    changes: list[pl.DataFrame] = []
    findings: list[pl.DataFrame] = []
    muted = {c.code for c in ignored_rules(settings)}
    stats: list[dict[str, Any]] = []
    carried: set[str] = set()
    derived_columns: dict[str, pl.Series] = {}
    for i, rule in enumerate(selected):  # the logs, derived columns and statistics in the rules' order
        outcome = done[i]
        result = outcome.result
        changes += outcome.logs
        flagged = 0
        # a rule's findings make sense only for its object types (EMAIL005: role addresses on people, not companies)
        if (result.findings is not None and result.findings.height and not profile_only and rule.code not in muted
                and rule.applies_to(table.object_type)):
            f = result.findings
            found = f.select(
                ids.gather(f.get_column("row").cast(pl.Int64)).alias("record_id"),
                pl.col("column").cast(pl.String),
                pl.col("value").cast(pl.String),
                pl.lit(rule.code, dtype=pl.String).alias("rule"),
                pl.col("severity").cast(pl.String),
                pl.col("message").cast(pl.String),
                pl.col("hint").cast(pl.String),
            )
            findings.append(found)
            flagged = found.height
        derived_columns.update(_derived_of(result, n))
        carried |= getattr(result, "carries", set())
        stats.append({
            "rule": rule.code, "name": rule.name, "fixed": outcome.fixed, "rows_fixed": outcome.rows_fixed,
            "suggested": outcome.suggested, "flagged": flagged, "seconds": round(outcome.seconds, 4),
        })
    derived = pl.DataFrame(derived_columns) if derived_columns else pl.DataFrame(schema={})
    out_frame = _with_derived(frame, derived, settings.standardize.derived, carried)
    change_log = pl.concat(changes) if changes else pl.DataFrame(schema=CHANGE_SCHEMA)
    finding_log = pl.concat(findings) if findings else pl.DataFrame(schema=FINDING_SCHEMA)
    return StandardizeResult(
        table=table.with_frame(out_frame),
        changes=change_log,
        findings=finding_log,
        stats=pl.DataFrame(stats, schema=STATS_SCHEMA),
        derived=derived,
        rules_run=[r.code for r in selected],
        apply_suggestions=apply_suggestions,
    )


@dataclass
class _Outcome:
    """One rule's run: its result and what its edits changed."""

    result: RuleResult
    fixed: int
    suggested: int
    rows_fixed: int
    logs: list[pl.DataFrame]
    seconds: float


def _derived_of(result: RuleResult, n: int) -> dict[str, pl.Series]:
    return {name: series.alias(name) for name, series in result.derived.items() if len(series) == n}


def _run_concurrently(
    selected: list[Standardizer],
    ctx: StandardizeContext,
    ids: pl.Series,
    apply_suggestions: bool,
    progress: Callable[[int, int, str], None] | None,
    profile_only: bool,
) -> tuple[dict[int, _Outcome], pl.DataFrame]:
    """Run the rules, those whose footprints (Rule.footprint) do not meet at the same time, in threads.

    Rule i starts once every earlier rule whose footprint meets its own has been applied, on the table as it
    is then: its own columns hold exactly what running the rules one by one in order would have left there
    (a rule that meets none of them never touched them). A rule without a footprint waits for every rule
    before it and holds back every rule after it, so it sees the whole table and every derived column as
    the sequential run. A rule's edits are applied to its own table in its thread and the columns it changed set
    in the engine's when it finishes; edits to one column keep the rules' order, so the table comes out the same.
    Polars releases the GIL and per-value Python goes to the process pool (fields._unique.map_unique), so a phone
    scan, a company-name parse and a name split share the cores.
    Returns each rule's outcome by its index and the final table.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
    from dataclasses import replace

    from crmclean.fields._unique import workers

    footprints = [rule.footprint(ctx) for rule in selected]
    waits = [{j for j in range(i) if _meet(footprints[i], footprints[j])} for i in range(len(selected))]
    n = ctx.frame.height
    frame = ctx.frame
    done: dict[int, _Outcome] = {}
    pending = list(range(len(selected)))
    # twice as many threads as cores: a long rule (PHONE001, COMPANY001, NAME003) need not wait for its turn behind
    # short ones (with one per core it started last and left a core idle at the end), and no more Python threads
    # than that contend for the GIL and polars' pool (each costs CPU under load)
    threads = 2 * workers() if workers() > 1 else 1
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="crmclean-rule") as pool:
        running: dict[Future[tuple[list[pl.Series], _Outcome]], int] = {}
        while pending or running:
            for i in [i for i in pending if waits[i] <= done.keys()]:
                pending.remove(i)
                if progress is not None:
                    progress(i, len(selected), selected[i].code)
                if footprints[i] is None:
                    ctx.frame = frame
                    ctx.derived = {k: v for j in range(i) for k, v in _derived_of(done[j].result, n).items()}
                    rule_ctx = ctx
                else:
                    rule_ctx = replace(ctx, frame=frame, derived={})
                running[pool.submit(_run_rule, selected[i], rule_ctx, footprints[i], ids, apply_suggestions,
                                    profile_only)] = i
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            # one rule applied at a time, then the rules it lets start are launched before the next is applied
            future = min(finished, key=running.__getitem__)
            i = running.pop(future)
            edited, done[i] = future.result()
            if edited:
                frame = frame.with_columns(edited)
    return done, frame


def _run_rule(
    rule: Standardizer, ctx: RuleContext, footprint: set[str] | None, ids: pl.Series, apply_suggestions: bool,
    profile_only: bool,
) -> tuple[list[pl.Series], _Outcome]:
    """Apply ``rule`` and its edits to its table (in the rule's thread): the columns it changed and its outcome.

    Its table holds the current values of every column of its footprint and no other rule edits them meanwhile,
    so the columns it changed are the engine's to set as they are.
    """
    started = time.perf_counter()
    result = rule.apply(ctx)
    frame, outcome = _apply_result(ctx.frame, ids, rule, footprint, result, apply_suggestions, profile_only)
    outcome.seconds = time.perf_counter() - started
    edited = dict.fromkeys(e.column for e in result.edits if e.column in frame.columns)
    return [frame.get_column(c) for c in edited], outcome


def _apply_result(
    frame: pl.DataFrame, ids: pl.Series, rule: Standardizer, footprint: set[str] | None, result: RuleResult,
    apply_suggestions: bool, profile_only: bool,
) -> tuple[pl.DataFrame, _Outcome]:
    """The table with a rule's edits applied, and what they changed (seconds: the caller's to set)."""
    n = frame.height
    fixed = suggested = 0
    fixed_rows = pl.repeat(False, n, eager=True).alias("") if n else pl.Series([], dtype=pl.Boolean)
    logs: list[pl.DataFrame] = []
    for edit in result.edits:
        if not _meet(footprint, {edit.column}):
            raise RuntimeError(f"rule {rule.code} edited {edit.column!r}, outside its footprint")
        frame, n_fixed, n_suggested, rows, log = _apply_edit(frame, ids, edit, rule.code, apply_suggestions,
                                                             log_changes=not profile_only)
        fixed += n_fixed
        suggested += n_suggested
        if rows is not None:
            fixed_rows = fixed_rows | rows
        if log is not None:
            logs.append(log)
    return frame, _Outcome(result, fixed, suggested, int(fixed_rows.sum()) if n else 0, logs, 0.0)


def _meet(a: set[str] | None, b: set[str] | None) -> bool:
    """Whether two footprints share a column (a rule without one shares them all)."""
    return a is None or b is None or not a.isdisjoint(b)


def _apply_edit(
    frame: pl.DataFrame, ids: pl.Series, edit: ColumnEdit, code: str, apply_suggestions: bool,
    *, log_changes: bool = True,
) -> tuple[pl.DataFrame, int, int, pl.Series | None, pl.DataFrame | None]:
    n = frame.height
    if edit.column not in frame.columns:
        return frame, 0, 0, None, None
    if len(edit.after) != n:
        raise RuntimeError(f"rule {code} returned {len(edit.after)} values for column {edit.column!r}, expected {n}")
    before = frame.get_column(edit.column)
    after = edit.after.cast(pl.String).alias(edit.column)
    changed = before.ne_missing(after).fill_null(False)
    n_changed = int(changed.sum())
    if n_changed == 0:
        return frame, 0, 0, None, None
    confidence = _as_series(edit.confidence, n, "confidence")
    arms = _arms_formula(before, after, changed)  # e.g. "  =HYPERLINK(..)" trimmed: never applied, only proposed
    if arms is not None:
        confidence = confidence.zip_with(~arms, pl.Series("confidence", ["suggest"] * n, dtype=confidence.dtype))
    is_fix = (confidence == "fix") & (~arms if arms is not None else True)
    apply_mask = changed & (is_fix | apply_suggestions) & (~arms if arms is not None else True)
    log = None
    if log_changes:
        reason = _as_series(edit.reason, n, "reason")
        if arms is not None:
            reason = reason.cast(pl.String).zip_with(
                ~arms, pl.Series("reason", ["not applied: the new value would run as a spreadsheet formula"] * n))
        log = _change_rows(ids, edit.column, before, after, changed, code, confidence, reason)
    if apply_mask.any():
        frame = frame.with_columns(before.zip_with(~apply_mask, after).alias(edit.column))
    n_fixed = int((changed & is_fix).sum())
    applied_rows = apply_mask if apply_mask.any() else None
    return frame, n_fixed, n_changed - n_fixed, applied_rows, log


def _arms_formula(before: pl.Series, after: pl.Series, changed: pl.Series) -> pl.Series | None:
    """Rows where the change turns text that was not a live spreadsheet formula into one (issue 17, item 9)."""
    from crmclean.connectors.files import is_live_formula

    idx = changed.arg_true()
    idx = idx.filter(_may_be_formula(after.gather(idx)))
    if not len(idx):
        return None
    hits = [i for i, b, a in zip(idx.to_list(), before.gather(idx).to_list(), after.gather(idx).to_list(), strict=True)
            if a and is_live_formula(str(a)) and not (b and is_live_formula(str(b)))]
    if not hits:
        return None
    mask = [False] * len(before)
    for i in hits:
        mask[i] = True
    return pl.Series("arms", mask, dtype=pl.Boolean)


# What every live formula starts with (is_live_formula: optional tabs/CRs, then = + - or @), less numbers typed
# with '+' in digits and phone separators only, extensions too ("+74951234567 доб. 123": every cell PHONE001 gives
# an extension): a phone, never a formula (a narrower form of writing._PHONE_RS). The cells _arms_formula must read.
_FORMULA_START = r"^[\t\r]*[=+\-@]"
_PLAIN_PHONE = r"^\+[0-9 ()\-.,;]+(?:(?:доб|ext|вн|x)\.? ?[0-9]+[0-9 ()\-.,;]*)*$"


def _may_be_formula(values: pl.Series) -> pl.Series:
    """False where ``is_live_formula`` is false for sure (most cells; a fixed phone is '+7…'), column-wise."""
    return (values.str.contains(_FORMULA_START) & ~values.str.contains(_PLAIN_PHONE)).fill_null(False)


def _with_derived(frame: pl.DataFrame, derived: pl.DataFrame, mode: str, carried: set[str]) -> pl.DataFrame:
    """Append derived columns by ``mode``; a derived column already in the table is only filled where it is empty."""
    if mode == "none" or derived.width == 0:
        return frame
    names = [c for c in derived.columns if mode == "all" or c in carried]
    exprs: list[pl.Series] = []
    for name in names:
        series = derived.get_column(name)
        if series.dtype != pl.String:
            series = series.cast(pl.String)
        if series.null_count() == len(series) and name not in frame.columns and mode != "all":
            continue
        if name in frame.columns:
            exprs.append(series.zip_with(series.is_not_null(), frame.get_column(name)).alias(name))
        else:
            exprs.append(series.alias(name))
    return frame.with_columns(exprs) if exprs else frame


def changes_for_audit(result: StandardizeResult) -> pl.DataFrame:
    """The change log as proposals (what ``audit`` reports): every change, none applied."""
    return result.changes


# ---------------------------------------------------------------- the `standardize` command's work


@dataclass
class StandardizeRun:
    """What `crmclean standardize` did: the result and the files written."""

    result: StandardizeResult
    source: str
    out: str | None
    changes_file: str | None
    backup: str | None
    dry_run: bool

    def summary(self) -> dict[str, Any]:
        data = self.result.summary()
        data.update({"source": self.source, "out": self.out, "changes_file": self.changes_file,
                     "backup": self.backup, "dry_run": self.dry_run,
                     "applied_suggestions": self.result.apply_suggestions})
        return data


def run_standardize(
    source: str,
    rules: RulesFile | str | None = None,
    opts: Any = None,
    *,
    out: str | None = None,
    changes_file: str | None = None,
    apply_suggestions: bool = False,
    in_place: bool = False,
    dry_run: bool = False,
) -> StandardizeRun:
    """Read ``source``, standardize it, write the standardized copy (``out``) and the change log (``changes_file``).

    The input is never overwritten unless ``in_place`` (then a ``.bak`` copy is kept first).
    """
    from pathlib import Path

    from crmclean.connectors.files import atomic_copy, backup_path, format_for, write_frame, write_output
    from crmclean.errors import UsageError
    from crmclean.sources import open_source

    if out is None and not in_place and not dry_run:
        raise UsageError("give --out FILE for the standardized copy (or --in-place, or --dry-run)")
    table, settings, connector = open_source(source, rules, opts)
    result = standardize_table(table, settings, apply_suggestions=apply_suggestions)
    src_path = Path(source)
    target: Path | None = Path(out) if out else (src_path if in_place else None)
    if target is not None and src_path.exists() and target.resolve() == src_path.resolve() and not in_place:
        raise UsageError(f"refusing to overwrite the input {source}; pass --in-place to do it (a .bak copy is kept)")
    backup = None
    if not dry_run:
        if target is not None:
            fmt = format_for(target, None)
            delimiter = getattr(connector, "delimiter", ",") if fmt == "csv" else ","
            encoding = getattr(connector, "encoding", "utf-8") if fmt == "csv" else "utf-8"
            if encoding in ("utf-16", "latin-1"):
                encoding = "utf-8"
            if fmt == "csv" and not in_place:  # a new file: one Excel opens (the input's style, else UTF-8 BOM)
                encoding, delimiter = table.output_encoding, table.output_delimiter
            elif getattr(opts, "output_encoding", None):
                encoding = opts.output_encoding
            if target.exists() and src_path.exists() and target.resolve() == src_path.resolve():
                backup_file = backup_path(src_path)
                atomic_copy(src_path, backup_file)  # never a truncated .bak, even on a full disk
                backup = str(backup_file)
            write_frame(result.table.frame, target, fmt, delimiter=delimiter, encoding=encoding)
        if changes_file:
            # the change log a steward opens in Excel: the input's encoding and delimiter (see output_style)
            write_output(result.changes, changes_file, encoding=table.output_encoding,
                         delimiter=table.output_delimiter)
    return StandardizeRun(result, source, str(target) if target else None, changes_file, backup, dry_run)
