"""The plan: a reviewable file of the writes the rules imply (field updates and merges), each pinned to a record version.

A plan is to ``apply`` what ``terraform plan`` is to ``terraform apply``: it lists every
operation with its before-value and rule code, and the version (last-modified stamp or
hash of values) each record had when planned, so ``apply`` can refuse to overwrite a
record someone changed since.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmclean.connectors.base import FieldUpdate, MergeRequest, Record, Value, values_hash
from crmclean.errors import ConfigError, ConnectorError, UsageError
from crmclean.table import RecordTable

PLAN_VERSION = 1
VersionOf = Callable[[Mapping[str, Value]], str]


class UpdateOp(BaseModel):
    """Set one field of one record."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["update"] = "update"
    record_id: str
    field: str
    before: str | None
    after: str | None
    rule: str = ""
    reason: str = ""


class MergeOp(BaseModel):
    """Merge ``loser_ids`` into ``master_id``; the master then holds ``values`` (golden fields that differ)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["merge"] = "merge"
    cluster_id: str
    master_id: str
    loser_ids: list[str]
    values: dict[str, str | None] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)
    # every record of the cluster as the plan expects it at merge time (after the plan's updates)
    snapshots: dict[str, dict[str, str | None]] = Field(default_factory=dict)
    # versions accepted at merge time: before the plan's updates, or after them
    versions: dict[str, list[str]] = Field(default_factory=dict)
    # related records the merge moves from the merged-away records to the master, by kind (Salesforce child
    # object, HubSpot association), as the target's connector counted them when planning (``merge_preview``)
    preview: dict[str, int] = Field(default_factory=dict)


Operation = Annotated[UpdateOp | MergeOp, Field(discriminator="op")]


class KeptAsIs(BaseModel):
    """A field the plan leaves as it is because the target has no place for a value the rules keep (issue 11), or
    would refuse the value for that record (a picklist value its record type does not allow)."""

    model_config = ConfigDict(extra="forbid")

    record_id: str
    field: str
    reason: str


class PlanSource(BaseModel):
    """How to reopen the source the plan was made from."""

    model_config = ConfigDict(extra="forbid")

    spec: str
    kind: str
    id_column: str
    object_type: str | None = None
    options: dict[str, str | None] = Field(default_factory=dict)


class Plan(BaseModel):
    """The whole plan file."""

    model_config = ConfigDict(extra="forbid")

    plan_version: Literal[1] = 1
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    source: PlanSource
    rules_path: str | None = None
    rules_hash: str | None = None
    steps: list[str] = Field(default_factory=list)
    operations: list[Operation] = Field(default_factory=list)
    versions: dict[str, str] = Field(default_factory=dict)  # record id -> version when planned
    labels: dict[str, str] = Field(default_factory=dict)  # record id -> a readable name for the diff
    notes: list[str] = Field(default_factory=list)
    kept: list[KeptAsIs] = Field(default_factory=list)  # fields not updated: the target has no place for a value
    # sha256 of source, operations and versions, set when the plan is saved: apply refuses a plan edited since
    signature: str | None = None

    @property
    def updates(self) -> list[UpdateOp]:
        return [op for op in self.operations if isinstance(op, UpdateOp)]

    @property
    def merges(self) -> list[MergeOp]:
        return [op for op in self.operations if isinstance(op, MergeOp)]

    def summary(self) -> dict[str, int]:
        updates = self.updates
        merges = self.merges
        return {
            "updates": len(updates),
            "records_updated": len({u.record_id for u in updates}),
            "merges": len(merges),
            "records_merged_away": sum(len(m.loser_ids) for m in merges),
        }


# ---------------------------------------------------------------- files


def plan_key_path() -> Path:
    """Where this user's plan-signing key lives: ``CRMCLEAN_KEY_FILE``, else ``$XDG_CONFIG_HOME/crmclean/plan.key``."""
    env = os.environ.get("CRMCLEAN_KEY_FILE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crmclean" / "plan.key"


def _plan_key() -> bytes:
    """The secret that signs plans (32 random bytes, created 0600 on first use).

    A plain hash could be recomputed by whoever edits ``plan.json``; a keyed one cannot without this file,
    so apply only writes plans this user's crmclean made (move the key file with the plans to apply elsewhere).
    """
    path = plan_key_path()
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".plan.key.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # first writer wins: two processes never sign with different keys
    finally:
        os.unlink(tmp)
    return path.read_bytes()


def plan_signature(plan: Plan) -> str:
    """The keyed hash that pins what a plan writes and where: its source (target), operations and record versions."""
    content = {"source": plan.source.model_dump(mode="json"),
               "operations": [op.model_dump(mode="json") for op in plan.operations],
               "versions": plan.versions}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "hmac-sha256:" + hmac.new(_plan_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_plan(plan: Plan, path: str | None = None) -> str:
    """Refuse a plan file changed since it was made (content or target), or one whose merges lost their versions."""
    where = path or "the plan"
    hint = "make a new plan with `crmclean plan SOURCE -o FILE` and review it"
    if plan.signature is None:
        raise UsageError(f"{where} is not signed (made by hand or by an older crmclean); refusing to apply it",
                         hint=hint)
    if not hmac.compare_digest(plan.signature, plan_signature(plan)):
        raise UsageError(f"{where} was changed after it was made (its operations, versions or target no longer "
                         "match its signature); refusing to apply it", hint=hint)
    for op in plan.merges:
        missing = [rid for rid in (op.master_id, *op.loser_ids) if rid not in op.versions and rid not in plan.versions]
        if missing:
            raise UsageError(f"merge {op.cluster_id} in {where} has no planned version for {', '.join(missing)}: "
                             "apply could not tell whether someone edited them since", hint=hint)
    return plan.signature


def save_plan(plan: Plan, path: str | Path) -> str:
    """Write the plan as JSON atomically, signed (see ``verify_plan``); returns its content hash."""
    path = Path(path)
    plan.signature = plan_signature(plan)
    text = plan_json(plan)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return content_hash(text)


def plan_json(plan: Plan, *, indent: int | None = 1) -> str:
    # pydantic's own serializer: a 100,000-operation plan in well under a second
    return plan.model_dump_json(indent=indent) + "\n"


def content_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file; errors name the file and the operation at fault."""
    path = Path(path)
    if not path.exists():
        raise UsageError("plan file not found", path=str(path), hint="make one with `crmclean plan SOURCE -o FILE`")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not a UTF-8 plan file ({exc.reason})", path=str(path)) from None
    return parse_plan(text, str(path))


def parse_plan(text: str, path: str = "<plan>") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno, column=exc.colno) from None
    if not isinstance(data, dict) or "plan_version" not in data:
        raise ConfigError("not a crmclean plan (no plan_version)", path=path)
    if data.get("plan_version") != PLAN_VERSION:
        raise ConfigError(f"plan_version {data.get('plan_version')!r} is not supported (expected {PLAN_VERSION})",
                          path=path)
    try:
        return Plan.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"`{where}`: {first['msg']}", path=path) from None


# ---------------------------------------------------------------- building


def plan_from_results(
    table: RecordTable,
    changes: pl.DataFrame | None = None,
    golden: Any = None,
    *,
    version_of: VersionOf | None = None,
    include_suggestions: bool = False,
    source_options: Mapping[str, str | None] | None = None,
    rules_path: str | None = None,
    rules_hash: str | None = None,
    steps: Sequence[str] = (),
    notes: Iterable[str] = (),
    kept_as_is: Sequence[Any] = (),
) -> Plan:
    """Turn a change log (CHANGE_SCHEMA) and golden records (dedupe) into a plan against ``table``.

    ``kept_as_is`` (crmclean.writeback.mapping.Kept) are fields whose update would drop a value; the plan
    leaves them as they are and lists them in ``kept``.
    """
    version_of = version_of or values_hash
    id_col = table.id_column
    # a CRM refuses writes to read-only fields (formulas, system stamps, Contact.Name) and ids are no text to fix
    read_only = {f.name for f in table.fields if not f.updateable or f.type in ("id", "reference")}
    writable = set(table.data_columns) - {id_col} - read_only
    note_list = list(notes)
    updates = _updates_from_changes(table, changes, writable, include_suggestions, note_list)
    updates, kept = _map_kept_values(table, updates, writable, kept_as_is)

    touched = {u.record_id for u in updates}
    merge_rows = _golden_rows(golden)
    for m in merge_rows:
        touched.add(m["master_id"])
        touched.update(m["loser_ids"])
    rows = _rows_by_id(table, touched)

    # what each record will look like once the plan's updates are applied (merges are checked against it)
    after_updates: dict[str, Record] = {rid: dict(rec) for rid, rec in rows.items()}
    for u in updates:
        if u.record_id in after_updates:
            after_updates[u.record_id][u.field] = u.after

    merges: list[MergeOp] = []
    if merge_rows and id_col.startswith("__"):
        note_list.append(f"{len(merge_rows)} merge(s) left out: the file has no id column, and deleting rows would "
                         "renumber the rest; re-run with --id-column")
        merge_rows = []
    for m in merge_rows:
        members = [m["master_id"], *m["loser_ids"]]
        missing = [rid for rid in members if rid not in rows]
        if missing:
            note_list.append(f"cluster {m['cluster_id']}: record(s) {missing} not in the source; merge left out")
            continue
        master = after_updates[m["master_id"]]
        values = {f: _text(v) for f, v in m["values"].items() if f in writable and _text(v) != master.get(f)}
        values, merge_kept = _map_merge_values(values, master, table.kind, writable, m["master_id"])
        kept.extend(merge_kept)
        merges.append(
            MergeOp(
                cluster_id=m["cluster_id"],
                master_id=m["master_id"],
                loser_ids=list(m["loser_ids"]),
                values=values,
                reasons={f: r for f, r in m["reasons"].items() if f in values or f == "master"},
                snapshots={rid: {k: v for k, v in after_updates[rid].items() if not k.startswith("__")}
                           for rid in members},
                versions={rid: sorted({version_of(rows[rid]), version_of(after_updates[rid])}) for rid in members},
            )
        )

    versions = {rid: version_of(rec) for rid, rec in rows.items()}
    return Plan(
        source=PlanSource(
            spec=table.source,
            kind=table.kind,
            id_column=id_col,
            object_type=table.object_type,
            options={k: v for k, v in (source_options or {}).items() if v is not None},
        ),
        rules_path=rules_path,
        rules_hash=rules_hash,
        steps=list(steps),
        operations=[*updates, *merges],
        versions=versions,
        labels=_labels(table, rows),
        notes=note_list,
        kept=kept,
    )


def _map_merge_values(values: dict[str, str | None], master: Record, kind: str, writable: set[str],
                      master_id: str) -> tuple[dict[str, str | None], list[KeptAsIs]]:
    """A merge's multi-value golden cells spread over the target's fields, or kept as is (issue 11)."""
    from crmclean.writeback.mapping import map_merge_values

    mapped, kept = map_merge_values(values, master, kind, writable, master_id)
    return mapped, [KeptAsIs(record_id=k.record_id, field=k.field, reason=k.reason) for k in kept]


def _map_kept_values(table: RecordTable, updates: list[UpdateOp], writable: set[str],
                     kept_as_is: Sequence[Any]) -> tuple[list[UpdateOp], list[KeptAsIs]]:
    """Every kept value gets a place in the target, or its field is left as it is (crmclean.writeback.mapping)."""
    from crmclean.writeback.mapping import drop_kept, map_values

    updates = drop_kept(updates, kept_as_is)
    rows = _rows_by_id(table, {u.record_id for u in updates})
    updates, more = map_values(
        updates, rows, table.kind, writable,
        lambda rid, f, before, after, rule, reason: UpdateOp(record_id=rid, field=f, before=before, after=after,
                                                             rule=rule, reason=reason))
    # a mapped value the target already holds ("+7… x123" in Salesforce's own convention) is no update
    updates = [u for u in updates if (u.before or None) != (u.after or None)]
    return updates, [KeptAsIs(record_id=k.record_id, field=k.field, reason=k.reason) for k in [*kept_as_is, *more]]


def _updates_from_changes(table: RecordTable, changes: pl.DataFrame | None, writable: set[str],
                          include_suggestions: bool, notes: list[str]) -> list[UpdateOp]:
    if changes is None or changes.height == 0:
        return []
    ch = changes
    if not include_suggestions and "confidence" in ch.columns:
        ch = ch.filter(pl.col("confidence") == "fix")
    unknown = sorted(set(ch.get_column("column").unique().to_list()) - writable)
    if unknown:
        # derived columns (e.g. Phone__ext) and the id column are never written back
        ch = ch.filter(pl.col("column").is_in(sorted(writable)))
        notes.append(f"changes to columns not in the source (or read-only there) left out: "
                     f"{', '.join(str(u) for u in unknown[:10])}")
    if ch.height == 0:
        return []
    for col in ("rule", "reason"):
        if col not in ch.columns:
            ch = ch.with_columns(pl.lit("").alias(col))
    # successive rules may touch one cell: keep the first before, the last after, all rule codes
    collapsed = (
        ch.with_columns(pl.col("rule").fill_null(""), pl.col("reason").fill_null(""))
        .group_by(["record_id", "column"], maintain_order=True)
        .agg(
            pl.col("before").first(),
            pl.col("after").last(),
            pl.col("rule").unique(maintain_order=True).str.join("+"),
            pl.col("reason").filter(pl.col("reason") != "").unique(maintain_order=True).str.join("; "),
        )
        .filter(~pl.col("before").eq_missing(pl.col("after")))
    )
    # an empty string and a missing value are one thing in a CRM field (and in a file cell)
    collapsed = collapsed.with_columns(pl.when(pl.col("after") == "").then(None).otherwise(pl.col("after"))
                                       .alias("after"))
    # the plan's before-value is what the source holds now, whatever the change log says
    long = table.frame.select(pl.col(table.id_column).alias("record_id"), *sorted(writable)).unpivot(
        index="record_id", variable_name="column", value_name="current")
    collapsed = collapsed.join(long, on=["record_id", "column"], how="left", maintain_order="left")
    collapsed = collapsed.with_columns(pl.col("current").alias("before")).filter(
        ~pl.col("before").eq_missing(pl.col("after")))
    return [
        UpdateOp(record_id=str(r[0]), field=r[1], before=r[2], after=r[3], rule=r[4] or "", reason=r[5] or "")
        for r in collapsed.select("record_id", "column", "before", "after", "rule", "reason").iter_rows()
    ]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _rows_by_id(table: RecordTable, ids: set[str]) -> dict[str, Record]:
    if not ids:
        return {}
    sub = table.frame.filter(pl.col(table.id_column).is_in(sorted(ids)))
    return {str(r[table.id_column]): r for r in sub.iter_rows(named=True)}


def _labels(table: RecordTable, rows: Mapping[str, Record]) -> dict[str, str]:
    """A readable name per record for the diff: the person's name, else the company, else the email."""
    by_role = table.by_role
    groups = [
        by_role.get("full_name", []) or [*by_role.get("last_name", []), *by_role.get("first_name", [])],
        by_role.get("company", []),
        by_role.get("email", []),
    ]
    labels = {}
    for rid, rec in rows.items():
        for cols in groups:
            parts = [str(rec[c]) for c in cols[:3] if rec.get(c)]
            if parts:
                labels[rid] = " ".join(parts)[:60]
                break
    return labels


def _as_mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            loaded = json.loads(value)
        except ValueError:
            return {"master": value}
        return dict(loaded) if isinstance(loaded, Mapping) else {}
    if isinstance(value, list):  # list of {field, value} structs
        out = {}
        for item in value:
            if isinstance(item, Mapping) and "field" in item:
                out[str(item["field"])] = item.get("value", item.get("reason"))
        return out
    return {}


def _as_ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        return [v.strip() for v in text.replace(";", ",").split(",") if v.strip()]
    if isinstance(value, pl.Series):
        value = value.to_list()
    return [str(v) for v in value]


_GOLDEN_META = frozenset({"cluster_id", "master_id", "master", "loser_ids", "losers", "reasons", "survivorship",
                           "decision", "size", "score", "match_score"})


def _reason_text(reason: Any) -> str:
    """'most_recent (from C0042)' from survivorship's {rule, from}; other shapes as text."""
    if isinstance(reason, Mapping):
        rule, source = reason.get("rule"), reason.get("from")
        return f"{rule} (from {source})" if source is not None else str(rule)
    return str(reason)


def _golden_rows(golden: Any) -> list[dict[str, Any]]:
    """Normalize dedupe's golden records (a frame or objects) to dicts: cluster_id, master_id, loser_ids, values, reasons."""
    if golden is None:
        return []
    if isinstance(golden, pl.DataFrame):
        if golden.height == 0:
            return []
        items: list[Mapping[str, Any]] = list(golden.iter_rows(named=True))
    else:
        items = [g if isinstance(g, Mapping) else vars(g) for g in golden]
    out = []
    for g in items:
        decision = g.get("decision")
        if decision is not None and decision != "match":
            continue  # `review` clusters are for a person to decide, never merged automatically
        master = g.get("master_id", g.get("master"))
        losers = _as_ids(g.get("loser_ids", g.get("losers")))
        if master is None or not losers:
            continue
        packed = g.get("values", g.get("golden", g.get("golden_values")))
        if packed is not None:
            values = _as_mapping(packed)
        else:  # wide rows: one column per golden field (crmclean.matching's golden frame)
            values = {k: v for k, v in g.items() if k not in _GOLDEN_META and not k.endswith("__all")}
        out.append({
            "cluster_id": str(g.get("cluster_id", master)),
            "master_id": str(master),
            "loser_ids": [loser for loser in losers if loser != str(master)],
            "values": values,
            "reasons": {k: _reason_text(v) for k, v in _as_mapping(g.get("reasons", g.get("survivorship"))).items()},
        })
    return out


def build_plan(
    table: RecordTable,
    rules: Any,
    *,
    version_of: VersionOf | None = None,
    steps: Sequence[str] = ("standardize", "dedupe"),
    include_suggestions: bool = False,
    source_options: Mapping[str, str | None] | None = None,
) -> Plan:
    """Run the rules' standardization and deduplication on ``table`` and plan the writes they imply."""
    notes: list[str] = []
    changes = None
    golden = None
    working = table
    kept: list[Any] = []
    if "standardize" in steps:
        try:
            from crmclean.standardize import standardize_table
        except ImportError:
            notes.append("standardization is not available in this build: no field updates planned")
        else:
            result = standardize_table(table, rules, apply_suggestions=include_suggestions)
            changes = result.changes
            working = result.table  # duplicates are found on standardized values
            from crmclean.writeback.mapping import moved_out

            kept = moved_out(table, result)  # a salutation/suffix moved to a column the target lacks
    if "dedupe" in steps and table.object_type == "deals":
        notes.append("deals are not deduplicated (the matcher compares people and companies): no merges planned")
    elif "dedupe" in steps:
        try:
            from crmclean.matching.engine import dedupe
        except ImportError:
            notes.append("deduplication is not available in this build: no merges planned")
        else:
            golden = dedupe(working, rules).golden
    return plan_from_results(
        table,
        changes,
        golden,
        version_of=version_of,
        include_suggestions=include_suggestions,
        source_options=source_options,
        rules_path=getattr(rules, "path", None),
        rules_hash=getattr(rules, "content_hash", None) or None,
        steps=steps,
        notes=notes,
        kept_as_is=kept,
    )


def _refused(connector: Any, hook: str, request: list[Any], keys: list[Any]) -> dict[Any, str]:
    """What the connector's optional ``hook`` says the target would refuse, by key, with its reason. Fail closed:
    when the target could not be asked, every item is refused ("could not check it")."""
    ask = getattr(connector, hook, None)
    if not callable(ask) or not request:
        return {}
    try:
        return dict(ask(request))
    except ConnectorError as err:
        return {k: f"could not check it: {err}" for k in keys}


def consult_target(plan: Plan, connector: Any) -> None:
    """Ask the target about the plan through the connector's optional hooks (see :mod:`crmclean.connectors.base`):
    ``invalid_values`` names planned field values the target would not take for that record (Salesforce: a picklist
    value the record's record type does not allow): those updates leave the plan and are listed in ``kept``;
    ``merge_blockers`` names merges the target must not get (they leave the plan, a note gives the reason); a
    merge's golden values go through ``invalid_values`` for the master too (a refused one is dropped from the merge,
    the master keeps its own value, and ``kept`` says why); then
    ``merge_preview`` counts the related records each remaining merge will move to its master. A connector without
    them, or one that cannot tell, leaves the plan as it is (a note says why)."""
    updates, merges = plan.updates, plan.merges
    bad = _refused(connector, "invalid_values", [FieldUpdate(op.record_id, {op.field: op.after}) for op in updates],
                   [(op.record_id, op.field) for op in updates])
    blocked = _refused(connector, "merge_blockers", [MergeRequest(m.master_id, tuple(m.loser_ids)) for m in merges],
                       [m.master_id for m in merges])
    plan.kept.extend(KeptAsIs(record_id=op.record_id, field=op.field, reason=bad[(op.record_id, op.field)])
                     for op in updates if (op.record_id, op.field) in bad)
    plan.notes.extend(f"merge {m.cluster_id} (keep {m.master_id}, merge away {', '.join(m.loser_ids)}) "
                      f"not planned: {blocked[m.master_id]}" for m in merges if m.master_id in blocked)
    plan.operations = [op for op in plan.operations
                       if not (isinstance(op, UpdateOp) and (op.record_id, op.field) in bad)
                       and not (isinstance(op, MergeOp) and op.master_id in blocked)]
    # a merge's golden values are written to the master: the master's record type must allow them too
    merges = plan.merges
    golden = _refused(connector, "invalid_values", [FieldUpdate(m.master_id, m.values) for m in merges if m.values],
                      [(m.master_id, f) for m in merges for f in m.values])
    for m in merges:
        for f in [f for f in m.values if (m.master_id, f) in golden]:
            del m.values[f]
            plan.kept.append(KeptAsIs(record_id=m.master_id, field=f, reason=f"merge {m.cluster_id}: "
                                      f"{golden[(m.master_id, f)]} (the master keeps its own value; the "
                                      "merged-away records' values stay in the journal for rollback)"))
    preview = getattr(connector, "merge_preview", None)
    if not callable(preview) or not merges:
        return
    try:
        found = preview([MergeRequest(m.master_id, tuple(m.loser_ids)) for m in merges])
    except ConnectorError as err:
        plan.notes.append(f"merge preview not available: {err}")
        return
    for m in merges:
        counts = found.get(m.master_id)
        if counts:
            m.preview = {str(kind): int(n) for kind, n in counts.items()}


# ---------------------------------------------------------------- showing


def _show(value: str | None) -> str:
    return "∅" if value is None else json.dumps(value, ensure_ascii=False)


def _flagging_merges(kind: str) -> str | None:
    """How a target that cannot merge through its API handles a merge (its connector says), else None."""
    try:
        from crmclean.connectors import connector_prefixes, load_connector_factory

        if kind.lower() not in connector_prefixes():
            return None
        factory = load_connector_factory(kind)
    except Exception:  # a plugin that fails to load still lets the plan be shown
        return None
    if not getattr(factory, "merge_keeps_records", False):
        return None
    return str(getattr(factory, "merge_description", "") or "duplicates are flagged for a person to merge in the CRM")


def _kept_lines(plan: Plan, limit: int | None) -> list[str]:
    """Fields left as they are because the target has no place for a value (issue 11)."""
    if not plan.kept:
        return []
    lines = ["", f"{len(plan.kept)} field(s) kept as is (the target has no place for the value, or refuses it there):"]
    for i, k in enumerate(plan.kept):
        if limit is not None and i >= limit:
            lines.append(f"  … {len(plan.kept) - i} more")
            break
        label = plan.labels.get(k.record_id)
        lines.append(f"= record {k.record_id}" + (f"  ({label})" if label else "") + f"  {k.field}: {k.reason}")
    return lines


def render_plan_diff(plan: Plan, *, limit: int | None = None) -> str:
    """A readable diff: per record its field changes, then each merge with the fields the master gains."""
    lines = [f"Plan for {plan.source.spec} (created {plan.created_at}, rules {plan.rules_hash or 'built-in'})", ""]
    by_record: dict[str, list[UpdateOp]] = {}
    for u in plan.updates:
        by_record.setdefault(u.record_id, []).append(u)
    for shown, (rid, ups) in enumerate(by_record.items()):
        if limit is not None and shown >= limit:
            lines.append(f"  … {len(by_record) - shown} more record(s) with updates")
            break
        label = plan.labels.get(rid)
        lines.append(f"~ record {rid}" + (f"  ({label})" if label else ""))
        width = max(len(u.field) for u in ups)
        for u in ups:
            lines.append(f"    {u.field.ljust(width)}  {_show(u.before)} → {_show(u.after)}  [{u.rule}]")
    merges = plan.merges
    flagging = _flagging_merges(plan.source.kind) if merges else None
    if merges:
        lines.append("")
    for i, m in enumerate(merges):
        if limit is not None and i >= limit:
            lines.append(f"  … {len(merges) - i} more merge(s)")
            break
        label = plan.labels.get(m.master_id)
        lines.append(f"± merge {m.cluster_id}: keep {m.master_id}" + (f" ({label})" if label else "")
                     + (f", tag as duplicates {', '.join(m.loser_ids)} (merged by hand in the CRM)" if flagging
                        else f", merge away {', '.join(m.loser_ids)}"))
        if "master" in m.reasons:
            lines.append(f"    master: {m.reasons['master']}")
        if m.preview:
            lines.append("    moves to the master: " + ", ".join(f"{n} {kind}" for kind, n in m.preview.items()))
        master = m.snapshots.get(m.master_id, {})
        width = max((len(f) for f in m.values), default=0)
        for f, v in m.values.items():
            why = f"  ({m.reasons[f]})" if f in m.reasons else ""
            lines.append(f"    {f.ljust(width)}  {_show(master.get(f))} → {_show(v)}{why}")
    s = plan.summary()
    lines += ["", f"Plan: {s['updates']} field update(s) in {s['records_updated']} record(s), "
                  f"{s['merges']} merge(s) ({s['records_merged_away']} record(s) "
                  + ("tagged as duplicates, none removed)." if flagging else "merged away).")]
    if flagging:
        lines.append(f"note: {flagging}")
    for note in plan.notes:
        lines.append(f"note: {note}")
    lines.extend(_kept_lines(plan, limit))
    return "\n".join(lines)
