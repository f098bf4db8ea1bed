"""Apply a plan as a new journaled run: the plan's operations become units of work (updates per record, merges)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from crmclean.connectors.base import Connector
from crmclean.errors import UsageError
from crmclean.table import ROW_ID
from crmclean.writeback.engine import Engine, Unit, expect_values
from crmclean.writeback.plan import MergeOp, Plan, UpdateOp, verify_plan
from crmclean.writeback.run import RunReport, finish_run, interrupt_guard
from crmclean.writeback.store import Journal
from crmclean.writeback.targets import FILE_KINDS, target_details


def units_from_plan(plan: Plan, only: str | None = None) -> list[Unit]:
    """Updates grouped per record (one version check per record), then merges; ``only`` picks one kind."""
    if only not in (None, "updates", "merges"):
        raise UsageError(f"--only must be `updates` or `merges`, not {only!r}")
    units: list[Unit] = []
    if only in (None, "updates"):
        by_record: dict[str, Unit] = {}
        for op in plan.operations:
            if not isinstance(op, UpdateOp):
                continue
            unit = by_record.get(op.record_id)
            if unit is None:
                version = plan.versions.get(op.record_id)
                unit = Unit(key=f"update:{op.record_id}", op="update", record_id=op.record_id,
                            accept={op.record_id: frozenset([version])} if version else {})
                by_record[op.record_id] = unit
                units.append(unit)
            if op.field in unit.changes:  # two operations on one cell: the first before, the last after
                op_before = unit.changes[op.field][0]
            else:
                op_before = op.before
            unit.changes[op.field] = (op_before, op.after)
            unit.rules[op.field] = op.rule
    if only in (None, "merges"):
        seen: set[str] = set()
        # a merge's snapshots hold the values after the plan's updates; a record whose update did not happen
        # still holds its before-values
        befores: dict[str, dict[str, str | None]] = {}
        for op in plan.operations:
            if isinstance(op, UpdateOp):
                befores.setdefault(op.record_id, {}).setdefault(op.field, op.before)
        for op in plan.operations:
            if not isinstance(op, MergeOp):
                continue
            key = f"merge:{op.cluster_id}"
            while key in seen:
                key += "'"
            seen.add(key)
            master = op.snapshots.get(op.master_id, {})
            units.append(Unit(
                key=key, op="merge", record_id=op.master_id, loser_ids=tuple(op.loser_ids),
                changes={f: (master.get(f), v) for f, v in op.values.items()},
                # a record the merge does not pin falls back to the version the plan recorded for it
                accept={**{rid: frozenset([plan.versions[rid]]) for rid in (op.master_id, *op.loser_ids)
                            if rid in plan.versions},
                        **{rid: frozenset(vs) for rid, vs in op.versions.items()}},
                # by-values targets: every field of every record of the cluster as the plan saw it (the golden values
                # were chosen from all of them)
                expect={rid: expect_values(snap, befores.get(rid)) for rid, snap in op.snapshots.items()},
                cluster_id=op.cluster_id, reasons=dict(op.reasons),
            ))
    return units


def count_changes(units: Sequence[Unit]) -> int:
    """What --max-changes limits: field updates plus merges."""
    return sum(len(u.changes) for u in units if u.op == "update") + sum(1 for u in units if u.op != "update")

def apply_plan(
    plan: Plan,
    connector: Connector,
    journal: Journal,
    *,
    only: str | None = None,
    batch_size: int | None = None,
    max_changes: int | None = None,
    dry_run: bool = False,
    plan_path: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Apply ``plan`` through ``connector`` as a new journaled run (or, with ``dry_run``, only check it)."""
    units = units_from_plan(plan, only)
    connector.describe()  # file targets read the file here: id column, encoding and delimiter
    changes = count_changes(units)
    if max_changes is not None and changes > max_changes:
        raise LimitExceeded(f"the plan has {changes} changes, more than --max-changes {max_changes}; nothing written",
                            hint="review the plan (`crmclean plan --show`) and raise the limit if it is right")
    _check_plan_source(plan, connector)
    if plan_path is not None:  # a plan file: refuse one edited since it was made, or pointed at another target
        verify_plan(plan, plan_path)
        _check_planned_target(plan, connector)
    details = target_details(connector, plan)
    if dry_run:
        engine = Engine(connector, None, None, batch_size=batch_size, dry_run=True, progress=progress)
        engine.run(units)
        counts: dict[str, int] = {"units": len(units), "ok": 0, "failed": 0, "conflict": 0, "skipped": 0}
        for final in engine.final.values():
            counts[final] += 1
        return RunReport(None, "apply", "dry-run", details["target"], counts, engine.problems, dry_run=True)
    details.update({"plan_path": plan_path, "only": only, "batch_size": batch_size, "changes": changes,
                    "plan_signature": plan.signature})
    run_id = journal.start_apply_run(plan, mode="write", rules_hash=plan.rules_hash, details=details)
    engine = Engine(connector, journal, run_id, batch_size=batch_size, progress=progress)
    with interrupt_guard(journal, run_id):
        engine.run(units)
        connector.close()
    return finish_run(journal, run_id, "apply", details["target"], engine, units)


class LimitExceeded(UsageError):
    """The plan holds more changes than the safety limit allows."""


def _check_planned_target(plan: Plan, connector: Connector) -> None:
    """Writes go to the planned source (or, for files, to the --out the user chose): never anywhere else."""
    if connector.kind in FILE_KINDS:
        same = Path(connector.spec).resolve() == Path(plan.source.spec).resolve()
    else:
        same = connector.spec.split(":", 1)[0].lower() == plan.source.spec.split(":", 1)[0].lower() and \
            connector.spec.split(":", 1)[-1] == plan.source.spec.split(":", 1)[-1]
    if not same:
        raise UsageError(f"the plan was made for {plan.source.spec} ({plan.source.kind}), not {connector.spec} "
                         f"({connector.kind}); refusing to write there")


def _check_plan_source(plan: Plan, connector: Connector) -> None:
    if plan.source.id_column != connector.id_field and not (
            plan.source.id_column == ROW_ID and connector.id_field == ROW_ID):
        raise UsageError(f"the plan identifies records by {plan.source.id_column!r} but the target by "
                         f"{connector.id_field!r}", hint="pass the same --id-column as when planning")
