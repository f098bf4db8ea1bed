"""Unattended cleanup jobs for cron: the job file schema, the per-source lock, the log, notification and exit codes."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmclean import api
from crmclean.config import load_rules, parse_yaml_mapping, read_config_text, validate_model
from crmclean.connectors import is_crm_spec
from crmclean.errors import ConfigError, CrmcleanError, NotBuiltError, SourceError
from crmclean.sources import SourceOptions, open_source
from crmclean.store import default_store_path
from crmclean.writeback.apply import LimitExceeded, apply_plan
from crmclean.writeback.plan import build_plan, consult_target, save_plan
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import prepare_file_target


class JobExit(IntEnum):
    """Exit codes of `crmclean run`, for monitoring (documented in docs/jobs.md)."""

    OK = 0  # everything planned was applied (or there was nothing to do)
    PARTIAL = 1  # some records conflicted or failed, or a report step failed: see the summary
    CONFIG = 2  # the job file or rules file is invalid
    SOURCE = 3  # the source or target could not be read or written
    INTERNAL = 4  # a bug: see the log
    LIMIT = 5  # the plan exceeds a safety limit: nothing was written
    LOCKED = 6  # another run on the same source is in progress: nothing was done


Step = Literal["standardize", "dedupe", "merge", "score", "report"]


class JobSourceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    sheet: str | None = None
    id_column: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    where: str | None = None
    object: str | None = None


class JobLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_changes: int | None = Field(default=1000, ge=0, description="Refuse to write when the plan has more changes "
                                                             "(field updates + merges); null = no limit.")
    max_merges: int | None = Field(default=None, ge=0, description="Refuse to write when the plan has more merges.")
    batch_size: int | None = Field(default=None, ge=1, description="Records per write batch (default: the target's).")


class JobNotify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(description="Shell command run after the job; it reads CRMCLEAN_* environment variables.")
    # not `on:` — YAML 1.1 reads a bare `on` key as the boolean true
    when: Literal["always", "failure", "changes"] = Field(
        "always", description="always; failure (exit code not 0); changes (something was written or failed).")
    timeout: int = Field(60, ge=1)


class JobFile(BaseModel):
    """One unattended job."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    name: str | None = None
    source: str = Field(description="A file (relative to the job file) or salesforce:Object / hubspot:object.")
    source_options: JobSourceOptions = Field(default_factory=lambda: JobSourceOptions())
    rules: str | None = Field(None, description="Rules YAML (relative to the job file).")
    steps: list[Step] = Field(default_factory=lambda: ["standardize", "dedupe", "report"])  # type: ignore[arg-type]
    apply: bool = Field(True, description="false: plan only (saved in the report directory for review).")
    include_suggestions: bool = False
    output: str | None = Field(None, description="File sources: where the cleaned file goes "
                                                 "(default <name>.clean.<ext> next to the source).")
    in_place: bool = Field(False, description="File sources: overwrite the source (a .bak backup is kept).")
    limits: JobLimits = Field(default_factory=lambda: JobLimits())
    report_dir: str = Field("reports/{name}/{date}", description="Plan, changes CSV, summary and reports; "
                                                                  "{name} {date} {time} are filled in.")
    log_file: str | None = Field(None, description="Log file, appended to (default <job file>.log).")
    lock_file: str | None = Field(None, description="Lock file (default: one per source next to the run store).")
    store: str | None = Field(None, description="Run store DuckDB file (default: $CRMCLEAN_STORE or "
                                                "~/.local/share/crmclean/runs.duckdb).")
    notify: JobNotify | None = None

    @field_validator("notify", mode="before")
    @classmethod
    def _command_shorthand(cls, value: Any) -> Any:
        return {"command": value} if isinstance(value, str) else value

    @field_validator("steps")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a step is listed twice")
        return value


# ---------------------------------------------------------------- loading


def load_job(path: str | Path) -> JobFile:
    """Read and validate a job file; mistakes are reported with file:line:column."""
    return parse_job(read_config_text(path, "job file"), str(path))


def parse_job(text: str, path: str = "<job>") -> JobFile:
    data, marks = parse_yaml_mapping(text, path, "job file (source, rules, steps, ...)")
    return validate_model(JobFile, data, marks, path)


# ---------------------------------------------------------------- lock
# the per-source lock lives in the library API (apply and rollback hold it too); named here for job users
SourceLocked = api.SourceLocked
lock_path_for = api.lock_path_for
source_lock = api.source_lock


# ---------------------------------------------------------------- running a job


@dataclass
class JobResult:
    exit_code: int
    status: str
    message: str
    run_id: str | None = None
    report_dir: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def _resolve(base: Path, value: str | None) -> str | None:
    if value is None or is_crm_spec(value):
        return value
    p = Path(os.path.expanduser(value))
    return str(p if p.is_absolute() else base / p)


def _fill(template: str, name: str, now: datetime) -> str:
    return template.replace("{name}", name).replace("{date}", now.strftime("%Y-%m-%d")).replace(
        "{time}", now.strftime("%H%M%S"))


def _logger(log_file: Path) -> logging.Logger:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"crmclean.job.{log_file}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [pid %(process)d] %(message)s"))
    logger.addHandler(handler)
    return logger


def run_job(job_path: str | Path, *, dry_run: bool = False, store: str | Path | None = None) -> JobResult:
    """Run one job end to end without prompts; never raises: the result carries the exit code."""
    job_path = Path(job_path)
    started = datetime.now()
    default_log = job_path.with_name(job_path.name + ".log")
    try:
        job = load_job(job_path)
    except CrmcleanError as exc:
        _logger(default_log).error("job file invalid: %s", exc)
        return JobResult(int(JobExit.CONFIG), "config-error", str(exc))
    base = job_path.resolve().parent
    name = job.name or job_path.stem
    log_file = Path(_resolve(base, job.log_file) or default_log)
    log = _logger(log_file)
    report_dir = Path(_resolve(base, _fill(job.report_dir, name, started)) or base)
    store_path = store or _resolve(base, job.store) or default_store_path()
    source = _resolve(base, job.source) or job.source
    log.info("job %s started: source %s%s", name, source, " (dry run)" if dry_run else "")
    result: JobResult
    try:
        with source_lock(source, store_path, _resolve(base, job.lock_file)):
            result = _run_locked(job, name, base, source, report_dir, Path(store_path), log, dry_run)
    except SourceLocked as exc:
        result = JobResult(int(JobExit.LOCKED), "locked", str(exc))
    except LimitExceeded as exc:
        result = JobResult(int(JobExit.LIMIT), "limit", str(exc))
    except ConfigError as exc:
        result = JobResult(int(JobExit.CONFIG), "config-error", str(exc))
    except SourceError as exc:
        result = JobResult(int(JobExit.SOURCE), "source-error", str(exc))
    except CrmcleanError as exc:
        result = JobResult(int(JobExit.CONFIG), "config-error", str(exc))
    except Exception as exc:  # a bug must still end in a log line and an exit code, never a silent cron failure
        log.exception("internal error")
        result = JobResult(int(JobExit.INTERNAL), "internal-error", f"{type(exc).__name__}: {exc}")
    result.report_dir = result.report_dir or report_dir
    level = logging.INFO if result.exit_code == 0 else logging.WARNING if result.exit_code in (1, 5, 6) \
        else logging.ERROR
    log.log(level, "job %s finished: %s (exit %d) %s", name, result.status, result.exit_code, result.message)
    _write_summary(result, name, source, started, log_file)
    if job.notify is not None:
        _notify(job.notify, result, name, log_file, log, cwd=base if job_path.exists() else Path.cwd())
    return result


def _run_locked(job: JobFile, name: str, base: Path, source: str, report_dir: Path, store: Path,
                log: logging.Logger, dry_run: bool) -> JobResult:
    report_dir.mkdir(parents=True, exist_ok=True)
    rules = load_rules(_resolve(base, job.rules))
    so = job.source_options
    opts = SourceOptions(format=so.format, sheet=so.sheet, id_column=so.id_column, encoding=so.encoding,
                         delimiter=so.delimiter, where=so.where, object_type=so.object)
    table, rules, connector = open_source(source, rules, opts)
    log.info("read %d records from %s", len(table), source)

    plan_steps = [s for s in ("standardize", "dedupe") if s in job.steps or (s == "dedupe" and "merge" in job.steps)]
    plan = build_plan(table, rules, version_of=connector.version_of, steps=plan_steps,
                      include_suggestions=job.include_suggestions,
                      source_options={k: v for k, v in so.model_dump().items() if k != "object"})
    consult_target(plan, connector)  # values and merges the target would refuse leave the plan (record types …)
    plan_file = report_dir / "plan.json"
    save_plan(plan, plan_file)
    summary = plan.summary()
    for note in plan.notes:
        log.warning("plan: %s", note)
    log.info("plan %s: %d field update(s) in %d record(s), %d merge(s)", plan_file, summary["updates"],
             summary["records_updated"], summary["merges"])
    result = JobResult(int(JobExit.OK), "ok", "nothing to apply", report_dir=report_dir,
                       summary={"plan": summary, "plan_file": str(plan_file)})

    limits = job.limits
    if limits.max_merges is not None and summary["merges"] > limits.max_merges:
        raise LimitExceeded(f"the plan has {summary['merges']} merges, more than limits.max_merges "
                            f"{limits.max_merges}; nothing written (review {plan_file})")
    wrote = False
    if job.apply and not dry_run and plan.operations:
        out = Path(_resolve(base, job.output) or "") if job.output else None
        prepare_file_target(connector, out, job.in_place)
        report = apply_plan(plan, connector, Journal(store), batch_size=limits.batch_size,
                            max_changes=limits.max_changes, plan_path=str(plan_file))
        wrote = True
        journal = Journal(store)
        changes_csv = report_dir / "changes.csv"
        from crmclean.table import output_style

        encoding, delimiter = output_style(connector)  # the source's style for a cp1251 ';' export (issue 14)
        export_changes(journal, str(report.run_id), changes_csv, encoding=encoding, delimiter=delimiter,
                       mask_pii=rules.report.mask_pii)  # the rules' report.mask_pii masks it (issue 17)
        c = report.counts
        log.info("applied run %s to %s: %d ok, %d conflict, %d failed, %d skipped", report.run_id, report.target,
                 c.get("ok", 0), c.get("conflict", 0), c.get("failed", 0), c.get("skipped", 0))
        for p in report.problems[:50]:
            log.warning("%s %s: %s", p["status"], p["record_id"], p["error"])
        result.run_id = report.run_id
        result.summary.update({"run": report.to_dict(), "changes_csv": str(changes_csv)})
        result.status = report.status
        result.message = f"run {report.run_id}: {c.get('ok', 0)} ok, {c.get('conflict', 0)} conflict, " \
                         f"{c.get('failed', 0)} failed"
        if report.status != "ok":
            result.exit_code = int(JobExit.PARTIAL)
    elif plan.operations:
        if limits.max_changes is not None and len(plan.operations) > limits.max_changes:
            raise LimitExceeded(f"the plan has {len(plan.operations)} changes, more than limits.max_changes "
                                f"{limits.max_changes}")
        result.status = "planned"
        result.message = f"plan only: {len(plan.operations)} change(s) saved to {plan_file}"

    target = source
    output = getattr(connector, "output", None)
    if wrote and output is not None:
        target = str(output)
    for step in job.steps:
        if step not in ("score", "report"):
            continue
        ok, message = _run_verb_step(step, target, job, base, report_dir, store, log)
        result.summary.setdefault("steps", {})[step] = message
        if not ok and result.exit_code == 0:
            result.exit_code = int(JobExit.PARTIAL)
            result.status = "partial"
            result.message += f"; {step} step failed"
    return result


def _run_verb_step(step: str, target: str, job: JobFile, base: Path, report_dir: Path, store: Path,
                   log: logging.Logger) -> tuple[bool, str]:
    """The report step (an audit with its report files) or the score step on the cleaned target, into report_dir."""
    verb = "audit" if step == "report" else "score"
    out = report_dir / ("audit" if step == "report" else "scores.csv")
    rules = _resolve(base, job.rules)
    options = SourceOptions(id_column=job.source_options.id_column)
    try:
        if verb == "audit":
            api.write_report(api.audit(target, rules, options, store=store), out)
        else:
            api.score(target, rules, options, out=out)
    except NotBuiltError:
        log.warning("step %s skipped: `crmclean %s` is not available in this build", step, verb)
        return True, "not available"
    except Exception as exc:
        log.error("step %s failed: %s", step, exc)
        return False, f"failed: {exc}"
    log.info("step %s: output in %s", step, out)
    return True, str(out)


export_changes = api.export_changes


def _write_summary(result: JobResult, name: str, source: str, started: datetime, log_file: Path) -> None:
    if result.report_dir is None:
        return
    try:
        result.report_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "job": name, "source": source, "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now().isoformat(timespec="seconds"), "status": result.status,
            "exit_code": result.exit_code, "message": result.message, "run_id": result.run_id,
            "log_file": str(log_file), **result.summary,
        }
        (result.report_dir / "summary.json").write_text(
            json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    except OSError:
        pass


def _notify(notify: JobNotify, result: JobResult, name: str, log_file: Path, log: logging.Logger, *,
            cwd: Path) -> None:
    """Run the notification command with the outcome in CRMCLEAN_* variables (never interpolated into the shell)."""
    if notify.when == "failure" and result.exit_code == 0:
        return
    counts = (result.summary.get("run") or {}).get("counts") or {}
    if notify.when == "changes" and not (counts.get("ok") or counts.get("failed") or counts.get("conflict")
                                       or result.exit_code != 0):
        return
    env = dict(os.environ)
    env.update({
        "CRMCLEAN_JOB": name,
        "CRMCLEAN_STATUS": result.status,
        "CRMCLEAN_EXIT_CODE": str(result.exit_code),
        "CRMCLEAN_MESSAGE": result.message,
        "CRMCLEAN_RUN_ID": result.run_id or "",
        "CRMCLEAN_REPORT_DIR": str(result.report_dir or ""),
        "CRMCLEAN_SUMMARY": str((result.report_dir or Path()) / "summary.json"),
        "CRMCLEAN_LOG": str(log_file),
    })
    started = time.monotonic()
    try:
        # run from the job file's folder, like every relative path in the job file
        done = subprocess.run(notify.command, shell=True, env=env, timeout=notify.timeout, cwd=cwd,
                              capture_output=True, text=True, check=False)
    except subprocess.TimeoutExpired:
        log.error("notification command timed out after %ss", notify.timeout)
        return
    took = time.monotonic() - started
    if done.returncode != 0:
        log.error("notification command exited %d: %s", done.returncode, (done.stderr or "").strip()[:300])
    else:
        log.info("notification sent (%.1fs)", took)
