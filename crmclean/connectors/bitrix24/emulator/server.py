"""A stateful in-memory Bitrix24 portal speaking the REST API over real HTTP, official behaviour by default.

Each behaviour follows a page of the official docs (repository bitrix24/b24restdocs):

* incoming-webhook URLs ``/rest/{user}/{secret}/{method}[.json]``; a wrong secret answers 401
  ``INVALID_CREDENTIALS`` (local-integrations/local-webhooks.md);
* ``crm.{contact,company,lead,deal}.fields|list|get|add|update|delete``. ``list`` pages 50 rows by ``start``
  and counts ``total`` (with ``next``) unless ``start=-1``; filters take the ``> >= < <= = != ! % @ !@`` prefixes;
  ``select: ['*']`` leaves out ``UF_*`` and the multi-value fields, which must be named
  (api-reference/crm/contacts/crm-contact-list.md, settings/performance/huge-data.md);
* ``update`` silently ignores unknown and read-only fields; multi-value items: no ``ID`` adds, ``ID``+``VALUE``
  replaces, ``ID``+``DELETE: 'Y'`` (or an empty VALUE) removes; every write moves ``DATE_MODIFY``
  (api-reference/crm/contacts/crm-contact-update.md); e-mails must look like e-mails (``ERROR_CORE``);
* ``batch``: at most 50 commands given as ``method?query``, ``halt``, per-command errors in ``result_error``,
  ``result_total`` / ``result_next``; one batch is one request for the limit; no nested batch
  (settings/how-to-call-rest-api/batch.md);
* the leaky bucket: 50 requests, then drained by 2 per second (Enterprise 250 / 5), over it 503
  ``QUERY_LIMIT_EXCEEDED`` (limits.md);
* ``crm.duplicate.findbycomm``: at most 20 phones or e-mails, per entity type (phones compared by digits, the
  extension ignored) (api-reference/crm/duplicates/crm-duplicate-find-by-comm.md);
* ``crm.entity.mergeBatch``: administrator only; the first id survives, the others are deleted; an empty field is
  filled from a duplicate, multi-value items are pooled, COMMENTS appended; two different non-empty values of any
  other editable field need a person: ``STATUS: CONFLICT`` and nothing changes
  (api-reference/crm/duplicates/crm-entity-merge-batch.md).

Scripted faults (``inject`` / ``random_faults``): ``503`` (the limit), ``500``, ``502``, ``timeout`` (an answer that
comes too late; nothing applied), ``lost_reply`` (the request is applied, then the answer is a 500), ``ignore_write``
(an update answers ``true`` but stores nothing, as when a field is silently dropped), ``merge_conflict``.
``human_edit`` is a person changing a record in the UI (no request, no limit).
"""

from __future__ import annotations

import bisect
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from crmclean.connectors._emulator import EmulatorHandler, LocalHttpServer
from crmclean.connectors.bitrix24.multifield import MULTI_FIELDS, split_cell
from crmclean.connectors.bitrix24.phpquery import parse as parse_query

JSON = dict[str, Any]

PAGE_SIZE = 50
BATCH_LIMIT = 50
FINDBYCOMM_LIMIT = 20
DEFAULT_BURST = 50  # limits.md: "Others" plans; Enterprise 250
DEFAULT_DRAIN = 2.0  # requests drained per second; Enterprise 5
FAULT_KINDS = ("503", "500", "502", "timeout", "lost_reply", "ignore_write", "merge_conflict")
HTTP_FAULTS = ("503", "500", "502", "timeout", "lost_reply")
ENTITY_TYPE_IDS = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
_MSK = timezone(timedelta(hours=3))
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_ALIASES = {"contacts": "contact", "contact": "contact", "companies": "company", "company": "company",
            "leads": "lead", "lead": "lead", "deals": "deal", "deal": "deal"}


def normalize_entity(name: str) -> str:
    """``contacts`` / ``Contact`` -> ``contact``."""
    key = name.strip().lower()
    if key not in _ALIASES:
        raise ValueError(f"Bitrix24 has no CRM entity {name!r}; one of contacts, companies, leads, deals")
    return _ALIASES[key]


def _f(title: str, type: str = "string", *, read_only: bool = False, multiple: bool = False,
       required: bool = False, items: Sequence[str] = ()) -> JSON:
    d: JSON = {"type": type, "isRequired": required, "isReadOnly": read_only, "isImmutable": False,
               "isMultiple": multiple, "isDynamic": False, "title": title}
    if items:
        d["items"] = [{"ID": v, "VALUE": v} for v in items]
    return d


_COMMON: dict[str, JSON] = {
    "ID": _f("ID", "integer", read_only=True),
    "ASSIGNED_BY_ID": _f("Responsible", "user"),
    "CREATED_BY_ID": _f("Created by", "user", read_only=True),
    "MODIFY_BY_ID": _f("Modified by", "user", read_only=True),
    "DATE_CREATE": _f("Creation Date", "datetime", read_only=True),
    "DATE_MODIFY": _f("Modification Date", "datetime", read_only=True),
    "OPENED": _f("Available to all", "char"),
    "COMMENTS": _f("Comment"),
    "SOURCE_ID": _f("Source", "crm_status"),
}
_PERSON = {"HONORIFIC": _f("Salutation", "crm_status"), "NAME": _f("First Name"),
           "SECOND_NAME": _f("Middle Name"), "LAST_NAME": _f("Last Name"), "POST": _f("Position"),
           "BIRTHDATE": _f("Birthdate", "date"), "ADDRESS_CITY": _f("City"), "ADDRESS_COUNTRY": _f("Country")}
_MULTI = {"PHONE": _f("Phone", "crm_multifield", multiple=True), "EMAIL": _f("E-mail", "crm_multifield", multiple=True),
          "WEB": _f("Website", "crm_multifield", multiple=True), "IM": _f("Messenger", "crm_multifield", multiple=True)}
STANDARD_FIELDS: dict[str, dict[str, JSON]] = {
    "contact": {**_COMMON, **_PERSON, "TYPE_ID": _f("Contact Type", "crm_status"),
                "COMPANY_ID": _f("Company", "crm_company"), "EXPORT": _f("Participates in export", "char"),
                "HAS_PHONE": _f("Phone set", "char", read_only=True), "HAS_EMAIL": _f("E-mail set", "char", read_only=True),
                **_MULTI},
    "lead": {**_COMMON, **_PERSON, "TITLE": _f("Lead Name"), "COMPANY_TITLE": _f("Company Name"),
             "STATUS_ID": _f("Stage", "crm_status"), "OPPORTUNITY": _f("Amount", "double"),
             "CONTACT_ID": _f("Contact", "crm_contact"), "HAS_PHONE": _f("Phone set", "char", read_only=True),
             "HAS_EMAIL": _f("E-mail set", "char", read_only=True), **_MULTI},
    "company": {**_COMMON, "TITLE": _f("Company Name", required=True), "COMPANY_TYPE": _f("Company type", "crm_status"),
                "INDUSTRY": _f("Industry", "crm_status"), "ADDRESS_CITY": _f("City"),
                "ADDRESS_COUNTRY": _f("Country"), "HAS_PHONE": _f("Phone set", "char", read_only=True),
                "HAS_EMAIL": _f("E-mail set", "char", read_only=True), **_MULTI},
    "deal": {**_COMMON, "TITLE": _f("Name"), "STAGE_ID": _f("Stage", "crm_status"),
             "OPPORTUNITY": _f("Amount", "double"), "CURRENCY_ID": _f("Currency", "crm_currency"),
             "CONTACT_ID": _f("Contact", "crm_contact"), "COMPANY_ID": _f("Company", "crm_company"),
             "CLOSEDATE": _f("Closing date", "date")},
}
# fields a merge resolves without asking (the master's value wins); everything else editable must agree
_MERGE_MASTER_WINS = frozenset({"ASSIGNED_BY_ID", "OPENED", "EXPORT", "SOURCE_ID", "TYPE_ID", "HONORIFIC",
                                "COMPANY_ID", "CONTACT_ID", "STATUS_ID", "STAGE_ID", "CURRENCY_ID"})


class _Fail(Exception):
    """Answer one method call with Bitrix24's error body."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.status = status
        self.error = error
        self.description = description


@dataclass
class _Fault:
    kind: str
    remaining: int
    method_contains: str | None


@dataclass(frozen=True)
class RequestLog:
    """One HTTP request the emulator answered (``method``: the REST method, e.g. ``batch``)."""

    method: str
    status: int
    commands: int = 1
    fault: str | None = None


@dataclass
class _Reply:
    status: int
    body: Any
    delay: float = 0.0
    fault: str | None = None


@dataclass
class _Record:
    id: int
    values: dict[str, Any]
    merged_into: int | None = None
    deleted: bool = False


@dataclass
class _Entity:
    name: str
    fields: dict[str, JSON] = field(default_factory=dict)
    records: dict[int, _Record] = field(default_factory=dict)


def _digits(phone: str) -> str:
    body = re.split(r"(?i)\s*(?:доб|ext|x|#)\.?\s*\d+\s*$", phone)[0]
    digits = re.sub(r"\D", "", body)
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits


class Bitrix24Emulator(LocalHttpServer):
    """An in-memory Bitrix24 portal over HTTP; use as a context manager in tests.

    ``objects`` maps an entity (``contacts``/``companies``/``leads``/``deals``) to flat rows: multi-value fields as a
    list of items, a list of values, or a ``", "``-joined string. Unknown ``UF_*`` keys become custom fields.
    ``burst`` / ``drain`` set the leaky bucket (``burst=0`` turns it off); ``clock`` drives it.
    """

    def __init__(self, objects: Mapping[str, Iterable[Mapping[str, Any]]] | None = None, *, user_id: int = 1,
                 secret: str | None = None, burst: int = DEFAULT_BURST, drain: float = DEFAULT_DRAIN,
                 admin: bool = True, timeout_delay: float = 1.0, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.monotonic, portal: str = "emulator.bitrix24.ru") -> None:
        self.user_id = user_id
        self.secret = secret or secrets.token_hex(8)
        self.burst = burst
        self.drain = drain
        self.admin = admin
        self.timeout_delay = timeout_delay
        self.host = host
        self.port = port
        self.portal = portal
        self._clock = clock
        self._lock = threading.RLock()
        self._entities = {name: _Entity(name, dict(defs)) for name, defs in STANDARD_FIELDS.items()}
        self._next_id = 1
        self._next_item = 1
        self._last_stamp = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
        self._level = 0.0
        self._level_at: float | None = None
        self._faults: list[_Fault] = []
        self._random: random.Random | None = None
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = ()
        self._log: list[RequestLog] = []
        for name, rows in (objects or {}).items():
            self.add_records(name, rows)

    # -- lifecycle ----------------------------------------------------------------------------------

    # start / stop / ``with``: LocalHttpServer
    thread_name = "bitrix24-emulator"

    def handler_class(self) -> type[_Handler]:
        return _Handler

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.port}/rest/{self.user_id}/{self.secret}/"

    def env(self) -> dict[str, str]:
        """The variables that point crmclean at this portal."""
        return {"BITRIX24_WEBHOOK_URL": self.webhook_url}

    def __repr__(self) -> str:  # never the secret
        return f"Bitrix24Emulator(http://{self.host}:{self.port}/rest/{self.user_id}/***/)"

    # -- seeding and inspection ---------------------------------------------------------------------

    def add_field(self, entity: str, name: str, title: str | None = None, type: str = "string",
                  *, multiple: bool = False, read_only: bool = False) -> None:
        with self._lock:
            self._entity(entity).fields[name] = _f(title or name, type, multiple=multiple, read_only=read_only)

    def add_records(self, entity: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert records as they are (no validation, no limit); returns their ids."""
        ids: list[str] = []
        with self._lock:
            ent = self._entity(entity)
            for row in rows:
                given = row.get("ID")
                rid = int(given) if given not in (None, "") else self._new_id()
                self._next_id = max(self._next_id, rid + 1)
                rec = _Record(rid, {})
                for key, value in row.items():
                    if key == "ID":
                        continue
                    if key not in ent.fields:
                        ent.fields[key] = _f(key)
                    if key in MULTI_FIELDS:
                        rec.values[key] = self._items_from(key, value)
                    else:
                        rec.values[key] = "" if value is None else str(value)
                rec.values.setdefault("DATE_CREATE", self._stamp())
                rec.values["CREATED_BY_ID"] = str(self.user_id)
                self._touch(rec)
                ent.records[rid] = rec
                ids.append(str(rid))
        return ids

    def records(self, entity: str) -> list[JSON]:
        """Copies of the live records (ID order), multi-value fields as lists of items."""
        with self._lock:
            ent = self._entity(entity)
            return [self._full(r) for _, r in sorted(ent.records.items()) if not r.deleted]

    def record(self, entity: str, record_id: str | int) -> JSON | None:
        with self._lock:
            rec = self._entity(entity).records.get(int(record_id))
            return None if rec is None or rec.deleted else self._full(rec)

    def merged_into(self, entity: str, record_id: str | int) -> str | None:
        with self._lock:
            rec = self._entity(entity).records.get(int(record_id))
            return str(rec.merged_into) if rec is not None and rec.merged_into is not None else None

    def human_edit(self, entity: str, record_id: str | int, values: Mapping[str, Any]) -> str:
        """A person edits the record in the UI: values change, DATE_MODIFY moves. Returns the new DATE_MODIFY."""
        with self._lock:
            rec = self._entity(entity).records[int(record_id)]
            for key, value in values.items():
                if key in MULTI_FIELDS:
                    rec.values[key] = self._items_from(key, value)
                else:
                    rec.values[key] = "" if value is None else str(value)
            self._touch(rec)
            return str(rec.values["DATE_MODIFY"])

    def request_count(self, method: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._log if (method is None or r.method == method)
                       and (status is None or r.status == status))

    @property
    def requests(self) -> list[RequestLog]:
        with self._lock:
            return list(self._log)

    def reset_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -- faults -------------------------------------------------------------------------------------

    def inject(self, kind: str | int, count: int = 1, method_contains: str | None = None) -> None:
        """Make the next ``count`` matching calls fail with ``kind`` (see the module docstring).

        HTTP faults (503, 500, 502, timeout, lost_reply) match the request's method (``batch`` for a batch);
        ``ignore_write`` and ``merge_conflict`` match commands, inside a batch too."""
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, count, method_contains))

    def random_faults(self, rate: float, seed: int = 0, kinds: Sequence[str] = ("503", "500", "timeout")) -> None:
        """Fail a seeded-random share ``rate`` of requests with one of the HTTP fault ``kinds``."""
        for kind in kinds:
            if kind not in HTTP_FAULTS:
                raise ValueError(f"random faults are HTTP faults ({', '.join(HTTP_FAULTS)}), not {kind!r}")
        with self._lock:
            self._random = random.Random(seed) if rate > 0 else None
            self._random_rate = rate
            self._random_kinds = tuple(kinds)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random = None

    def _take(self, kinds: Sequence[str], method: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.kind in kinds and (
                        fault.method_contains is None or fault.method_contains in method):
                    fault.remaining -= 1
                    return fault.kind
            self._faults = [f for f in self._faults if f.remaining > 0]
            if kinds is HTTP_FAULTS and self._random is not None and self._random.random() < self._random_rate:
                return self._random.choice(self._random_kinds)
        return None

    # -- HTTP entry ---------------------------------------------------------------------------------

    def handle(self, http_method: str, raw_path: str, body: bytes) -> _Reply:
        parts = urlsplit(raw_path)
        match = re.match(r"^/rest/(?P<user>[^/]+)/(?P<secret>[^/]+)/(?P<method>[A-Za-z0-9_.]+?)(?:\.json)?/?$",
                         parts.path)
        method = match.group("method").lower() if match else parts.path
        reply, commands = self._answer(match, method, parts.query, body)
        with self._lock:
            self._log.append(RequestLog(method, reply.status, commands, reply.fault))
        return reply

    def _answer(self, match: re.Match[str] | None, method: str, query: str, body: bytes) -> tuple[_Reply, int]:
        if match is None or match.group("user") != str(self.user_id) or match.group("secret") != self.secret:
            return _Reply(401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}), 1
        fault = self._take(HTTP_FAULTS, method)
        if fault in ("500", "502"):
            return _Reply(int(fault), {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"},
                          fault=fault), 1
        if fault == "timeout":
            return _Reply(504, {"error": "GATEWAY_TIMEOUT", "error_description": "Gateway Timeout"},
                          delay=self.timeout_delay, fault=fault), 1
        if fault == "503" or not self._bucket_admits():
            return _Reply(503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"},
                          fault=fault), 1
        try:
            params: Any = json.loads(body) if body.strip() else {}
        except ValueError:
            return _Reply(400, {"error": "INVALID_REQUEST", "error_description": "Request body is not JSON"}), 1
        if query:
            params = {**parse_query(query), **(params if isinstance(params, dict) else {})}
        if not isinstance(params, dict):
            return _Reply(400, {"error": "INVALID_REQUEST", "error_description": "Parameters must be an object"}), 1
        params = {str(k): v for k, v in params.items()}
        commands = 1
        try:
            with self._lock:
                if method == "batch":
                    result = self._batch(params)
                    commands = len(params.get("cmd") or {})
                    payload: JSON = {"result": result, "time": self._time()}
                else:
                    payload = self._call(method, params)
                    payload["time"] = self._time()
        except _Fail as err:
            return _Reply(err.status, {"error": err.error, "error_description": err.description}), commands
        if fault == "lost_reply":
            return _Reply(500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"},
                          fault=fault), commands
        return _Reply(200, payload), commands

    def _bucket_admits(self) -> bool:
        if self.burst <= 0:
            return True
        with self._lock:
            now = self._clock()
            if self._level_at is not None:
                self._level = max(0.0, self._level - (now - self._level_at) * self.drain)
            self._level_at = now
            if self._level + 1 > self.burst:
                return False
            self._level += 1
            return True

    def _time(self) -> JSON:
        now = time.time()
        return {"start": now, "finish": now, "duration": 0.0, "processing": 0.0, "operating": 0,
                "operating_reset_at": int(now) + 600}

    # -- methods ------------------------------------------------------------------------------------

    def _call(self, method: str, params: JSON) -> JSON:
        """One method (also a batch command): ``{"result": ...}`` plus ``total``/``next`` for lists."""
        if method == "batch":
            raise _Fail(400, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage")
        if method == "crm.duplicate.findbycomm":
            return {"result": self._findbycomm(params)}
        if method == "crm.entity.mergebatch":
            return {"result": self._merge(params)}
        m = re.fullmatch(r"crm\.(contact|company|lead|deal)\.(fields|list|get|add|update|delete)", method)
        if m is None:
            raise _Fail(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        ent = self._entities[m.group(1)]
        action = m.group(2)
        params = {k.lower(): v for k, v in params.items()}
        if action == "fields":
            return {"result": json.loads(json.dumps(ent.fields))}
        if action == "list":
            return self._list(ent, params)
        if action == "get":
            return {"result": self._full(self._live(ent, params.get("id")))}
        if action == "add":
            return {"result": self._add(ent, params.get("fields") or {}, method)}
        if action == "update":
            rec = self._live(ent, params.get("id"))
            if self._take(("ignore_write",), method) is None:
                self._write(ent, rec, params.get("fields") or {})
            return {"result": True}
        rec = self._live(ent, params.get("id"))
        rec.deleted = True
        return {"result": True}

    def _batch(self, params: JSON) -> JSON:
        cmd = params.get("cmd") or {}
        if isinstance(cmd, list):
            cmd = {str(i): c for i, c in enumerate(cmd)}
        if not isinstance(cmd, dict):
            raise _Fail(400, "INVALID_REQUEST", "cmd must be an array of commands")
        if len(cmd) > BATCH_LIMIT:
            raise _Fail(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
        halt = str(params.get("halt", "0")).lower() in ("1", "true", "y")
        out: JSON = {"result": {}, "result_error": {}, "result_total": {}, "result_next": {}, "result_time": {}}
        for name, line in cmd.items():
            method, _, query = str(line).partition("?")
            try:
                answer = self._call(method.strip().lower().removesuffix(".json"), parse_query(query))
            except _Fail as err:
                out["result_error"][name] = {"error": err.error, "error_description": err.description}
                if halt:
                    break
                continue
            out["result"][name] = answer["result"]
            out["result_time"][name] = self._time()
            if "total" in answer:
                out["result_total"][name] = answer["total"]
            if "next" in answer:
                out["result_next"][name] = answer["next"]
        # PHP renders an empty array as [] rather than {}
        return {k: (v if v else []) for k, v in out.items()}

    def _entity(self, name: str) -> _Entity:
        return self._entities[normalize_entity(name)]

    def _live(self, ent: _Entity, rid: Any) -> _Record:
        try:
            key = int(str(rid))
        except ValueError:
            raise _Fail(400, "", "ID is not defined or invalid.") from None
        rec = ent.records.get(key)
        if rec is None or rec.deleted:
            raise _Fail(400, "", "Not found")
        return rec

    def _new_id(self) -> int:
        rid = self._next_id
        self._next_id += 1
        return rid

    def _stamp(self) -> str:
        """Now as Bitrix24 writes it (seconds, +03:00), strictly increasing so every write is a new version."""
        self._last_stamp = max(int(time.time()), self._last_stamp + 1)
        return datetime.fromtimestamp(self._last_stamp, tz=_MSK).isoformat()

    def _touch(self, rec: _Record) -> None:
        rec.values["DATE_MODIFY"] = self._stamp()
        rec.values["MODIFY_BY_ID"] = str(self.user_id)
        for multi, flag in (("PHONE", "HAS_PHONE"), ("EMAIL", "HAS_EMAIL")):
            rec.values[flag] = "Y" if rec.values.get(multi) else "N"

    def _items_from(self, key: str, value: Any) -> list[JSON]:
        if value is None or value == "":
            return []
        raw = value if isinstance(value, list) else split_cell(str(value))
        items = []
        for entry in raw:
            item = dict(entry) if isinstance(entry, Mapping) else {"VALUE": str(entry)}
            if not str(item.get("VALUE") or "").strip():
                continue
            items.append({"ID": str(self._next_item), "VALUE_TYPE": str(item.get("VALUE_TYPE") or "WORK"),
                          "VALUE": str(item["VALUE"]).strip(), "TYPE_ID": key})
            self._next_item += 1
        return items

    def _full(self, rec: _Record) -> JSON:
        out: JSON = {"ID": str(rec.id)}
        for key, value in rec.values.items():
            out[key] = [dict(i) for i in value] if isinstance(value, list) else value
        return out

    def _select(self, ent: _Entity, rec: _Record, select: Sequence[str]) -> JSON:
        names: list[str] = []
        for s in select:
            if s == "*":
                names += [n for n, d in ent.fields.items() if not n.startswith("UF_") and not d["isMultiple"]]
            elif s == "UF_*":
                names += [n for n, d in ent.fields.items() if n.startswith("UF_") and not d["isMultiple"]]
            elif s in ent.fields:
                names.append(s)
        out: JSON = {"ID": str(rec.id)}
        for name in dict.fromkeys(names):
            if name == "ID":
                continue
            value = rec.values.get(name)
            if ent.fields[name]["type"] == "crm_multifield":
                if value:  # the portal leaves out a multi-value field that has no items
                    out[name] = [dict(i) for i in value]
            else:
                out[name] = value if value not in (None, "") else None
        return out

    def _matches(self, ent: _Entity, rec: _Record, key: str, want: Any) -> bool:
        m = re.match(r"^(>=|<=|!@|!=|=%|%=|>|<|@|!|%|=)?(.+)$", key)
        assert m is not None
        op, name = m.group(1) or "=", m.group(2)
        if name == "ID":
            have: Any = rec.id
        else:
            have = rec.values.get(name)
        if isinstance(have, list):  # multi-value fields: exact match on any item
            values = [str(i.get("VALUE")) for i in have]
            wanted = want if isinstance(want, list) else [want]
            hit = any(str(w) in values for w in wanted)
            return not hit if op in ("!", "!=", "!@") else hit
        if op in ("@", "!@"):
            wanted = [str(w) for w in (want if isinstance(want, list) else [want])]
            hit = str(have if have is not None else "") in wanted
            return hit if op == "@" else not hit
        if op == "%":
            return str(want).lower() in str(have or "").lower()
        if op in ("=%", "%="):
            pattern = "^" + re.escape(str(want)).replace("%", ".*") + "$"
            return re.match(pattern, str(have or ""), re.IGNORECASE) is not None

        def num(v: Any) -> float | str:
            try:
                return float(v)
            except (TypeError, ValueError):
                return str(v or "")

        a, b = num(have), num(want)
        if type(a) is not type(b):
            a, b = str(have or ""), str(want or "")
        if op == "=":
            return a == b
        if op in ("!", "!="):
            return a != b
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]  # type: ignore[operator]

    def _list(self, ent: _Entity, params: JSON) -> JSON:
        flt = params.get("filter") or {}
        order = params.get("order") or {"ID": "ASC"}
        select = params.get("select") or ["*", "UF_*"]
        if not isinstance(flt, dict) or not isinstance(order, dict) or not isinstance(select, list):
            raise _Fail(400, "INVALID_ARG_VALUE", "filter and order must be objects, select an array")
        try:
            start = int(params.get("start", 0) or 0)
        except ValueError:
            start = 0
        keyset = start < 0 and list(order.items()) == [("ID", "ASC")]
        if keyset:  # the key-set read: walk ids upwards from the bound, stop at one page (no count)
            bound = flt.get(">ID")
            ids = sorted(ent.records)
            first = bisect.bisect_right(ids, int(bound)) if bound not in (None, "") else 0
            page: list[_Record] = []
            for rid in ids[first:]:
                r = ent.records[rid]
                if not r.deleted and all(self._matches(ent, r, str(k), v) for k, v in flt.items()):
                    page.append(r)
                    if len(page) == PAGE_SIZE:
                        break
            return {"result": [self._select(ent, r, select) for r in page], "total": 0}
        by_id = flt.get("@ID")  # a read by ids: only those records can match (same order, same test for each)
        wanted = {str(w) for w in (by_id if isinstance(by_id, list) else [by_id])} if by_id is not None else None
        rows = [r for r in ent.records.values() if not r.deleted and (wanted is None or str(r.id) in wanted)
                and all(self._matches(ent, r, str(k), v) for k, v in flt.items())]
        for key, direction in reversed(list(order.items())):
            reverse = str(direction).upper() == "DESC"
            if key == "ID":
                rows.sort(key=lambda r: r.id, reverse=reverse)
            else:
                rows.sort(key=lambda r, k=key: str(r.values.get(k) or ""), reverse=reverse)  # type: ignore[misc]
        if start < 0:  # settings/performance/huge-data.md: no count, no offset, the first 50
            return {"result": [self._select(ent, r, select) for r in rows[:PAGE_SIZE]], "total": 0}
        page = rows[start:start + PAGE_SIZE]
        out: JSON = {"result": [self._select(ent, r, select) for r in page], "total": len(rows)}
        if start + PAGE_SIZE < len(rows):
            out["next"] = start + PAGE_SIZE
        return out

    def _check_emails(self, fields: Mapping[str, Any]) -> None:
        items = fields.get("EMAIL")
        entries = items if isinstance(items, list) else list(items.values()) if isinstance(items, dict) else []
        for item in entries:
            value = str((item or {}).get("VALUE") or "").strip() if isinstance(item, Mapping) else str(item)
            if value and not _EMAIL_RE.match(value):
                raise _Fail(400, "ERROR_CORE", f"The field E-mail contains an invalid address: {value}")

    def _write(self, ent: _Entity, rec: _Record, fields: Any) -> None:
        if not isinstance(fields, Mapping):
            raise _Fail(400, "", "Parameter 'fields' must be array")
        self._check_emails(fields)
        for key, value in fields.items():
            definition = ent.fields.get(key)
            if definition is None or definition["isReadOnly"]:
                continue  # crm-contact-update.md: an incorrect field in fields is ignored
            if definition["type"] == "crm_multifield":
                self._write_items(rec, key, value)
            else:
                rec.values[key] = "" if value is None else str(value)
        self._touch(rec)

    def _write_items(self, rec: _Record, key: str, value: Any) -> None:
        entries = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
        items: list[JSON] = list(rec.values.get(key) or [])
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            item_id = str(entry.get("ID") or "")
            val = entry.get("VALUE")
            if item_id:
                mine = next((i for i in items if i["ID"] == item_id), None)
                if mine is None:
                    continue  # another record's item: ignored
                if str(entry.get("DELETE") or "").upper() == "Y" or ("VALUE" in entry and not str(val or "").strip()):
                    items.remove(mine)
                    continue
                if val is not None:
                    mine["VALUE"] = str(val).strip()
                if entry.get("VALUE_TYPE"):
                    mine["VALUE_TYPE"] = str(entry["VALUE_TYPE"])
            elif str(val or "").strip():
                items.append({"ID": str(self._next_item), "VALUE_TYPE": str(entry.get("VALUE_TYPE") or "WORK"),
                              "VALUE": str(val).strip(), "TYPE_ID": key})
                self._next_item += 1
        rec.values[key] = items

    def _add(self, ent: _Entity, fields: Any, method: str) -> int:
        rec = _Record(self._new_id(), {"DATE_CREATE": self._stamp(), "CREATED_BY_ID": str(self.user_id)})
        try:
            self._write(ent, rec, fields)
        except _Fail:
            self._next_id -= 1
            raise
        ent.records[rec.id] = rec
        return rec.id

    def _findbycomm(self, params: JSON) -> Any:
        kind = str(params.get("type") or "").upper()
        if not kind:
            raise _Fail(400, "Communication type is not defined", "Parameter 'type' is required.")
        if kind not in ("PHONE", "EMAIL"):
            raise _Fail(400, f"Communication type '{kind}' is not supported in current context", "")
        values = params.get("values")
        if isinstance(values, dict):
            values = list(values.values())
        if not values:
            raise _Fail(400, "Communication values is not defined", "")
        if len(values) > FINDBYCOMM_LIMIT:
            raise _Fail(400, "ERROR_ARGUMENT", f"Too many communication values: at most {FINDBYCOMM_LIMIT}")
        wanted = {(_digits(str(v)) if kind == "PHONE" else str(v).strip().lower()) for v in values}
        wanted.discard("")
        types = [str(params["entity_type"]).upper()] if params.get("entity_type") else ["LEAD", "CONTACT", "COMPANY"]
        out: JSON = {}
        for type_name in types:
            name = type_name.lower()
            if name not in ("lead", "contact", "company"):
                raise _Fail(400, "ERROR_ARGUMENT", f"Entity type {type_name} is not supported")
            ids = []
            for rec in sorted(self._entities[name].records.values(), key=lambda r: r.id):
                if rec.deleted:
                    continue
                have = {(_digits(str(i["VALUE"])) if kind == "PHONE" else str(i["VALUE"]).strip().lower())
                        for i in rec.values.get(kind) or []}
                if have & wanted:
                    ids.append(rec.id)
            if ids:
                out[type_name] = ids
                if len(ids) >= FINDBYCOMM_LIMIT:
                    break  # 20 or more of one type: the other types are not returned
        return out or []

    def _merge(self, params: JSON) -> JSON:
        if not self.admin:
            raise _Fail(403, "ACCESS_DENIED", "Access denied")
        inner = params.get("params") or {}
        type_id = str(inner.get("entityTypeId") or "")
        if not type_id:
            raise _Fail(400, "", "The parameter entityTypeId is required.")
        names = {str(v): k for k, v in ENTITY_TYPE_IDS.items()}
        if type_id not in names:
            raise _Fail(400, "", f"Entity type {type_id} is not supported")
        ids = inner.get("entityIds") or []
        if isinstance(ids, dict):
            ids = list(ids.values())
        if len(ids) < 2:
            raise _Fail(400, "", "The parameter entityIds must contains at least two elements.")
        ent = self._entities[names[type_id]]
        try:
            recs = [self._live(ent, i) for i in ids]
        except _Fail:
            raise _Fail(400, "", "Owner was not found") from None
        master, losers = recs[0], recs[1:]
        if self._take(("merge_conflict",), "crm.entity.mergebatch") is not None or self._conflicts(ent, master, losers):
            return {"STATUS": "CONFLICT", "ENTITY_IDS": []}
        for loser in losers:
            for key, definition in ent.fields.items():
                if definition["isReadOnly"] or key not in loser.values:
                    continue
                theirs = loser.values[key]
                if definition["type"] == "crm_multifield":
                    mine = master.values.setdefault(key, [])
                    seen = {str(i["VALUE"]).strip().lower() for i in mine}
                    for item in theirs or []:
                        if str(item["VALUE"]).strip().lower() not in seen:
                            mine.append(dict(item))
                            seen.add(str(item["VALUE"]).strip().lower())
                elif key == "COMMENTS" and theirs and master.values.get(key) and theirs != master.values[key]:
                    master.values[key] = f"{master.values[key]}\n{theirs}"
                elif theirs not in (None, "") and master.values.get(key) in (None, ""):
                    master.values[key] = theirs
            loser.deleted = True
            loser.merged_into = master.id
        self._touch(master)
        return {"STATUS": "SUCCESS", "ENTITY_IDS": [r.id for r in losers]}

    def _conflicts(self, ent: _Entity, master: _Record, losers: Sequence[_Record]) -> bool:
        for key, definition in ent.fields.items():
            if definition["isReadOnly"] or definition["type"] == "crm_multifield" or key in _MERGE_MASTER_WINS \
                    or key == "COMMENTS":
                continue
            mine = " ".join(str(master.values.get(key) or "").split()).casefold()
            for loser in losers:
                theirs = " ".join(str(loser.values.get(key) or "").split()).casefold()
                if mine and theirs and mine != theirs:
                    return True
        return False


class _Handler(EmulatorHandler):
    emulator: Bitrix24Emulator
    server_version = "Bitrix24Emulator/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.emulator.handle(self.command, self.path, body)
        if reply.delay:
            time.sleep(reply.delay)
        data = json.dumps(reply.body, ensure_ascii=False).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = _serve
    do_POST = _serve

