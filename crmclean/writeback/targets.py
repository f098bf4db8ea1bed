"""Where a run writes: a file connector pointed at its output, or a CRM in place; reopened for resume and rollback."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmclean.connectors import ConnectorOptions, open_connector
from crmclean.connectors.base import Connector
from crmclean.errors import SourceError, UsageError
from crmclean.table import ROW_ID
from crmclean.writeback.plan import Plan

FILE_KINDS = frozenset({"csv", "xlsx", "parquet", "jsonl"})

# ---------------------------------------------------------------- targets


def target_details(connector: Connector, plan: Plan | None = None) -> dict[str, Any]:
    """How to reopen the target of a run later (resume, rollback)."""
    output = getattr(connector, "output", None)
    options = dict(plan.source.options) if plan else {}
    id_field = connector.id_field
    if id_field != ROW_ID:
        options["id_column"] = id_field
    for attr in ("encoding", "delimiter"):
        value = getattr(connector, attr, None)
        if value and connector.kind == "csv":
            options[attr] = value
    if connector.kind in FILE_KINDS:  # absolute, so that resume and rollback work from any directory
        source = str(Path(connector.spec).resolve())
        target = str(Path(output).resolve()) if output is not None else source
    else:
        source = target = connector.spec
    return {
        "source": source,
        "kind": connector.kind,
        "target": target,
        "in_place": target == source,
        "source_options": options,
    }


def crm_options(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The rules file's CRM settings a plan recorded (credentials_file, bulk, api_share, concurrency,
    duplicate_rule_allow_save), as
    ConnectorOptions keywords; absent ones keep the defaults."""
    out: dict[str, Any] = {"credentials_file": opts.get("credentials_file")}
    if opts.get("bulk"):
        out["bulk"] = str(opts["bulk"])
    if opts.get("api_share"):
        out["api_share"] = float(opts["api_share"])
    if opts.get("concurrency"):
        out["concurrency"] = int(opts["concurrency"])
    if str(opts.get("duplicate_rule_allow_save") or "").lower() == "true":
        out["duplicate_rule_allow_save"] = True
    return out


def open_target(details: Mapping[str, Any], *, resume: bool) -> Connector:
    """Reopen the connector a run wrote to: the same output file (resume) or the target in place (rollback)."""
    opts = details.get("source_options") or {}
    copts = ConnectorOptions(
        format=opts.get("format"), sheet=opts.get("sheet"), id_column=opts.get("id_column"),
        encoding=opts.get("encoding"), delimiter=opts.get("delimiter"), where=opts.get("where"),
        **crm_options(opts),
    )
    if details.get("kind") not in FILE_KINDS:
        return open_connector(str(details["source"]), copts)
    target = Path(str(details["target"]))
    if resume and not details.get("in_place"):
        # the output holds the writes made before the interruption; without it, start again from the input
        connector = open_connector(str(details["source"]), copts)
    else:
        if not target.exists():
            raise SourceError("the run's target file no longer exists", path=str(target))
        connector = open_connector(str(target), copts)
    connector.output = target  # type: ignore[attr-defined]
    connector.describe()  # reads the file: id column, encoding and delimiter are known from here on
    return connector


def prepare_file_target(connector: Connector, out: Path | None, in_place: bool) -> None:
    """Point a file connector at its output; a fresh apply starts from the input even if ``out`` exists."""
    if connector.kind not in FILE_KINDS:
        if out is not None or in_place:
            raise UsageError("--out and --in-place are for file targets; a CRM is written in place")
        return
    if in_place and out is not None:
        raise UsageError("give either --out FILE or --in-place, not both")
    spec_path = Path(connector.spec)
    if in_place:
        target = spec_path
    else:
        target = out if out is not None else default_output(spec_path)
        if target.resolve() == spec_path.resolve():
            raise UsageError(f"--out {target} is the input file; use --in-place to overwrite it (a backup is kept)")
    connector.output = target  # type: ignore[attr-defined]
    connector.resume_output = False  # type: ignore[attr-defined]


def default_output(path: Path) -> Path:
    """contacts.csv -> contacts.clean.csv next to it."""
    return path.with_name(f"{path.stem}.clean{path.suffix}")
