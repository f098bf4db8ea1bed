"""An in-memory CRM for write-back tests: ids assigned on create, merges delete the merged-away records, every write
stamps a new version, and faults: replies lost after the write landed, and a kill hook at any call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from crmclean.connectors.base import FieldInfo, FieldUpdate, MergeRequest, Record, Value, WriteOutcome

FIELDS = ("Name", "Email", "Phone", "City")


class FakeCrm:
    """The CRM's state, shared by every connector opened on it (as a server would be)."""

    def __init__(self, records: Mapping[str, Mapping[str, Value]]) -> None:
        self.records: dict[str, dict[str, Value]] = {}
        self.clock = 0
        self.next_id = 1000
        for rid, values in records.items():
            self.records[rid] = {"Id": rid, **{f: values.get(f) for f in FIELDS}, "Stamp": self._tick()}
        self.lose_replies: set[str] = set()  # "update", "merge", "create", "delete": the write lands, the reply fails
        self.created_at: dict[str, datetime] = {}
        self.before_call: Callable[[str], None] | None = None  # tests raise here to simulate a kill mid-call

    def _tick(self) -> str:
        self.clock += 1
        return f"v{self.clock}"

    def values(self) -> list[tuple[Value, ...]]:
        """What a person sees: every record's field values, ids aside (re-created records get new ids)."""
        return sorted(tuple(r[f] or "" for f in FIELDS) for r in self.records.values())

    def by_id(self) -> dict[str, dict[str, Value]]:
        """Every record's values by id; an empty value and a missing one are the same (as in the engine)."""
        return {rid: {f: r[f] or None for f in FIELDS} for rid, r in self.records.items()}


class FakeCrmConnector:
    spec = "fakecrm:Contact"
    kind = "fakecrm"
    id_field = "Id"
    max_batch = 3
    capabilities = frozenset({"update", "merge", "create", "delete"})

    def __init__(self, crm: FakeCrm) -> None:
        self.crm = crm

    def _call(self, name: str) -> None:
        if self.crm.before_call is not None:
            self.crm.before_call(name)

    def describe(self) -> list[FieldInfo]:
        return [FieldInfo("Id", updateable=False), *(FieldInfo(f) for f in FIELDS), FieldInfo("Stamp", updateable=False)]

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        yield pl.DataFrame(list(self.crm.records.values()), schema={k: pl.String for k in ("Id", *FIELDS, "Stamp")})

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        self._call("fetch")
        return {rid: dict(self.crm.records[rid]) for rid in ids if rid in self.crm.records}

    def version_of(self, record: Mapping[str, Value]) -> str:
        return str(record.get("Stamp"))

    def _reply(self, op: str, outs: list[WriteOutcome]) -> list[WriteOutcome]:
        if op in self.crm.lose_replies:
            return [WriteOutcome(o.record_id, "failed", "read timed out") for o in outs]
        return outs

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        self._call("update")
        outs = []
        for u in updates:
            rec = self.crm.records.get(u.record_id)
            if rec is None:
                outs.append(WriteOutcome(u.record_id, "failed", "ENTITY_IS_DELETED"))
                continue
            rec.update(u.values)
            rec["Stamp"] = self.crm._tick()
            outs.append(WriteOutcome(u.record_id, "ok"))
        return self._reply("update", outs)

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        self._call("merge")
        master = self.crm.records.get(request.master_id)
        if master is None or any(r not in self.crm.records for r in request.loser_ids):
            return [WriteOutcome(request.master_id, "failed", "ENTITY_IS_DELETED")]
        master.update(request.values)
        master["Stamp"] = self.crm._tick()
        for rid in request.loser_ids:
            del self.crm.records[rid]
        return self._reply("merge", [WriteOutcome(request.master_id, "ok"),
                                     *(WriteOutcome(r, "ok") for r in request.loser_ids)])

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        self._call("create")
        outs = []
        for values in records:
            self.crm.next_id += 1
            rid = f"N{self.crm.next_id}"
            self.crm.records[rid] = {"Id": rid, **{f: values.get(f) for f in FIELDS}, "Stamp": self.crm._tick()}
            outs.append(WriteOutcome(rid, "ok", new_id=rid))
        return self._reply("create", outs)

    def records_created(self, rid: str) -> None:
        self.crm.created_at[rid] = datetime.now(UTC).replace(tzinfo=None)

    def find_created(self, values: Mapping[str, Value], since: datetime) -> list[str]:
        """Records holding ``values`` created at or after ``since`` (as a CreatedDate query would find)."""
        self._call("fetch")
        return [rid for rid, rec in self.crm.records.items()
                if self.crm.created_at.get(rid, datetime.min) >= since
                and all((rec.get(f) or None) == (values.get(f) or None) for f in FIELDS)]

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        self._call("delete")
        outs = []
        for rid in ids:
            outs.append(WriteOutcome(rid, "ok" if self.crm.records.pop(rid, None) is not None else "failed"))
        return self._reply("delete", outs)

    def close(self) -> None:
        pass


def fake_plan(crm: FakeCrm, updates: Sequence[tuple[str, str, Value]],
              merges: Sequence[tuple[str, Sequence[str], Mapping[str, Value]]]) -> Any:
    """A plan over ``crm``: field updates first, then merges whose snapshots expect those updates."""
    from crmclean.writeback.plan import MergeOp, Plan, PlanSource, UpdateOp

    ops: list[Any] = []
    after = {rid: dict(r) for rid, r in crm.records.items()}
    touched: set[str] = set()
    for rid, fld, value in updates:
        ops.append(UpdateOp(record_id=rid, field=fld, before=after[rid][fld], after=value, rule="test"))
        after[rid][fld] = value
        touched.add(rid)
    for n, (master, losers, values) in enumerate(merges):
        ids = [master, *losers]
        ops.append(MergeOp(cluster_id=f"c{n}", master_id=master, loser_ids=list(losers), values=dict(values),
                           snapshots={r: {f: after[r][f] for f in FIELDS} for r in ids},
                           versions={r: [str(crm.records[r]["Stamp"])] for r in ids}))
        touched.update(ids)
    return Plan(source=PlanSource(spec="fakecrm:Contact", kind="fakecrm", id_column="Id"), operations=ops,
                versions={rid: str(crm.records[rid]["Stamp"]) for rid in touched})
