"""The connector protocol every source and target implements: describe fields, read pages, write changes.

The pipeline never knows which CRM (or file) it talks to. A connector:

* ``describe()``  -> field metadata (name, label, type, updateable, picklist values)
* ``read_pages(fields, where)`` -> an iterator of polars DataFrames, every column ``pl.String``
* ``fetch(ids, fields)``   -> current values of given records (used by apply to detect drift)
* ``version_of(record)``   -> the record's version stamp (last-modified, or a hash of its values)
* ``update(updates)``      -> per-record outcomes of field updates (connector splits into its own batch size)
* ``merge(request)``       -> outcome of one merge (master keeps golden values, losers go away)
* ``create(records)``      -> outcomes of re-creating records (rollback of merges), ids assigned by target
* ``delete(ids)``          -> outcomes of deleting records (rollback of a re-create)
* ``close()``              -> flush; file targets write atomically here

Optional, looked up with ``getattr`` (a connector without them keeps the default behaviour):

* ``merge_outcome(request)`` -> after a merge whose reply failed or was lost: per-record outcomes read from
  the target (did the merge land?); without it the engine reads the records back itself
* ``find_created(values, since)`` -> ids of records holding ``values`` created at or after ``since`` (UTC):
  an interrupted re-create is found instead of made twice; without it such a record is reported failed
* ``version_stamp = "values"`` -> the target's last-modified stamp also moves on its own internal updates (HubSpot):
  apply decides conflicts by the values of the fields a write touches and reads (``Unit.expect``), not the stamp
* ``merge_preview(merges: Sequence[MergeRequest]) -> {master_id: {kind: count}}`` -> for each planned merge, how
  many related records of each kind (Salesforce child objects, HubSpot associations) the merge moves from the
  merged-away records to the master; ``plan`` stores it in each merge (``MergeOp.preview``) and ``plan --show``
  prints it (``crmclean.writeback.plan.consult_target``); without it nothing is shown
* ``merge_blockers(merges: Sequence[MergeRequest]) -> {master_id: reason}`` -> merges the target must not get
  (Salesforce: different record types, a person account with a business account); ``plan`` leaves them out and
  notes the reason
* ``invalid_values(updates: Sequence[FieldUpdate]) -> {(record_id, field): reason}`` -> planned values the target
  would refuse for that record (Salesforce: a picklist value the record's record type does not allow); ``plan``
  keeps those fields as they are and lists them in ``Plan.kept``

Paging, retries with backoff, batch limits and rate limits live inside each connector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, Protocol, runtime_checkable

import polars as pl

Value = str | None
Record = dict[str, Value]
OutcomeStatus = Literal["ok", "failed", "conflict", "skipped"]


@dataclass(frozen=True)
class FieldInfo:
    """Metadata of one field (column) of a source."""

    name: str
    label: str | None = None
    type: str = "string"
    updateable: bool = True
    required: bool = False
    picklist: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldUpdate:
    """New values for some fields of one record."""

    record_id: str
    values: Mapping[str, Value]


@dataclass(frozen=True)
class MergeRequest:
    """Merge ``loser_ids`` into ``master_id``; the master then holds ``values``."""

    master_id: str
    loser_ids: tuple[str, ...]
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteOutcome:
    """What the target said about one record of a write."""

    record_id: str
    status: OutcomeStatus
    error: str | None = None
    new_id: str | None = None  # set by create()


CREATE_CLOCK_SKEW = timedelta(minutes=5)  # ``find_created`` looks this long before the attempt (our clock vs the CRM's)


def landed_create(copies: Sequence[str], error: str) -> tuple[str | None, str | None]:
    """What the copies ``find_created`` found after an uncertain create (a lost reply, a gateway error, an
    interrupted run) mean: ``(id, note)`` when exactly one copy landed (it is the record: never create again),
    ``(None, why)`` when several did (a person keeps one), ``(None, None)`` when none did (the caller decides
    whether to send again or report ``error``). The one place connectors and the write engine read it."""
    if len(copies) == 1:
        return str(copies[0]), f"{error}; found created as {copies[0]}"
    if copies:
        return None, (f"{error}; {len(copies)} records holding these values were created since "
                      f"({', '.join(map(str, copies[:5]))}): keep one")
    return None, None


@runtime_checkable
class Connector(Protocol):
    """A source of records that may also accept writes."""

    spec: str  # what the user typed, e.g. "contacts.csv" or "salesforce:Contact"
    kind: str  # "csv", "xlsx", "parquet", "jsonl", "salesforce", "hubspot"
    id_field: str  # name of the record id column in pages ("__row_id" when synthesized)
    max_batch: int  # most records one write request may carry
    capabilities: frozenset[str]  # subset of {"update", "merge", "create", "delete"}

    def describe(self) -> list[FieldInfo]: ...

    def read_pages(
        self, fields: Sequence[str] | None = None, where: str | None = None
    ) -> Iterator[pl.DataFrame]: ...

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]: ...

    def version_of(self, record: Mapping[str, Value]) -> str: ...

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]: ...

    def merge(self, request: MergeRequest) -> list[WriteOutcome]: ...

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]: ...

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]: ...

    def close(self) -> None: ...


def values_hash(record: Mapping[str, Value], ignore: Sequence[str] = ()) -> str:
    """A stable version stamp for targets without last-modified dates: sha1 of sorted field values."""
    h = hashlib.sha1()
    for key in sorted(record):
        if key in ignore or key.startswith("__"):
            continue
        value = record[key]
        h.update(key.encode())
        h.update(b"\x1f")
        h.update(b"\x00" if value is None else value.encode())
        h.update(b"\x1e")
    return h.hexdigest()[:16]
