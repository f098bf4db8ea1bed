"""The library API: every verb of the command line as a function that returns a result object.

The CLI parses options, calls one of these and prints what it returns; ``crmclean.jobs`` calls them
for unattended runs. Nothing here prints, prompts or reads global output settings: a caller that
wants a progress display or a confirmation passes a callable.

    from crmclean import api
    result = api.audit("contacts.csv", rules="rules.yaml")
    files = api.write_report(result, "report/")
    print(result.kpis["pct_clean"], files.as_dict()["html"])
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from crmclean.audit import AuditOptions, AuditResult, run_audit
from crmclean.config import RulesFile
from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.errors import CrmcleanError, ExitCode, UsageError
from crmclean.reports import ReportFiles, write_reports
from crmclean.reports.content import build_report
from crmclean.scoring import CompletenessResult, scored_records
from crmclean.sources import SourceOptions, open_source
from crmclean.standardize import StandardizeRun, run_standardize
from crmclean.store import default_store_path, source_key
from crmclean.table import RecordTable
from crmclean.validate import check_fail_on
from crmclean.writeback.apply import LimitExceeded, apply_plan, count_changes, units_from_plan
from crmclean.writeback.plan import Plan, build_plan, consult_target, load_plan
from crmclean.writeback.resume import resume_run
from crmclean.writeback.rollback import already_rolled_back, rollback_run, rollback_units, run_target_connector
from crmclean.writeback.run import RunReport
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import FILE_KINDS, crm_options, open_target, prepare_file_target

if TYPE_CHECKING:  # the matcher loads when a matching verb runs
    from crmclean.matching import DedupeResult, Explanation, LinkResult

__all__ = [
    "AuditResult", "DedupeRun", "Journal", "LinkRun", "NothingToDo", "Plan", "ReportFiles", "RunReport", "ScoreRun",
    "SourceLocked", "SourceOptions", "StandardizeRun", "apply", "audit", "check_fail_on", "dedupe", "explain", "export_changes",
    "link", "load_plan", "lock_path_for", "plan", "report", "resume", "rollback", "score", "source_lock",
    "standardize", "validate", "write_report",
]

Rules = RulesFile | str | Path | None
StepPrinter = Callable[[str], None]
Confirm = Callable[[str], None]  # raises to cancel (the CLI asks on a terminal, refuses without --yes)


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def update(self, completed: int, total: int | None = None) -> None: ...


class ProgressFactory(Protocol):
    """``progress(description, total)`` -> a context manager yielding a task (``crmclean.ui.progress`` is one)."""

    def __call__(self, description: str, total: int | None = None) -> contextlib.AbstractContextManager[Any]: ...


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, completed: int, total: int | None = None) -> None:
        pass


@contextlib.contextmanager
def no_progress(description: str, total: int | None = None) -> Iterator[Task]:
    yield _NullTask()


def _rules_arg(rules: Rules) -> RulesFile | str | None:
    return str(rules) if isinstance(rules, Path) else rules


# ---------------------------------------------------------------- read-only verbs


def audit(source: str | RecordTable, rules: Rules = None, options: SourceOptions | None = None, *,
          store: str | Path | None = None, against: str | None = None, progress: StepPrinter | None = None,
          command: str = "audit", record_run: bool = True, dedupe: bool = True) -> AuditResult:
    """Audit a source read-only: proposals, findings, duplicates, completeness and KPIs (recorded in the run store)."""
    return run_audit(source, _rules_arg(rules), options or SourceOptions(),
                     AuditOptions(store=store, command=command, against=against, progress=progress,
                                  record_run=record_run, dedupe=dedupe))


def validate(source: str | RecordTable, rules: Rules = None, options: SourceOptions | None = None, *,
             store: str | Path | None = None, against: str | None = None,
             progress: StepPrinter | None = None) -> AuditResult:
    """The pre-import check: the audit engine, recorded as a `validate` run; ``result.exit_code(fail_on)`` gates."""
    return audit(source, rules, options, store=store, against=against, progress=progress, command="validate")


def write_report(result: AuditResult, out: str | Path | None = None, *, mask_pii: bool | None = None) -> ReportFiles:
    """Write report.html/json/md and the CSVs of an audit into ``out`` (default from the rules file or a new folder)."""
    return write_reports(result, out, mask_pii=mask_pii)


def report(result: AuditResult) -> dict[str, Any]:
    """The report content of an audit as a dict (what report.json holds), without writing files."""
    return build_report(result)


@dataclass
class ScoreRun:
    """Completeness of every record of a source, and where the scored records were written."""

    source: str
    completeness: CompletenessResult
    out: Path | None = None

    def summary(self) -> dict[str, Any]:
        return self.completeness.summary() | {"records": self.completeness.records,
                                              "out": str(self.out) if self.out else None}


def score(source: str | RecordTable, rules: Rules = None, options: SourceOptions | None = None, *,
          out: str | Path | None = None, progress: StepPrinter | None = None) -> ScoreRun:
    """Score completeness per record; with ``out`` write the records with score, grade and missing fields."""
    result = audit(source, rules, options, record_run=False, dedupe=False, command="score", progress=progress)
    completeness = result.completeness
    path = Path(out) if out is not None else None
    if path is not None:
        _write_frame(scored_records(result.table, completeness), path, result.table)
    return ScoreRun(source=result.source, completeness=completeness, out=path)


def standardize(source: str, rules: Rules = None, options: SourceOptions | None = None, *,
                out: str | Path | None = None, changes_file: str | Path | None = None,
                apply_suggestions: bool = False, in_place: bool = False, dry_run: bool = False) -> StandardizeRun:
    """Write a standardized copy of ``source`` and a change log (nothing written with ``dry_run``)."""
    return run_standardize(source, _rules_arg(rules), options or SourceOptions(),
                           out=str(out) if out else None, changes_file=str(changes_file) if changes_file else None,
                           apply_suggestions=apply_suggestions, in_place=in_place, dry_run=dry_run)


# ---------------------------------------------------------------- matching


def _write_frame(frame: Any, path: str | Path, table: RecordTable) -> str:
    """Write an output of ``table``: a CSV in the table's output encoding and delimiter (Excel opens it)."""
    from crmclean.connectors.files import write_output

    return write_output(frame, path, encoding=table.output_encoding, delimiter=table.output_delimiter)


def _read(source: str, rules: Rules, options: SourceOptions | None, progress: ProgressFactory,
          label: str) -> tuple[RecordTable, RulesFile]:
    with progress(label) as bar:
        table, rules_file, _ = open_source(source, _rules_arg(rules), options or SourceOptions(),
                                           progress=lambda done, total: bar.update(done, total))
    return table, rules_file


@dataclass
class DedupeRun:
    table: RecordTable
    result: DedupeResult
    written: dict[str, str] = field(default_factory=dict)  # out / pairs / review / golden -> path


def dedupe(source: str, rules: Rules = None, options: SourceOptions | None = None, *,
           labels: str | Path | None = None, out: str | Path | None = None, pairs: str | Path | None = None,
           review: str | Path | None = None, golden: str | Path | None = None,
           progress: ProgressFactory = no_progress, store: str | Path | None = None) -> DedupeRun:
    """Find duplicates: clusters, scored pairs, a review queue and golden records, written where asked.

    A steward's labels are remembered in the run store (``store``, else the default one) and used on later runs.
    """
    from crmclean.matching.review_memory import dedupe_remembering as run_dedupe

    options = options or SourceOptions()
    table, rules_file = _read(source, rules, options, progress, "reading source")
    with progress("deduplicating") as bar:
        result = run_dedupe(table, rules_file, labels=str(labels) if labels else None, store=store,
                            object_type=options.object_type,
                            progress=lambda step, done, total: bar.update(done, total))
    run = DedupeRun(table=table, result=result)
    outputs = (("out", out, lambda: result.annotated(table.frame)), ("pairs", pairs, lambda: result.pairs),
               ("review", review, lambda: result.review), ("golden", golden, lambda: result.golden))
    for key, path, frame in outputs:
        if path:
            run.written[key] = _write_frame(frame(), path, table)
    return run


@dataclass
class LinkRun:
    table: RecordTable
    result: LinkResult
    written: dict[str, str] = field(default_factory=dict)  # out / pairs -> path


def link(source: str, against: str, rules: Rules = None, options: SourceOptions | None = None, *,
         out: str | Path | None = None, pairs: str | Path | None = None,
         progress: ProgressFactory = no_progress) -> LinkRun:
    """Which records of ``source`` already exist in ``against`` (a file or a CRM object)."""
    from crmclean.matching import link as run_link

    options = options or SourceOptions()
    table, rules_file = _read(source, rules, options, progress, "reading source")
    other, _ = _read(against, rules_file, SourceOptions(object_type=options.object_type), progress,
                     "reading --against")
    with progress("linking"):
        result = run_link(table, other, rules_file, object_type=options.object_type)
    run = LinkRun(table=table, result=result)
    if out:
        run.written["out"] = _write_frame(result.annotated(table.frame, table.id_column), out, table)
    if pairs:
        run.written["pairs"] = _write_frame(result.matches, pairs, table)
    return run


def explain(source: str, id1: str, id2: str, rules: Rules = None, options: SourceOptions | None = None, *,
            progress: ProgressFactory = no_progress) -> Explanation:
    """One pair of records as a waterfall of field weights."""
    from crmclean.matching import explain_pair

    options = options or SourceOptions()
    table, rules_file = _read(source, rules, options, progress, "reading source")
    return explain_pair(table, id1, id2, rules_file, object_type=options.object_type)


# ---------------------------------------------------------------- planning and writing


PLAN_STEPS = ("standardize", "dedupe")


def plan(source: str, rules: Rules = None, options: SourceOptions | None = None, *,
         steps: Sequence[str] = PLAN_STEPS, include_suggestions: bool = False) -> Plan:
    """The writes the rules imply (field updates and merges), each pinned to the record's current version."""
    bad = [s for s in steps if s not in PLAN_STEPS]
    if bad or not steps:
        raise UsageError(f"--steps takes standardize and/or dedupe, not {', '.join(bad) or 'nothing'}")
    options = options or SourceOptions()
    table, rules_file, connector = open_source(source, _rules_arg(rules), options)
    source_options: dict[str, str | None] = {
        "format": options.format, "sheet": options.sheet, "id_column": options.id_column,
        "encoding": options.encoding, "delimiter": options.delimiter, "where": options.where}
    if connector.kind not in FILE_KINDS:  # apply, resume and rollback open the CRM the way the plan read it
        src = rules_file.source
        source_options.update({"credentials_file": src.credentials_file, "bulk": src.bulk,
                               "api_share": f"{src.api_share:g}", "concurrency": str(src.concurrency)})
        if src.duplicate_rule_allow_save:
            source_options["duplicate_rule_allow_save"] = "true"
    the_plan = build_plan(
        table, rules_file, version_of=connector.version_of, steps=list(steps), include_suggestions=include_suggestions,
        source_options=source_options,
    )
    consult_target(the_plan, connector)
    return the_plan


@dataclass
class NothingToDo:
    """A write verb found nothing to write (the CLI says so and exits 0)."""

    message: str
    cannot_restore: list[str] = field(default_factory=list)


def _journal(store: str | Path | None) -> Journal:
    return Journal(store or default_store_path())


def _no_confirm(question: str) -> None:
    pass


def apply(plan_file: str | Path, *, store: str | Path | None = None, only: str | None = None,
          batch_size: int | None = None, max_changes: int | None = None, out: str | Path | None = None,
          in_place: bool = False, dry_run: bool = False, confirm: Confirm = _no_confirm,
          progress: ProgressFactory = no_progress) -> RunReport | NothingToDo:
    """Apply a saved plan under the source's lock: re-read, skip drifted records, journal, write, report."""
    the_plan = load_plan(plan_file)
    units = units_from_plan(the_plan, only)
    changes = count_changes(units)
    if max_changes is not None and changes > max_changes:
        raise LimitExceeded(f"the plan has {changes} changes, more than --max-changes {max_changes}; nothing written",
                            hint=f"review it with `crmclean plan --show {plan_file}`")
    journal = _journal(store)
    opts = the_plan.source.options
    id_column = the_plan.source.id_column
    connector = open_connector(the_plan.source.spec, ConnectorOptions(
        format=opts.get("format"), sheet=opts.get("sheet"),
        id_column=opts.get("id_column") or (None if id_column.startswith("__") else id_column),
        encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), where=opts.get("where"),
        **crm_options(opts)))
    connector.describe()
    prepare_file_target(connector, Path(out) if out is not None else None, in_place)
    target = str(getattr(connector, "output", None) or the_plan.source.spec)
    if not units:
        return NothingToDo("the plan has nothing to apply")
    with source_lock(the_plan.source.spec, journal.path):
        if not dry_run:
            s = the_plan.summary()
            parts = []
            if only != "merges":
                parts.append(f"{s['updates']} field update(s) in {s['records_updated']} record(s)")
            if only != "updates":
                parts.append(f"{s['merges']} merge(s) removing {s['records_merged_away']} record(s)")
            confirm(f"Apply {' and '.join(parts)} to {target}?")
        with progress("Applying", len(units)) as task:
            return apply_plan(the_plan, connector, journal, only=only, batch_size=batch_size,
                              max_changes=max_changes, dry_run=dry_run, plan_path=str(plan_file),
                              progress=task.advance)


def _run_info(journal: Journal, run_id: str) -> Any:
    with journal.store() as st:
        info = st.get_run(run_id)
    if info is None:
        raise UsageError(f"no run {run_id!r} in the run store", hint="list runs with `crmclean runs`")
    return info


def resume(run_id: str, *, store: str | Path | None = None, batch_size: int | None = None,
           confirm: Confirm = _no_confirm, progress: ProgressFactory = no_progress) -> RunReport:
    """Finish an interrupted run without repeating completed writes."""
    journal = _journal(store)
    info = _run_info(journal, run_id)
    with source_lock(info.source, journal.path):
        connector = open_target(info.details or {}, resume=True)
        confirm(f"Resume run {info.run_id} ({info.command}) on {info.source}?")
        with progress("Resuming") as task:
            return resume_run(info.run_id, journal, connector=connector, batch_size=batch_size,
                              progress=task.advance)


def rollback(run_id: str, *, store: str | Path | None = None, batch_size: int | None = None, dry_run: bool = False,
             confirm: Confirm = _no_confirm, progress: ProgressFactory = no_progress) -> RunReport | NothingToDo:
    """Undo a run (itself a new run that can be rolled back); states what cannot be restored."""
    journal = _journal(store)
    info = _run_info(journal, run_id)
    with source_lock(info.source, journal.path):
        done = already_rolled_back(journal, info.run_id)
        if done:
            return NothingToDo(done)
        connector = run_target_connector(info.run_id, journal)
        units, cannot = rollback_units(journal, info.run_id, connector)
        if not units:
            return NothingToDo(f"run {info.run_id} wrote nothing that can be undone", cannot)
        if not dry_run:
            confirm(f"Undo {len(units)} write(s) of run {info.run_id} on "
                    f"{(info.details or {}).get('target', info.source)}?")
        with progress("Rolling back", len(units)) as task:
            return rollback_run(info.run_id, journal, connector=connector, batch_size=batch_size,
                                dry_run=dry_run, progress=task.advance)


def export_changes(journal: Journal, run_id: str, path: str | Path, *, encoding: str = "utf-8-sig",
                   delimiter: str = ",", mask_pii: bool = False) -> int:
    """Write a run's before/after file (format from the extension; a CSV in ``encoding``, default UTF-8 with BOM
    so Excel shows Cyrillic; ``cp1251`` falls back to UTF-8 with BOM when a value cannot be held, never "?");
    returns the row count. ``mask_pii`` masks the before/after values (e-mails, phones, other text)."""
    from crmclean.connectors.files import write_output

    frame = journal.changes(run_id)
    if mask_pii:
        from crmclean.privacy import mask_changes

        frame = mask_changes(frame)
    frame = frame.with_columns(frame.get_column("logged_at").cast(str))
    write_output(frame, Path(path), encoding=encoding, delimiter=delimiter)
    return int(frame.height)


# ---------------------------------------------------------------- the per-source lock


class SourceLocked(CrmcleanError):
    """Another run holds the lock of this source."""

    exit_code = ExitCode.SOURCE


def lock_path_for(source: str, store: str | Path | None = None) -> Path:
    store_path = Path(store) if store else default_store_path()
    digest = hashlib.sha1(source_key(source).encode()).hexdigest()[:16]
    return store_path.parent / "locks" / f"{digest}.lock"


@contextlib.contextmanager
def source_lock(source: str, store: str | Path | None = None, lock_file: str | Path | None = None) -> Iterator[Path]:
    """Hold an exclusive lock for ``source`` (released by the OS even if the process is killed)."""
    path = Path(lock_file) if lock_file else lock_path_for(source, store)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise SourceLocked(f"another run on {source} is in progress ({holder})", path=str(path)) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {datetime.now().isoformat(timespec='seconds')}")
        fh.flush()
        yield path
    finally:
        fh.close()
