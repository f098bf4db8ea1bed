"""A stateful in-memory emulator of the HubSpot CRM v3 API subset that crmclean's HubSpot connector uses.

It serves real HTTP on 127.0.0.1 so the real ``hubspot-api-client`` can talk to it, and it behaves like
HubSpot where the connector depends on it:

* ``GET  /crm/v3/properties/{objectType}`` -> property definitions (type, fieldType, options, read-only, hidden)
* ``GET  /crm/v3/objects/{objectType}`` -> pages of at most 100 (``limit`` > 100 is a 400, as at HubSpot),
  ordered by id, cursor ``paging.next.after``; ``properties`` (repeated or comma separated); ``archived``
* ``GET|PATCH|DELETE /crm/v3/objects/{objectType}/{id}``, ``POST /crm/v3/objects/{objectType}``
* ``POST .../batch/read|update|create|archive`` (at most 100 inputs; 207 multi-status with per-record
  ``errors`` when some ids are unknown; 400 for the whole batch when a property value is invalid,
  409 when a contact e-mail already exists, as HubSpot does)
* ``POST .../search`` (filterGroups, sorts, query, ``limit`` <= 200, ``after`` offset, 10,000 result cap); at most
  5 search requests per second (``search_rate_limit``), a 429 ``SECONDLY`` past that, and no
  ``X-HubSpot-RateLimit-*`` headers on search answers, as "Search the CRM" documents
  (https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm, limitations)
* ``POST .../merge`` ``{primaryObjectId, objectIdToMerge}``: by default (``merge_new_id=True``, as HubSpot
  does for contacts and companies since its "Updated merge functionality" changelog) both records are merged
  into a new record with a new id, and reading either old id returns that record; ``merge_new_id=False`` keeps
  the primary's id (the former behaviour). The merged records are archived and remembered in the survivor's
  ``hs_merged_object_ids``. Primary values win; the primary's empty properties are filled from the merged record.
  The merged records' associations move to the survivor, as HubSpot combines the associations of both records
  ("Merge records", https://knowledge.hubspot.com/records/merge-records); the survivor keeps one primary company,
  the primary record's (the changelog above: associations from the primary record are prioritized, excess
  "primary" labels from the merged record are dropped and those associations stay unlabeled).
* ``POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read`` ``{inputs: [{id, after?}]}``: at most
  1,000 inputs (400 past it, "Bug Fix: Batch Read Limit for HubSpot Associations API",
  https://developers.hubspot.com/changelog/bug-fix-batch-read-limit-for-hubspot-associations-api); each result is
  ``{from: {id}, to: [{toObjectId, associationTypes: [{category, typeId, label}]}], paging?}`` with at most
  ``association_page_size`` (500) associations, ``paging.next.after`` present only when more are left, asked for
  by sending that ``after`` beside the id (https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/
  associate-records/batch/get-associations); an id without associations (or unknown, archived) is a per-id error
  (``OBJECT_NOT_FOUND``, ``crm.associations.NO_ASSOCIATIONS_FOUND``) in a 207 answer. Associations are loaded with
  ``associations=`` / ``associate`` or an ``associations`` key on a row of ``objects=`` and are symmetric (a
  contact's company lists the contact); type ids are HubSpot's defaults (``ASSOCIATION_TYPE_IDS``).
* Bearer-token auth (401 ``INVALID_AUTHENTICATION``), a rolling per-interval request budget answering 429
  with ``Retry-After`` and ``X-HubSpot-RateLimit-*`` headers, and fault injection for tests.

Records are stored per object type with numeric string ids. Writes bump ``lastmodifieddate`` (contacts) or
``hs_lastmodifieddate`` (other objects) to a strictly increasing timestamp, so every write changes the
version stamp; so does ``touch_internal`` (HubSpot's own updates: workflows, calculated properties, associations,
which move the last-modified date without a user edit). Empty strings clear a property (stored and returned as null).

Run it by hand: ``python -m crmclean.testing.hubspot_emulator --port 8765 --load contacts.csv`` (see ``cli``).
"""

from __future__ import annotations

import bisect
import fnmatch
import json
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crmclean.connectors._emulator import EmulatorHandler, LocalHttpServer

JSON = dict[str, Any]

LIST_LIMIT = 100  # GET /crm/v3/objects/{type}: most records one page may ask for
BATCH_LIMIT = 100  # inputs per batch request
SEARCH_LIMIT = 200  # results per search page
SEARCH_MAX_RESULTS = 10_000  # search never pages past this many results
SEARCH_MAX_GROUPS = 5
SEARCH_MAX_FILTERS_PER_GROUP = 10
SEARCH_MAX_FILTERS = 25
SEARCH_RATE_LIMIT = 5  # search requests per second per account ("Search the CRM", limitations)
ASSOCIATION_BATCH_LIMIT = 1000  # ids per v4 associations batch read
ASSOCIATION_PAGE_SIZE = 500  # associations of one id per answer before paging.next (the emulator's page)

# HUBSPOT_DEFINED association type ids (unlabeled, primary label) by direction (Associations v4 guide, "Association
# type ID values", https://developers.hubspot.com/docs/api/crm/associations); only a company can be a primary one
ASSOCIATION_TYPE_IDS: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1), ("companies", "contacts"): (280, 2),
    ("deals", "companies"): (341, 5), ("companies", "deals"): (342, 6),
    ("tickets", "companies"): (339, 26), ("companies", "tickets"): (340, 25),
    ("deals", "contacts"): (3, None), ("contacts", "deals"): (4, None),
    ("contacts", "tickets"): (15, None), ("tickets", "contacts"): (16, None),
}

FAULT_KINDS = ("429", "500", "502", "503", "504", "timeout", "partial_failure", "landed_504")

# HubSpot accepts singular names and object type ids for its standard objects.
_ALIASES = {
    "contact": "contacts", "0-1": "contacts",
    "company": "companies", "0-2": "companies",
    "deal": "deals", "0-3": "deals",
    "ticket": "tickets", "0-5": "tickets",
}

_DEFAULT_PROPERTIES = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
              "hs_object_id", "pipeline"),
    "tickets": ("content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline",
                "hs_pipeline_stage", "hs_ticket_priority", "subject"),
}

_SEARCHABLE_TEXT = ("firstname", "lastname", "email", "phone", "company", "name", "domain", "website",
                    "dealname", "subject")

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN_SPLIT_RE = re.compile(r"[^0-9a-zа-яё*?]+", re.IGNORECASE)


def normalize_object_type(name: str) -> str:
    """``Contact`` / ``contact`` / ``0-1`` -> ``contacts``; custom object names are kept."""
    lowered = name.strip().lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if lowered in _DEFAULT_PROPERTIES:
        return lowered
    return name.strip()


def last_modified_property(object_type: str) -> str:
    """The property HubSpot bumps on every write of this object type."""
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def created_property(object_type: str) -> str:
    return "createdate" if object_type in _DEFAULT_PROPERTIES else "hs_createdate"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _to_ms(value: str) -> int | None:
    """Epoch milliseconds of a HubSpot date value (ms number or ISO 8601), None if it is neither."""
    text = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return int(float(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


# ----------------------------------------------------------------------------------------------------
# property definitions


def property_definition(
    name: str,
    label: str | None = None,
    *,
    type: str = "string",  # HubSpot's own key name
    field_type: str | None = None,
    options: Sequence[str] = (),
    read_only: bool = False,
    hidden: bool = False,
    group: str = "emulator",
    hubspot_defined: bool = True,
) -> JSON:
    """One property definition in the shape ``GET /crm/v3/properties/{objectType}`` returns."""
    if field_type is None:
        field_type = {"number": "number", "datetime": "date", "date": "date", "enumeration": "select",
                      "bool": "booleancheckbox"}.get(type, "text")
    return {
        "name": name,
        "label": label or name.replace("_", " ").title(),
        "type": type,
        "fieldType": field_type,
        "description": "",
        "groupName": group,
        "options": [
            {"label": opt.replace("_", " ").title(), "value": opt, "displayOrder": i, "hidden": False}
            for i, opt in enumerate(options)
        ],
        "displayOrder": -1,
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": name == "hs_object_id",
        "hidden": hidden,
        "hubspotDefined": hubspot_defined,
        "formField": not read_only and not hidden,
        "modificationMetadata": {"archivable": not hubspot_defined, "readOnlyDefinition": hubspot_defined,
                                 "readOnlyValue": read_only},
        "createdAt": "2020-01-01T00:00:00Z",
        "updatedAt": "2020-01-01T00:00:00Z",
        "archived": False,
    }


_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
              "customer", "evangelist", "other")


def _standard_properties(object_type: str) -> list[JSON]:
    p = property_definition
    common = [
        p("hs_object_id", "Record ID", type="number", read_only=True),
        p("hs_merged_object_ids", "Merged Record IDs", type="enumeration", field_type="checkbox",
          read_only=True),
        p(last_modified_property(object_type), "Last Modified Date", type="datetime", read_only=True),
        p(created_property(object_type), "Create Date", type="datetime", read_only=True),
    ]
    if object_type == "contacts":
        return [
            *common,
            p("email", "Email"), p("firstname", "First Name"), p("lastname", "Last Name"),
            p("phone", "Phone Number", type="string", field_type="phonenumber"),
            p("mobilephone", "Mobile Phone Number", field_type="phonenumber"), p("company", "Company Name"),
            p("jobtitle", "Job Title"), p("website", "Website URL"), p("address", "Street Address"),
            p("city", "City"), p("state", "State/Region"), p("zip", "Postal Code"), p("country", "Country/Region"),
            p("lifecyclestage", "Lifecycle Stage", type="enumeration", field_type="radio", options=_LIFECYCLE),
            p("hs_lead_status", "Lead Status", type="enumeration", field_type="radio",
              options=("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
                       "CONNECTED", "BAD_TIMING")),
            p("hubspot_owner_id", "Contact owner", type="enumeration"),
            p("hs_all_contact_vids", "All vids for a contact", type="enumeration", field_type="checkbox",
              read_only=True, hidden=True),
        ]
    if object_type == "companies":
        return [
            *common,
            p("name", "Company name"), p("domain", "Company Domain Name"), p("phone", "Phone Number"),
            p("website", "Website URL"), p("address", "Street Address"), p("city", "City"),
            p("state", "State/Region"), p("zip", "Postal Code"), p("country", "Country/Region"),
            p("industry", "Industry"), p("numberofemployees", "Number of Employees", type="number"),
            p("annualrevenue", "Annual Revenue", type="number"),
            p("lifecyclestage", "Lifecycle Stage", type="enumeration", field_type="radio", options=_LIFECYCLE),
            p("hubspot_owner_id", "Company owner", type="enumeration"),
            p("hs_all_owner_ids", "All owner IDs", type="enumeration", field_type="checkbox", read_only=True,
              hidden=True),
        ]
    if object_type == "deals":
        return [
            *common,
            p("dealname", "Deal Name"), p("amount", "Amount", type="number"),
            p("dealstage", "Deal Stage", type="enumeration", field_type="radio",
              options=("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                       "decisionmakerboughtin", "contractsent", "closedwon", "closedlost")),
            p("pipeline", "Pipeline", type="enumeration", options=("default",)),
            p("closedate", "Close Date", type="datetime"), p("hubspot_owner_id", "Deal owner", type="enumeration"),
        ]
    if object_type == "tickets":
        return [
            *common,
            p("subject", "Ticket name"), p("content", "Ticket description", field_type="textarea"),
            p("hs_pipeline", "Pipeline", type="enumeration", options=("0",)),
            p("hs_pipeline_stage", "Ticket status", type="enumeration", options=("1", "2", "3", "4")),
            p("hs_ticket_priority", "Priority", type="enumeration", options=("LOW", "MEDIUM", "HIGH", "URGENT")),
            p("hs_ticket_category", "Category", type="enumeration", field_type="checkbox"),
        ]
    return common


# ----------------------------------------------------------------------------------------------------
# state


@dataclass
class _Record:
    id: str
    properties: dict[str, str | None]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None
    merged_into: str | None = None


@dataclass
class _Store:
    name: str
    records: dict[str, _Record] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # sorted numeric ids, for cursor paging
    definitions: dict[str, JSON] = field(default_factory=dict)

    def add(self, record: _Record) -> None:
        self.records[record.id] = record
        bisect.insort(self.order, int(record.id))


@dataclass(frozen=True)
class RequestLog:
    """One HTTP request the emulator answered."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    status: int
    fault: str | None = None


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_contains: str | None
    fail_ids: frozenset[str] | None = None
    retry_after: int = 1
    drawn: bool = False  # from random_faults, not from inject()


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (emulated timeout)
    fault: str | None = None


class _HubSpotError(Exception):
    """Raised inside a route to answer with HubSpot's error body."""

    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/crm/v3/properties/(?P<type>[^/]+)/?$"), "_list_properties"),
    ("GET", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/?$"), "_list_objects"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/read$"), "_batch_read"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/update$"), "_batch_update"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/create$"), "_batch_create"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/archive$"), "_batch_archive"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/search$"), "_search"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/merge$"), "_merge"),
    ("POST", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/?$"), "_create_one"),
    ("POST", re.compile(r"^/crm/v4/associations/(?P<type>[^/]+)/(?P<to>[^/]+)/batch/read$"), "_read_associations"),
    ("GET", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/(?P<id>[^/]+)$"), "_get_one"),
    ("PATCH", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/(?P<id>[^/]+)$"), "_patch_one"),
    ("DELETE", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/(?P<id>[^/]+)$"), "_archive_one"),
]


class HubSpotEmulator(LocalHttpServer):
    """In-memory HubSpot CRM v3 served over HTTP; use as a context manager in tests.

    ``objects`` maps an object type to rows: either flat ``{"email": ..., "id": "12"}`` mappings or
    HubSpot-shaped ``{"id": "12", "properties": {...}, "archived": False}``; either may carry
    ``"associations": {"companies": ["2001", ...]}``. ``associations`` adds more as ``(from type, from id, to type,
    to id[, primary])``. Properties that the object type does not define yet are added as custom text properties. ``rate_limit`` requests are allowed per
    ``rate_interval`` seconds (HubSpot private apps: 100 / 10 s); ``clock`` drives that budget so tests can
    use a fake clock.
    """

    def __init__(
        self,
        objects: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        *,
        access_token: str | None = None,
        rate_limit: int = 100,
        rate_interval: float = 10.0,
        properties: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        merge_new_id: bool = True,
        associations: Iterable[Sequence[Any]] = (),
        association_page_size: int = ASSOCIATION_PAGE_SIZE,
        daily_limit: int | None = None,
        search_rate_limit: int | None = SEARCH_RATE_LIMIT,
        timeout_delay: float = 1.0,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.access_token = access_token or "pat-emu-" + secrets.token_hex(12)
        self.rate_limit = rate_limit
        self.rate_interval = rate_interval
        self.merge_new_id = merge_new_id
        self.daily_limit = daily_limit  # requests a day; with it, answers carry X-HubSpot-RateLimit-Daily(-Remaining)
        self.daily_used = 0
        # CRM search: at most this many requests in any second, answered 429 past it (None: no such limit)
        self.search_rate_limit = search_rate_limit
        self._search_window: deque[float] = deque()
        self.timeout_delay = timeout_delay
        self.host = host
        self.port = port
        self._clock = clock
        self._lock = threading.RLock()
        self._stores: dict[str, _Store] = {}
        # (type, id) -> {(other type, other id): primary-company label}; kept symmetric
        self._links: dict[tuple[str, str], dict[tuple[str, str], bool]] = {}
        self.association_page_size = association_page_size
        self._next_id = 1001
        self._last_ms = 0
        self._window: deque[float] = deque()
        self._faults: list[_Fault] = []
        self._random: random.Random | None = None
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = ()
        self._log: list[RequestLog] = []
        for name in ("contacts", "companies", "deals", "tickets"):
            self._store(name)
        for name, defs in (properties or {}).items():
            self.add_properties(name, defs)
        for name, rows in (objects or {}).items():
            self.add_records(name, rows)
        for link in associations:
            self.associate(*link)

    # -- lifecycle ------------------------------------------------------------------------------------

    # start / stop / ``with`` / base_url: LocalHttpServer
    thread_name = "hubspot-emulator"

    def handler_class(self) -> type[_Handler]:
        return _Handler

    def env(self) -> dict[str, str]:
        """The variables that point crmclean at this portal."""
        return {"HUBSPOT_BASE_URL": self.base_url, "HUBSPOT_ACCESS_TOKEN": self.access_token}

    def __repr__(self) -> str:  # never show the token
        return f"HubSpotEmulator(base_url={self.base_url!r}, objects={sorted(self._stores)!r})"

    # -- seeding and inspection -----------------------------------------------------------------------

    def add_properties(self, object_type: str, definitions: Iterable[Mapping[str, Any]]) -> None:
        """Define (or redefine) properties: mappings with ``name`` and optionally ``label``, ``type``,
        ``fieldType``, ``options`` (values), ``readOnly``, ``hidden``."""
        with self._lock:
            store = self._store(object_type)
            for d in definitions:
                store.definitions[d["name"]] = property_definition(
                    d["name"], d.get("label"), type=d.get("type", "string"), field_type=d.get("fieldType"),
                    options=tuple(d.get("options", ())), read_only=bool(d.get("readOnly", False)),
                    hidden=bool(d.get("hidden", False)), hubspot_defined=False,
                )

    def add_records(self, object_type: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert records; returns their ids. Ids come from ``id``/``Id``/``hs_object_id`` or are generated."""
        ids: list[str] = []
        with self._lock:
            store = self._store(object_type)
            now = self._tick()
            for row in rows:
                linked = row.get("associations")
                if isinstance(row.get("properties"), Mapping):
                    props = dict(row["properties"])
                    rid = row.get("id") or props.get("hs_object_id")
                    archived = bool(row.get("archived", False))
                else:
                    props = {k: v for k, v in row.items() if k not in ("id", "Id", "ID", "associations")}
                    rid = row.get("id") or row.get("Id") or row.get("ID") or row.get("hs_object_id")
                    archived = str(props.pop("archived", "")).lower() == "true"
                rid = str(rid).strip() if rid not in (None, "") else None
                if rid is not None and not rid.isdigit():
                    raise ValueError(f"HubSpot record ids are numbers; got {rid!r}")
                if rid is None:
                    rid = self._new_id()
                elif rid in store.records:
                    raise ValueError(f"duplicate {object_type} id {rid}")
                else:
                    self._next_id = max(self._next_id, int(rid) + 1)
                clean: dict[str, str | None] = {}
                for key, value in props.items():
                    if key not in store.definitions:
                        store.definitions[key] = property_definition(key, hubspot_defined=False)
                    clean[key] = None if value is None or value == "" else str(value)
                given = clean.get(created_property(store.name))
                created = _to_ms(given) if given else None
                record = _Record(rid, clean, created if created is not None else now, now)
                self._stamp(store, record, now, created=True)
                if archived:
                    record.archived, record.archived_ms = True, now
                store.add(record)
                ids.append(rid)
                for other_type, others in (linked or {}).items():
                    if isinstance(others, Mapping):  # HubSpot's own shape: {"results": [{"id": ..}, ..]}
                        others = [o.get("id") for o in others.get("results") or []]
                    for other in others:
                        self.associate(store.name, rid, other_type, str(other))
        return ids

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, primary: bool = False) -> None:
        """Associate two records (both directions); ``primary``: the company is the other record's primary company.
        The records need not exist yet (rows loaded later)."""
        a = (normalize_object_type(from_type), str(from_id))
        b = (normalize_object_type(to_type), str(to_id))
        with self._lock:
            self._links.setdefault(a, {})[b] = bool(primary)
            self._links.setdefault(b, {})[a] = bool(primary)

    def associations(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids of the ``to_type`` records associated with a record (archived ones left out), in id order."""
        with self._lock:
            return [i for _, i in self._linked(normalize_object_type(from_type), str(from_id),
                                               normalize_object_type(to_type))]

    def primary_company(self, object_type: str, record_id: str) -> str | None:
        """The company a contact, deal or ticket has as its primary company, or None."""
        with self._lock:
            links = self._links.get((normalize_object_type(object_type), str(record_id)), {})
            return next((i for (t, i), primary in sorted(links.items()) if t == "companies" and primary), None)

    def records(self, object_type: str, *, include_archived: bool = False) -> list[JSON]:
        """Copies of the stored records, HubSpot-shaped: ``id``, ``properties``, ``archived``, ``mergedInto``."""
        with self._lock:
            store = self._store(object_type)
            return [self._snapshot(store.records[str(i)]) for i in store.order
                    if include_archived or not store.records[str(i)].archived]

    def record(self, object_type: str, record_id: str) -> JSON | None:
        """One stored record (archived ones too), or None."""
        with self._lock:
            rec = self._store(object_type).records.get(str(record_id))
            return self._snapshot(rec) if rec else None

    def merged_into(self, object_type: str, record_id: str) -> str | None:
        """The id of the record this one was merged into, following chains of merges."""
        with self._lock:
            store = self._store(object_type)
            target = None
            rec = store.records.get(str(record_id))
            while rec is not None and rec.merged_into is not None:
                target = rec.merged_into
                rec = store.records.get(target)
            return target

    def human_edit(self, object_type: str, record_id: str, values: Mapping[str, str | None]) -> str:
        """A person edits the record in HubSpot's UI: values change and the last-modified date moves.

        Returns the new last-modified value. Costs no API request and no rate budget."""
        with self._lock:
            store = self._store(object_type)
            rec = store.records[str(record_id)]
            for key, value in values.items():
                store.definitions.setdefault(key, property_definition(key, hubspot_defined=False))
                rec.properties[key] = None if value in (None, "") else str(value)
            self._stamp(store, rec, self._tick())
            return rec.properties[last_modified_property(store.name)] or ""

    def touch_internal(self, object_type: str, record_id: str, **values: str | None) -> str:
        """HubSpot updates the record itself (a workflow, a calculated property, an association): the last-modified
        date moves; user properties keep their values (read-only ones in ``values`` are set). Returns the new date."""
        with self._lock:
            store = self._store(object_type)
            rec = store.records[str(record_id)]
            for key, value in values.items():
                store.definitions.setdefault(key, property_definition(key, type="number", read_only=True))
                rec.properties[key] = None if value in (None, "") else str(value)
            self._stamp(store, rec, self._tick())
            return rec.properties[last_modified_property(store.name)] or ""

    @property
    def requests(self) -> list[RequestLog]:
        with self._lock:
            return list(self._log)

    def request_count(self, path_contains: str | None = None, method: str | None = None,
                      status: int | None = None) -> int:
        """How many HTTP requests arrived (all of them, faults and errors included), optionally filtered."""
        with self._lock:
            return sum(1 for r in self._log
                       if (path_contains is None or path_contains in r.path)
                       and (method is None or r.method == method.upper())
                       and (status is None or r.status == status))

    def reset_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- fault injection ------------------------------------------------------------------------------

    def inject(self, kind: str | int, count: int = 1, path_contains: str | None = None, *,
               fail_ids: Iterable[str] | None = None, retry_after: int = 1) -> None:
        """Make the next ``count`` matching requests fail.

        ``429``: rate limited with ``Retry-After: retry_after``; ``500``/``502``/``503``/``504``: server
        errors; ``timeout``: the answer (a 504) comes only after ``timeout_delay`` seconds and the request
        is not applied; ``landed_504``: the request is applied, then answered 504 (a gateway timeout after
        the write, which a retry must not repeat blindly); ``partial_failure``: the next batch update answers 207 and fails ``fail_ids`` (by
        default every second input) while applying the others.
        """
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, count, path_contains,
                                       frozenset(map(str, fail_ids)) if fail_ids is not None else None,
                                       retry_after))

    def random_faults(self, rate: float, seed: int = 0,
                      kinds: Sequence[str] = ("429", "502", "503", "timeout")) -> None:
        """Fail a seeded-random share ``rate`` of requests with one of ``kinds``; ``rate=0`` turns it off."""
        for kind in kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._random = random.Random(seed) if rate > 0 else None
            self._random_rate = rate
            self._random_kinds = tuple(kinds)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random = None

    # -- request handling -----------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """Answer one request (called by the HTTP handler thread)."""
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        reply = self._answer(method, path, query, headers, body)
        reply.headers.setdefault("X-HubSpot-Correlation-Id", str(uuid.uuid4()))
        with self._lock:
            self._log.append(RequestLog(method, path, {k: tuple(v) for k, v in query.items()},
                                        reply.status, reply.fault))
        return reply

    def _answer(self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str],
                body: bytes) -> _Reply:
        if headers.get("Authorization", "") != f"Bearer {self.access_token}":
            return self._error_reply(
                401, "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                     "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION")
        fault = self._take_fault(method, path)
        if fault is not None and fault.kind not in ("partial_failure", "landed_504"):
            return self._fault_reply(fault)
        limited = self._rate_check()
        if limited is not None:
            return limited
        searching = method == "POST" and path.endswith("/search")
        if searching:
            limited = self._search_rate_check()
            if limited is not None:
                return limited
        if self.daily_limit is not None:
            with self._lock:
                if self.daily_used >= self.daily_limit:
                    refused = self._error_reply(429, "You have reached your daily limit.", "RATE_LIMITS",
                                                errorType="RATE_LIMIT", policyName="DAILY")
                    refused.headers.update(self._rate_headers())
                    return refused
                self.daily_used += 1
        for route_method, pattern, handler_name in _ROUTES:
            match = pattern.match(path)
            if route_method != method or match is None:
                continue
            try:
                payload: Any = None
                if method in ("POST", "PATCH") and body:
                    try:
                        payload = json.loads(body)
                    except ValueError as exc:
                        raise _HubSpotError(400, f"Invalid input JSON on line 1: {exc}", "VALIDATION_ERROR") \
                            from exc
                with self._lock:
                    store = self._existing_store(match.group("type"))
                    reply: _Reply = getattr(self, handler_name)(store, match.groupdict(), query, payload, fault)
            except _HubSpotError as err:
                if fault is not None and fault.kind == "partial_failure" and not fault.drawn:
                    self._give_back(fault)  # a batch refused as a whole never reached the per-record step
                return self._error_reply(err.status, err.message, err.category, **err.extra)
            if not searching:  # the search endpoints send no X-HubSpot-RateLimit headers
                reply.headers.update(self._rate_headers())
            if fault is not None and fault.kind == "landed_504":
                # the write was applied, but the gateway gave up before the answer came back
                return self._fault_reply(_Fault("504", 0, None))
            return reply
        return self._error_reply(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        is_update = method == "POST" and path.endswith("/batch/update")
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0:
                    continue
                if fault.path_contains is not None and fault.path_contains not in path:
                    continue
                if fault.kind == "partial_failure" and not is_update:
                    continue
                fault.remaining -= 1
                return fault
            self._faults = [f for f in self._faults if f.remaining > 0]
            if self._random is not None and self._random.random() < self._random_rate:
                kinds = [k for k in self._random_kinds if k != "partial_failure" or is_update]
                if kinds:
                    return _Fault(self._random.choice(kinds), 0, None, drawn=True)
        return None

    def _give_back(self, fault: _Fault) -> None:
        with self._lock:
            fault.remaining += 1
            if fault not in self._faults:
                self._faults.append(fault)

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.kind == "429":
            reply = self._error_reply(429, "You have reached your ten_secondly_rolling limit.", "RATE_LIMITS",
                                      errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
            reply.headers["Retry-After"] = str(fault.retry_after)
            reply.headers.update(self._rate_headers(remaining=0))
        elif fault.kind == "timeout":
            reply = self._error_reply(504, "Gateway Timeout", "GATEWAY_TIMEOUT")
            reply.delay = self.timeout_delay
        else:
            status = int(fault.kind)
            text = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
                    504: "Gateway Timeout"}[status]
            reply = self._error_reply(status, text, "SERVICE_UNAVAILABLE")
        reply.fault = fault.kind
        return reply

    def _rate_check(self) -> _Reply | None:
        with self._lock:
            now = self._clock()
            while self._window and self._window[0] <= now - self.rate_interval:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                wait = self._window[0] + self.rate_interval - now
                reply = self._error_reply(429, "You have reached your ten_secondly_rolling limit.",
                                          "RATE_LIMITS", errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
                reply.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                reply.headers.update(self._rate_headers(remaining=0))
                return reply
            self._window.append(now)
            return None

    def _search_rate_check(self) -> _Reply | None:
        """HubSpot's CRM search allows 5 requests a second per account; past that a 429 without rate headers."""
        if self.search_rate_limit is None:
            return None
        with self._lock:
            now = self._clock()
            while self._search_window and self._search_window[0] <= now - 1.0:
                self._search_window.popleft()
            if len(self._search_window) >= self.search_rate_limit:
                return self._error_reply(429, "You have reached your secondly limit.", "RATE_LIMITS",
                                         errorType="RATE_LIMIT", policyName="SECONDLY")
            self._search_window.append(now)
            return None

    def _rate_headers(self, remaining: int | None = None) -> dict[str, str]:
        if remaining is None:
            remaining = max(0, self.rate_limit - len(self._window))
        daily: dict[str, str] = {}
        if self.daily_limit is not None:
            daily = {"X-HubSpot-RateLimit-Daily": str(self.daily_limit),
                     "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.daily_used))}
        return {
            **daily,
            "X-HubSpot-RateLimit-Max": str(self.rate_limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_interval * 1000)),
        }

    @staticmethod
    def _error_reply(status: int, message: str, category: str, **extra: Any) -> _Reply:
        body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
        body.update(extra)
        return _Reply(status, body)

    # -- helpers --------------------------------------------------------------------------------------

    def _store(self, object_type: str) -> _Store:
        name = normalize_object_type(object_type)
        store = self._stores.get(name)
        if store is None:
            store = _Store(name)
            for definition in _standard_properties(name):
                store.definitions[definition["name"]] = definition
            self._stores[name] = store
        return store

    def _existing_store(self, object_type: str) -> _Store:
        store = self._stores.get(normalize_object_type(object_type))
        if store is None:
            raise _HubSpotError(400, f"Unable to infer object type from: {object_type}", "VALIDATION_ERROR")
        return store

    def _new_id(self) -> str:
        rid = str(self._next_id)
        self._next_id += 1
        return rid

    def _tick(self) -> int:
        """Now in epoch ms, strictly increasing so every write gets a new version stamp."""
        now = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = now
        return now

    def _stamp(self, store: _Store, rec: _Record, now: int, *, created: bool = False) -> None:
        rec.updated_ms = now
        rec.properties["hs_object_id"] = rec.id
        rec.properties[last_modified_property(store.name)] = _iso(now)
        if created or rec.properties.get(created_property(store.name)) is None:
            rec.properties[created_property(store.name)] = _iso(rec.created_ms)

    @staticmethod
    def _snapshot(rec: _Record) -> JSON:
        return {"id": rec.id, "properties": dict(rec.properties), "archived": rec.archived,
                "mergedInto": rec.merged_into}

    def _public(self, store: _Store, rec: _Record, names: Sequence[str] | None) -> JSON:
        always = ("hs_object_id", created_property(store.name), last_modified_property(store.name))
        wanted = list(names) if names else list(_DEFAULT_PROPERTIES.get(store.name, ()))
        props: dict[str, str | None] = {}
        for name in (*always, *wanted):
            if name in store.definitions and name not in props:
                props[name] = rec.properties.get(name)
        body: JSON = {"id": rec.id, "properties": props, "createdAt": _iso(rec.created_ms),
                      "updatedAt": _iso(rec.updated_ms), "archived": rec.archived}
        if rec.archived and rec.archived_ms is not None:
            body["archivedAt"] = _iso(rec.archived_ms)
        return body

    @staticmethod
    def _names(values: Iterable[str] | None) -> list[str]:
        names: list[str] = []
        for value in values or ():
            names.extend(n.strip() for n in str(value).split(",") if n.strip())
        return names

    @staticmethod
    def _inputs(payload: Any, *, what: str, limit: int = BATCH_LIMIT) -> list[JSON]:
        if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
            raise _HubSpotError(400, "Invalid input JSON: expected an object with 'inputs'", "VALIDATION_ERROR")
        inputs = payload["inputs"]
        if len(inputs) > limit:
            raise _HubSpotError(400, f"Batch {what} limit exceeded: at most {limit} inputs, got "
                                     f"{len(inputs)}", "VALIDATION_ERROR")
        return inputs

    def _batch_reply(self, status_ok: int, results: list[JSON], errors: list[JSON]) -> _Reply:
        started = _iso(int(time.time() * 1000))
        body: JSON = {"status": "COMPLETE", "results": results, "startedAt": started, "completedAt": started}
        if errors:
            body["errors"] = errors
            body["numErrors"] = len(errors)
            return _Reply(207, body)
        return _Reply(status_ok, body)

    @staticmethod
    def _record_error(category: str, message: str, ids: Sequence[str], status: str = "error") -> JSON:
        return {"status": status, "category": category, "message": message, "context": {"ids": list(ids)},
                "errors": [], "links": {}}

    def _validate(self, store: _Store, props: Mapping[str, Any]) -> list[JSON]:
        """HubSpot's per-property value checks; returns the problems found."""
        problems: list[JSON] = []
        for name, raw in props.items():
            definition = store.definitions.get(name)
            if definition is None:
                problems.append({"isValid": False, "message": f'Property "{name}" does not exist',
                                 "error": "PROPERTY_DOESNT_EXIST", "name": name})
                continue
            if definition["modificationMetadata"]["readOnlyValue"]:
                problems.append({"isValid": False, "message": f'"{name}" is a read only property; its value '
                                 "cannot be set.", "error": "READ_ONLY_VALUE", "name": name})
                continue
            if raw is None or raw == "":
                continue
            value = str(raw)
            kind = definition["type"]
            options = [o["value"] for o in definition["options"]]
            if kind == "number" and _float(value) is None:
                problems.append({"isValid": False, "message": f"{value} was not a valid number.",
                                 "error": "INVALID_FLOAT", "name": name})
            elif kind in ("date", "datetime") and _to_ms(value) is None:
                problems.append({"isValid": False, "message": f"{value} was not a valid date.",
                                 "error": "INVALID_DATE", "name": name})
            elif kind == "bool" and value.lower() not in ("true", "false"):
                problems.append({"isValid": False, "message": f"{value} was not a valid boolean.",
                                 "error": "INVALID_BOOLEAN", "name": name})
            elif kind == "enumeration" and options:
                chosen = value.split(";") if definition["fieldType"] == "checkbox" else [value]
                bad = [c for c in chosen if c not in options]
                if bad:
                    problems.append({"isValid": False, "message": f"{bad[0]} was not one of the allowed options: "
                                     f"[{', '.join(options)}]", "error": "INVALID_OPTION", "name": name})
            elif name == "email" and store.name == "contacts" and not _EMAIL_RE.match(value):
                problems.append({"isValid": False, "message": f"Email address {value} is invalid",
                                 "error": "INVALID_EMAIL", "name": name})
        return problems

    def _raise_invalid(self, problems: list[JSON]) -> None:
        if problems:
            raise _HubSpotError(
                400, f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR",
                errors=[{"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                        for p in problems])

    def _apply(self, store: _Store, rec: _Record, props: Mapping[str, Any]) -> None:
        for name, raw in props.items():
            definition = store.definitions[name]
            value = None if raw is None or raw == "" else str(raw)
            if value is not None and definition["type"] in ("date", "datetime") and re.fullmatch(r"\d+", value):
                value = _iso(int(value))
            rec.properties[name] = value
        self._stamp(store, rec, self._tick())

    def _lookup(self, store: _Store, key: str, id_property: str | None, archived: bool) -> _Record | None:
        if id_property and id_property != "hs_object_id":
            definition = store.definitions.get(id_property)
            if definition is None or (not definition.get("hasUniqueValue") and id_property != "email"):
                raise _HubSpotError(400, f"Unable to perform read by non-unique property {id_property}",
                                    "VALIDATION_ERROR")
            for rec in store.records.values():
                if rec.archived == archived and (rec.properties.get(id_property) or "").lower() == key.lower():
                    return rec
            return None
        found = store.records.get(str(key))
        if found is not None and found.archived and not archived and found.merged_into is not None:
            # HubSpot reads a merged-away id as the record it was merged into (under that record's id)
            seen = {found.id}
            while found is not None and found.merged_into is not None and found.merged_into not in seen:
                seen.add(found.merged_into)
                found = store.records.get(found.merged_into)
        if found is None or found.archived != archived:
            return None
        return found

    def _email_owner(self, store: _Store, email: str, skip: str | None = None) -> _Record | None:
        for rec in store.records.values():
            if not rec.archived and rec.id != skip and (rec.properties.get("email") or "").lower() == email.lower():
                return rec
        return None

    def _create(self, store: _Store, props: Mapping[str, Any]) -> _Record:
        now = self._tick()
        rec = _Record(self._new_id(), {}, now, now)
        self._apply(store, rec, props)
        self._stamp(store, rec, rec.updated_ms, created=True)
        store.add(rec)
        return rec

    # -- routes ---------------------------------------------------------------------------------------

    def _list_properties(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                         payload: Any, fault: _Fault | None) -> _Reply:
        return _Reply(200, {"results": [dict(d) for d in store.definitions.values()]})

    def _list_objects(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                      payload: Any, fault: _Fault | None) -> _Reply:
        try:
            limit = int(query.get("limit", ["10"])[-1])
        except ValueError as exc:
            raise _HubSpotError(400, "limit must be a number", "VALIDATION_ERROR") from exc
        if limit < 1 or limit > LIST_LIMIT:
            raise _HubSpotError(400, f"limit must be between 1 and {LIST_LIMIT}, got {limit}", "VALIDATION_ERROR")
        after_text = query.get("after", [""])[-1]
        if after_text and not after_text.isdigit():
            raise _HubSpotError(400, f"Invalid paging cursor after={after_text!r}", "VALIDATION_ERROR")
        archived = query.get("archived", ["false"])[-1].lower() == "true"
        names = self._names(query.get("properties"))
        start = bisect.bisect_left(store.order, int(after_text)) if after_text else 0
        results: list[JSON] = []
        next_after: str | None = None
        order = store.order
        for index in range(start, len(order)):  # no slicing: a copy per page adds up at 100k records
            numeric = order[index]
            rec = store.records[str(numeric)]
            if rec.archived != archived:
                continue
            if len(results) == limit:
                next_after = str(numeric)
                break
            results.append(self._public(store, rec, names))
        body: JSON = {"results": results}
        if next_after is not None:
            body["paging"] = {"next": {"after": next_after,
                                       "link": f"{self.base_url}/crm/v3/objects/{store.name}?after={next_after}"}}
        return _Reply(200, body)

    def _get_one(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                 payload: Any, fault: _Fault | None) -> _Reply:
        archived = query.get("archived", ["false"])[-1].lower() == "true"
        rec = self._lookup(store, params["id"], query.get("idProperty", [None])[-1], archived)
        if rec is None:
            return _Reply(404, None)  # HubSpot answers an unknown id with an empty 404
        return _Reply(200, self._public(store, rec, self._names(query.get("properties"))))

    def _patch_one(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                   payload: Any, fault: _Fault | None) -> _Reply:
        props = (payload or {}).get("properties") or {}
        self._raise_invalid(self._validate(store, props))
        rec = self._lookup(store, params["id"], query.get("idProperty", [None])[-1], False)
        if rec is None:
            return _Reply(404, None)
        self._apply(store, rec, props)
        return _Reply(200, self._public(store, rec, list(props)))

    def _archive_one(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                     payload: Any, fault: _Fault | None) -> _Reply:
        rec = store.records.get(params["id"])
        if rec is not None and not rec.archived:
            rec.archived, rec.archived_ms = True, self._tick()
        return _Reply(204, None)

    def _create_one(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                    payload: Any, fault: _Fault | None) -> _Reply:
        props = (payload or {}).get("properties") or {}
        self._raise_invalid(self._validate(store, props))
        self._check_email_conflicts(store, [props])
        rec = self._create(store, props)
        return _Reply(201, self._public(store, rec, list(props)))

    def _batch_read(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                    payload: Any, fault: _Fault | None) -> _Reply:
        inputs = self._inputs(payload, what="read")
        archived = query.get("archived", ["false"])[-1].lower() == "true"
        id_property = payload.get("idProperty")
        names = self._names(payload.get("properties"))
        results: list[JSON] = []
        missing: list[str] = []
        for item in inputs:
            key = str(item.get("id", ""))
            rec = self._lookup(store, key, id_property, archived)
            if rec is None:
                missing.append(key)
            else:
                results.append(self._public(store, rec, names))
        errors = []
        if missing:
            errors.append(self._record_error(
                "OBJECT_NOT_FOUND", f"Could not get some {store.name.upper().rstrip('S')} objects, they may be "
                "deleted or not exist. Check that ids are valid.", missing))
        return self._batch_reply(200, results, errors)

    def _batch_update(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                      payload: Any, fault: _Fault | None) -> _Reply:
        inputs = self._inputs(payload, what="update")
        ids = [str(item.get("id", "")) for item in inputs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise _HubSpotError(400, f"Duplicate IDs found in batch input: {dupes}. IDs must be unique",
                                "VALIDATION_ERROR")
        problems: list[JSON] = []
        for item in inputs:
            problems.extend(self._validate(store, item.get("properties") or {}))
        self._raise_invalid(problems)
        failing: set[str] = set()
        if fault is not None and fault.kind == "partial_failure":
            failing = set(fault.fail_ids) if fault.fail_ids is not None else set(ids[1::2])
        results: list[JSON] = []
        errors: list[JSON] = []
        missing: list[str] = []
        for item, rid in zip(inputs, ids, strict=True):
            rec = self._lookup(store, rid, item.get("idProperty") or payload.get("idProperty"), False)
            if rec is None:
                missing.append(rid)
                continue
            if rid in failing:
                errors.append(self._record_error(
                    "VALIDATION_ERROR", f"Could not update record {rid} (emulated partial failure)", [rid]))
                continue
            props = item.get("properties") or {}
            self._apply(store, rec, props)
            results.append(self._public(store, rec, list(props)))
        if missing:
            errors.append(self._record_error(
                "OBJECT_NOT_FOUND", f"Could not update some {store.name} records, they may be deleted or not "
                "exist. Check that ids are valid.", missing))
        reply = self._batch_reply(200, results, errors)
        if failing:
            reply.fault = "partial_failure"
        return reply

    def _check_email_conflicts(self, store: _Store, props_list: Sequence[Mapping[str, Any]]) -> None:
        if store.name != "contacts":
            return
        seen: dict[str, int] = {}
        for i, props in enumerate(props_list):
            email = str(props.get("email") or "").strip().lower()
            if not email:
                continue
            owner = self._email_owner(store, email)
            if owner is not None:
                raise _HubSpotError(409, f"Contact already exists. Existing ID: {owner.id}", "CONFLICT")
            if email in seen:
                raise _HubSpotError(409, f"Duplicate email {email} in batch input", "CONFLICT")
            seen[email] = i

    def _batch_create(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                      payload: Any, fault: _Fault | None) -> _Reply:
        inputs = self._inputs(payload, what="create")
        problems: list[JSON] = []
        for item in inputs:
            problems.extend(self._validate(store, item.get("properties") or {}))
        self._raise_invalid(problems)
        self._check_email_conflicts(store, [item.get("properties") or {} for item in inputs])
        results: list[JSON] = []
        for item in inputs:
            props = item.get("properties") or {}
            rec = self._create(store, props)
            body = self._public(store, rec, list(props))
            if item.get("objectWriteTraceId") is not None:
                body["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(body)
        return self._batch_reply(201, results, [])

    def _batch_archive(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                       payload: Any, fault: _Fault | None) -> _Reply:
        inputs = self._inputs(payload, what="archive")
        for item in inputs:
            rec = store.records.get(str(item.get("id", "")))
            if rec is not None and not rec.archived:  # unknown ids are ignored, as HubSpot does
                rec.archived, rec.archived_ms = True, self._tick()
        return _Reply(204, None)

    def _merge(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
               payload: Any, fault: _Fault | None) -> _Reply:
        payload = payload or {}
        primary_id = str(payload.get("primaryObjectId", ""))
        loser_id = str(payload.get("objectIdToMerge", ""))
        if not primary_id or not loser_id:
            raise _HubSpotError(400, "primaryObjectId and objectIdToMerge are required", "VALIDATION_ERROR")
        if primary_id == loser_id:
            raise _HubSpotError(400, "Cannot merge an object with itself", "VALIDATION_ERROR")
        primary = store.records.get(primary_id)
        loser = store.records.get(loser_id)
        for rid, rec in ((primary_id, primary), (loser_id, loser)):
            if rec is None or rec.archived:
                extra = f" (merged into {rec.merged_into})" if rec is not None and rec.merged_into else ""
                raise _HubSpotError(400, f"Object {rid} does not exist or was merged or deleted{extra}",
                                    "VALIDATION_ERROR")
        assert primary is not None and loser is not None
        now = self._tick()
        readonly = {n for n, d in store.definitions.items() if d["modificationMetadata"]["readOnlyValue"]}
        merged_ids = [i for i in (primary.properties.get("hs_merged_object_ids") or "").split(";") if i]
        merged_ids += [i for i in (loser.properties.get("hs_merged_object_ids") or "").split(";") if i]
        merged_ids.append(loser.id)
        for name, value in loser.properties.items():
            if name not in readonly and primary.properties.get(name) is None and value is not None:
                primary.properties[name] = value
        survivor = primary
        if self.merge_new_id:
            survivor = _Record(self._new_id(), dict(primary.properties), primary.created_ms, now)
            store.add(survivor)
            merged_ids.append(primary.id)
            primary.archived, primary.archived_ms, primary.merged_into = True, now, survivor.id
            self._move_links(store.name, primary.id, survivor.id)
        self._move_links(store.name, loser.id, survivor.id)  # after the primary's: its primary company wins
        survivor.properties["hs_merged_object_ids"] = ";".join(merged_ids)
        loser.archived, loser.archived_ms, loser.merged_into = True, now, survivor.id
        self._stamp(store, survivor, now)
        return _Reply(200, self._public(store, survivor, None))

    def _move_links(self, object_type: str, old_id: str, new_id: str) -> None:
        """A merge: ``old_id``'s associations become ``new_id``'s (one association per pair, never duplicated); a
        moved primary-company label is dropped when the survivor already has a primary company."""
        old, new = (object_type, old_id), (object_type, new_id)
        moved = self._links.pop(old, {})
        mine = self._links.setdefault(new, {})
        for other, primary in moved.items():
            back = self._links.setdefault(other, {})
            back.pop(old, None)
            if other == new:
                continue
            if primary and object_type != "companies" and other[0] == "companies" and any(
                    flag for (kind, oid), flag in mine.items() if kind == "companies" and (kind, oid) != other):
                primary = False
            flag = mine.get(other, False) or primary
            mine[other] = back[new] = flag

    def _linked(self, from_type: str, from_id: str, to_type: str) -> list[tuple[bool, str]]:
        """(primary label, id) of the live ``to_type`` records associated with a record, in id order."""
        links = self._links.get((from_type, from_id), {})
        store = self._stores.get(to_type)
        found = []
        for (kind, oid), primary in links.items():
            rec = store.records.get(oid) if store is not None else None
            if kind == to_type and (store is None or rec is None or not rec.archived):
                found.append((primary, oid))
        return sorted(found, key=lambda item: (len(item[1]), item[1]))

    def _read_associations(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                           payload: Any, fault: _Fault | None) -> _Reply:
        to_type = self._existing_store(params["to"]).name
        inputs = self._inputs(payload, what="read associations", limit=ASSOCIATION_BATCH_LIMIT)
        unlabeled, labeled = ASSOCIATION_TYPE_IDS.get((store.name, to_type), (0, None))
        results: list[JSON] = []
        errors: list[JSON] = []
        for item in inputs:
            rid = str((item or {}).get("id", ""))
            after = str((item or {}).get("after") or "0")
            if not after.isdigit():
                raise _HubSpotError(400, f"Invalid paging cursor after={after!r}", "VALIDATION_ERROR")
            rec = store.records.get(rid)
            linked = self._linked(store.name, rid, to_type) if rec is not None and not rec.archived else []
            if not linked:
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                               "message": f"No {to_type} is associated with {store.name} {rid}.",
                               "context": {"fromObjectId": [rid]}, "errors": [], "links": {}})
                continue
            start = int(after)
            page = linked[start:start + self.association_page_size]
            to = []
            for primary, oid in page:
                types = [{"category": "HUBSPOT_DEFINED", "typeId": unlabeled, "label": None}]
                if primary and labeled is not None:
                    types.append({"category": "HUBSPOT_DEFINED", "typeId": labeled, "label": "Primary"})
                to.append({"toObjectId": oid, "associationTypes": types})
            result: JSON = {"from": {"id": rid}, "to": to}
            if start + len(page) < len(linked):
                result["paging"] = {"next": {"after": str(start + len(page))}}
            results.append(result)
        return self._batch_reply(200, results, errors)

    def _search(self, store: _Store, params: Mapping[str, str], query: Mapping[str, list[str]],
                payload: Any, fault: _Fault | None) -> _Reply:
        payload = payload or {}
        limit = int(payload.get("limit") or 10)
        if limit < 1 or limit > SEARCH_LIMIT:
            raise _HubSpotError(400, f"limit must be between 1 and {SEARCH_LIMIT}, got {limit}", "VALIDATION_ERROR")
        offset = int(payload.get("after") or 0)
        if offset + limit > SEARCH_MAX_RESULTS:
            raise _HubSpotError(400, f"The search API cannot page past {SEARCH_MAX_RESULTS} results "
                                     f"(after={offset}, limit={limit})", "VALIDATION_ERROR")
        groups = payload.get("filterGroups") or []
        if len(groups) > SEARCH_MAX_GROUPS:
            raise _HubSpotError(400, f"Too many filter groups: at most {SEARCH_MAX_GROUPS}", "VALIDATION_ERROR")
        total_filters = 0
        for group in groups:
            filters = group.get("filters") or []
            total_filters += len(filters)
            if len(filters) > SEARCH_MAX_FILTERS_PER_GROUP:
                raise _HubSpotError(400, f"Too many filters in a group: at most {SEARCH_MAX_FILTERS_PER_GROUP}",
                                    "VALIDATION_ERROR")
            for flt in filters:
                if flt.get("propertyName") not in store.definitions:
                    raise _HubSpotError(400, f"There was a problem with the request: property "
                                             f"{flt.get('propertyName')!r} does not exist", "VALIDATION_ERROR")
        if total_filters > SEARCH_MAX_FILTERS:
            raise _HubSpotError(400, f"Too many filters: at most {SEARCH_MAX_FILTERS}", "VALIDATION_ERROR")
        text = str(payload.get("query") or "").strip().lower()
        start = self._search_start(store, groups)
        matched: list[_Record] = []
        order = store.order
        for index in range(start, len(order)):
            rec = store.records[str(order[index])]
            if rec.archived:
                continue
            if groups and not any(self._group_matches(store, rec, g) for g in groups):
                continue
            if text and not self._text_matches(rec, text):
                continue
            matched.append(rec)
        sorts = payload.get("sorts") or []
        if sorts:
            sort = sorts[0]
            if isinstance(sort, str):
                name, descending = sort.lstrip("-"), sort.startswith("-")
            else:
                name, descending = sort.get("propertyName", "hs_object_id"), sort.get("direction") == "DESCENDING"
            kind = store.definitions.get(name, {}).get("type", "string")
            present = [r for r in matched if r.properties.get(name) is not None]
            absent = [r for r in matched if r.properties.get(name) is None]
            present.sort(key=lambda r: self._sort_key(r.properties[name] or "", kind), reverse=descending)
            matched = present + absent
        page = matched[offset:offset + limit]
        names = self._names(payload.get("properties"))
        body: JSON = {"total": len(matched), "results": [self._public(store, r, names) for r in page]}
        if offset + limit < len(matched):
            body["paging"] = {"next": {"after": str(offset + limit)}}
        return _Reply(200, body)

    @staticmethod
    def _search_start(store: _Store, groups: Sequence[JSON]) -> int:
        """Skip ids below the lowest ``hs_object_id`` bound every group has (key-set paging stays cheap)."""
        bounds: list[int] = []
        for group in groups:
            best: int | None = None
            for flt in group.get("filters") or []:
                if flt.get("propertyName") == "hs_object_id" and flt.get("operator") in ("GT", "GTE", "EQ"):
                    value = _float(str(flt.get("value", "")))
                    if value is not None:
                        bound = int(value) + (1 if flt["operator"] == "GT" else 0)
                        best = bound if best is None else max(best, bound)
            if best is None:
                return 0
            bounds.append(best)
        return bisect.bisect_left(store.order, min(bounds)) if bounds else 0

    @staticmethod
    def _sort_key(value: str, kind: str) -> tuple[int, float, str]:
        if kind == "number":
            number = _float(value)
            return (0, number if number is not None else 0.0, "")
        if kind in ("date", "datetime"):
            ms = _to_ms(value)
            return (0, float(ms) if ms is not None else 0.0, "")
        return (1, 0.0, value.lower())

    @staticmethod
    def _text_matches(rec: _Record, text: str) -> bool:
        for name in _SEARCHABLE_TEXT:
            value = (rec.properties.get(name) or "").lower()
            if value and (value.startswith(text) or any(t.startswith(text) for t in _TOKEN_SPLIT_RE.split(value))):
                return True
        return False

    def _group_matches(self, store: _Store, rec: _Record, group: JSON) -> bool:
        return all(self._filter_matches(store, rec, flt) for flt in group.get("filters") or [])

    def _filter_matches(self, store: _Store, rec: _Record, flt: JSON) -> bool:
        name = flt["propertyName"]
        op = str(flt.get("operator", "EQ")).upper()
        kind = store.definitions[name]["type"]
        actual = rec.properties.get(name)
        has = actual is not None and actual != ""
        if op == "HAS_PROPERTY":
            return has
        if op == "NOT_HAS_PROPERTY":
            return not has
        if op in ("IN", "NOT_IN"):
            if kind == "enumeration":
                # enumeration options are matched exactly (case-sensitive internal values)
                inside = has and actual in [str(v) for v in flt.get("values") or []]
            elif kind == "string":
                # HubSpot lowercases the stored string, not the values given: they must be lowercase
                inside = has and (actual or "").strip().lower() in [str(v).strip() for v in flt.get("values") or []]
            else:
                values = [self._comparable(str(v), kind) for v in flt.get("values") or []]
                inside = has and self._comparable(actual or "", kind) in values
            return inside if op == "IN" else not inside
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = str(flt.get("value", "")).lower()
            text = (actual or "").lower()
            found = has and (fnmatch.fnmatchcase(text, pattern)
                             or any(fnmatch.fnmatchcase(t, pattern) for t in _TOKEN_SPLIT_RE.split(text) if t))
            return found if op == "CONTAINS_TOKEN" else not found
        target = self._comparable(str(flt.get("value", "")), kind)
        if op == "NEQ":
            return not has or self._comparable(actual or "", kind) != target
        if not has:
            return False
        mine = self._comparable(actual or "", kind)
        if op == "EQ":
            return mine == target
        if op == "BETWEEN":
            high = self._comparable(str(flt.get("highValue", "")), kind)
            return self._less_eq(target, mine) and self._less_eq(mine, high)
        if op == "LT":
            return self._less(mine, target)
        if op == "LTE":
            return self._less_eq(mine, target)
        if op == "GT":
            return self._less(target, mine)
        if op == "GTE":
            return self._less_eq(target, mine)
        raise _HubSpotError(400, f"Unknown filter operator {op}", "VALIDATION_ERROR")

    @staticmethod
    def _comparable(value: str, kind: str) -> float | str:
        if kind in ("number", "date", "datetime"):
            number = _float(value) if kind == "number" else _to_ms(value)
            if number is not None:
                return float(number)
        return value.strip().lower()

    @staticmethod
    def _less(a: float | str, b: float | str) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return a < b
        return str(a) < str(b)

    @classmethod
    def _less_eq(cls, a: float | str, b: float | str) -> bool:
        return a == b or cls._less(a, b)


class _Handler(EmulatorHandler):
    """Turns HTTP into ``HubSpotEmulator.handle`` calls (keep-alive, one write per answer: EmulatorHandler)."""

    emulator: HubSpotEmulator
    server_version = "HubSpotEmulator/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.emulator.handle(self.command, self.path, self.headers, body)  # type: ignore[arg-type]
        if reply.delay:
            time.sleep(reply.delay)
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.body is not None:
                self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (emulated timeout)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_DELETE = _serve
