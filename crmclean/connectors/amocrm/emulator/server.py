"""An in-memory amoCRM (Kommo) account speaking API v4 over real HTTP, official behaviour by default.

What it emulates (each point from developers.amocrm.ru / developers.kommo.com, see docs/connectors.md):

* ``GET /api/v4/{contacts|companies|leads}`` — ``page`` (1-based), ``limit`` (at most 250; more is a 400),
  ``order[id]`` / ``order[updated_at]``, ``filter[id][]``, ``filter[updated_at][from|to]``, ``with``;
  ``application/hal+json`` with ``_page``, ``_links.self|next`` and ``_embedded.<entity>``; **204 No Content** (empty
  body) when a page holds nothing;
* ``GET /api/v4/{entity}/custom_fields`` — field definitions (PHONE and EMAIL are ``multitext`` with the enum codes
  WORK, WORKDD, MOB, FAX, HOME, OTHER / WORK, PRIV, OTHER);
* ``PATCH /api/v4/{entity}`` — an array of at most 250 records; an invalid item fails the **whole request** with 400
  and ``validation-errors`` per ``request_id`` (nothing is written); each write stamps ``updated_at`` (unix seconds);
  ``custom_fields_values`` replace a field's values (``values: null`` clears it), ``_embedded.tags`` replaces the tag
  list, ``tags_to_add`` / ``tags_to_delete`` change it;
* notes: ``GET|POST|PATCH /api/v4/{entity}/notes`` (common notes; the API has no delete);
* limits: more than ``rate_limit`` (7) requests in one second → 429; ``block_after`` 429s within a minute → the IP
  is blocked with 403 for ``block_seconds``; a wrong token → 401.

Scripted faults (``inject``/``random_faults``): ``500`` (nothing written), ``lost_reply`` (the write lands, the
reply is a 500), ``429``, ``403``. ``human_edit`` changes a record as a person in the UI would (``updated_at`` moves).
The emulator's clock is injectable, so rate limits cost no wall time in tests.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from crmclean.connectors._emulator import EmulatorHandler, LocalHttpServer

ENTITIES = ("contacts", "companies", "leads")
MAX_LIMIT = 250
MAX_PATCH = 250
PHONE_ENUMS = ("WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER")
EMAIL_ENUMS = ("WORK", "PRIV", "OTHER")
FAULT_KINDS = ("500", "lost_reply", "429", "403")
_CODE_COLUMNS = {"PHONE": "phone", "EMAIL": "email", "WEB": "web", "POSITION": "position"}  # as the connector names them
JSON = dict[str, Any]

_BASE_FIELDS = {
    "contacts": ("name", "first_name", "last_name", "responsible_user_id"),
    "companies": ("name", "responsible_user_id"),
    "leads": ("name", "price", "status_id", "pipeline_id", "responsible_user_id"),
}


def normalize_entity(name: str) -> str:
    lowered = name.strip().lower()
    aliases = {"contact": "contacts", "company": "companies", "lead": "leads"}
    return aliases.get(lowered, lowered)


@dataclass
class _Fault:
    kind: str
    count: int
    path_contains: str | None = None
    method: str | None = None


@dataclass
class RequestLog:
    method: str
    path: str
    status: int


@dataclass
class _Account:
    records: dict[str, dict[int, JSON]] = field(default_factory=lambda: {e: {} for e in ENTITIES})
    fields: dict[str, list[JSON]] = field(default_factory=lambda: {e: [] for e in ENTITIES})
    tags: dict[str, dict[str, int]] = field(default_factory=lambda: {e: {} for e in ENTITIES})
    notes: dict[str, dict[int, JSON]] = field(default_factory=lambda: {e: {} for e in ENTITIES})


class AmoCRMEmulator(LocalHttpServer):
    """A stateful amoCRM account on ``127.0.0.1``; ``with AmoCRMEmulator() as emu:`` starts and stops it."""

    def __init__(self, *, access_token: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 rate_limit: int = 7, block_after: int = 100, block_seconds: float = 60.0) -> None:
        self.access_token = access_token or secrets.token_urlsafe(24)
        self.host = host
        self.port = port
        self.clock = clock
        self.wall = wall
        self.rate_limit = rate_limit
        self.block_after = block_after
        self.block_seconds = block_seconds
        self.log: list[RequestLog] = []
        self._data = _Account()
        self._lock = threading.RLock()
        self._next_id = 10_000_001
        self._recent: deque[float] = deque()
        self._violations: deque[float] = deque()
        self._blocked_until = 0.0
        self._faults: list[_Fault] = []
        self._random: tuple[float, random.Random] | None = None
        for entity in ENTITIES:
            self._default_fields(entity)

    # -- lifecycle: start / stop / ``with`` come from LocalHttpServer ---------------------------------------------

    thread_name = "amocrm-emulator"

    def handler_class(self) -> type[_Handler]:
        return _Handler

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        return {"AMOCRM_BASE_URL": self.base_url, "AMOCRM_ACCESS_TOKEN": self.access_token}

    # -- data ------------------------------------------------------------------------------------------------------

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _default_fields(self, entity: str) -> None:
        if entity == "leads":
            return
        self._data.fields[entity].append(self._field_def("Телефон", "multitext", "PHONE", PHONE_ENUMS))
        self._data.fields[entity].append(self._field_def("Email", "multitext", "EMAIL", EMAIL_ENUMS))
        if entity == "contacts":
            self._data.fields[entity].append(self._field_def("Должность", "text", "POSITION"))
        else:
            self._data.fields[entity].append(self._field_def("Web", "url", "WEB"))

    def _field_def(self, name: str, type_: str, code: str | None = None, enums: Sequence[str] = ()) -> JSON:
        return {"id": self._new_id(), "name": name, "type": type_, "code": code, "sort": 500, "is_api_only": False,
                "enums": [{"id": self._new_id(), "value": e, "sort": i} for i, e in enumerate(enums)] or None}

    def add_field(self, entity: str, name: str, type_: str = "text", code: str | None = None) -> int:
        with self._lock:
            definition = self._field_def(name, type_, code)
            self._data.fields[normalize_entity(entity)].append(definition)
            return int(definition["id"])

    def _field(self, entity: str, *, field_id: Any = None, code: Any = None, name: str | None = None) -> JSON | None:
        for f in self._data.fields[entity]:
            if (field_id is not None and str(f["id"]) == str(field_id)) or (code and f.get("code") == code) \
                    or (name is not None and f["name"] == name):
                return f
        return None

    def add_records(self, entity: str, rows: Iterable[Mapping[str, Any]]) -> list[int]:
        """Add records from flat rows: base fields, ``phone``/``email`` (``", "``-joined; ``phone:MOB`` gives the
        enum), ``tags`` (``", "``-joined), any other key a text custom field of that name (created on first use)."""
        entity = normalize_entity(entity)
        ids = []
        with self._lock:
            now = int(self.wall())
            for row in rows:
                rid = int(row["id"]) if str(row.get("id") or "").isdigit() else self._new_id()
                rec: JSON = {"id": rid, "name": None, "created_at": now, "updated_at": now,
                             "custom_fields_values": None, "_embedded": {"tags": []}}
                if entity == "contacts":
                    rec.update(first_name=None, last_name=None)
                self._data.records[entity][rid] = rec
                self._apply_flat(entity, rec, row)
                if rec["name"] is None and entity == "contacts":
                    rec["name"] = " ".join(p for p in (rec.get("first_name"), rec.get("last_name")) if p) or None
                ids.append(rid)
        return ids

    def _apply_flat(self, entity: str, rec: JSON, row: Mapping[str, Any]) -> None:
        multi: dict[str, list[tuple[str, str]]] = {}
        for key, value in row.items():
            if key in ("id", "created_at", "updated_at"):
                continue
            if key in _BASE_FIELDS[entity]:
                rec[key] = None if value in (None, "") else (int(value) if key != "name" and str(value).isdigit()
                                                              else value)
                continue
            if key == "tags":
                rec["_embedded"]["tags"] = [self._tag(entity, t) for t in _split(value)]
                continue
            if key in _CODE_COLUMNS.values() and key not in ("phone", "email"):
                definition = self._field(entity, code=next(c for c, n in _CODE_COLUMNS.items() if n == key))
                if definition is not None:
                    self._set_cf(rec, definition, None if value in (None, "") else [{"value": str(value)}])
                    continue
            base, _, enum = key.partition(":")
            if base.lower() in ("phone", "email"):
                code = base.upper()
                enums = PHONE_ENUMS if code == "PHONE" else EMAIL_ENUMS
                for i, v in enumerate(_split(value)):
                    multi.setdefault(code, []).append((v, enum.upper() or (enums[0] if i == 0 else "OTHER")))
                multi.setdefault(code, [])
                continue
            definition = self._field(entity, name=key) or self._field(entity, field_id=self.add_field(entity, key))
            assert definition is not None
            self._set_cf(rec, definition, None if value in (None, "") else [{"value": str(value)}])
        for code, values in multi.items():
            definition = self._field(entity, code=code)
            if definition is not None:
                self._set_cf(rec, definition, [{"value": v, "enum_code": e} for v, e in values] or None)

    def _tag(self, entity: str, name: str) -> JSON:
        tags = self._data.tags[entity]
        if name not in tags:
            tags[name] = self._new_id()
        return {"id": tags[name], "name": name, "color": None}

    def _set_cf(self, rec: JSON, definition: JSON, values: list[JSON] | None) -> None:
        current = [c for c in rec.get("custom_fields_values") or [] if c["field_id"] != definition["id"]]
        if values:
            enums = {e["value"]: e["id"] for e in definition.get("enums") or []}
            out = []
            for v in values:
                item: JSON = {"value": v.get("value")}
                if enums:
                    code = v.get("enum_code") or next((c for c, i in enums.items() if i == v.get("enum_id")), None) \
                        or next(iter(enums))
                    item.update(enum_id=enums.get(code), enum_code=code)
                out.append(item)
            current.append({"field_id": definition["id"], "field_name": definition["name"],
                            "field_code": definition.get("code"), "field_type": definition["type"], "values": out})
        rec["custom_fields_values"] = current or None

    def human_edit(self, entity: str, record_id: str | int, values: Mapping[str, Any]) -> None:
        """A person edits the record in the UI (flat values as in ``add_records``): ``updated_at`` moves on."""
        entity = normalize_entity(entity)
        with self._lock:
            rec = self._data.records[entity][int(record_id)]
            self._apply_flat(entity, rec, values)
            self._touch(rec)

    def _touch(self, rec: JSON) -> None:
        rec["updated_at"] = int(self.wall())  # seconds: two writes in one second keep the same stamp, as in amoCRM

    def record(self, entity: str, record_id: str | int) -> JSON | None:
        with self._lock:
            rec = self._data.records[normalize_entity(entity)].get(int(record_id))
            return json.loads(json.dumps(rec)) if rec is not None else None

    def records(self, entity: str) -> list[JSON]:
        with self._lock:
            return json.loads(json.dumps(list(self._data.records[normalize_entity(entity)].values())))

    def flat(self, entity: str) -> dict[str, dict[str, str | None]]:
        """id -> flat values (name fields, phone/email joined ``", "``, custom fields by name, tags joined)."""
        entity = normalize_entity(entity)
        with self._lock:  # the rows are new strings: no copy of the records needed
            return {str(rec["id"]): _flat_row(entity, rec) for rec in self._data.records[entity].values()}

    def flat_record(self, entity: str, record_id: str | int) -> dict[str, str | None] | None:
        """One record's flat values as in ``flat`` (None: no such record), without flattening the whole account."""
        entity = normalize_entity(entity)
        with self._lock:
            rec = self._data.records[entity].get(int(record_id))
            return None if rec is None else _flat_row(entity, rec)

    def notes_of(self, entity: str, record_id: str | int) -> list[JSON]:
        with self._lock:
            return [dict(n) for n in self._data.notes[normalize_entity(entity)].values()
                    if n["entity_id"] == int(record_id)]

    # -- faults and counters ---------------------------------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, *, path_contains: str | None = None, method: str | None = None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(_Fault(kind, count, path_contains, method))

    def random_faults(self, rate: float, seed: int = 0) -> None:
        """Each request fails with probability ``rate``: a 500, a lost reply (writes land) or a 429."""
        self._random = (rate, random.Random(seed))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random = None

    def request_count(self, status: int | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.log if (status is None or r.status == status)
                       and (method is None or r.method == method))

    def _fault_for(self, method: str, path: str) -> str | None:
        for fault in self._faults:
            if fault.count > 0 and (fault.path_contains is None or fault.path_contains in path) \
                    and (fault.method is None or fault.method == method):
                fault.count -= 1
                return fault.kind
        if self._random is not None:
            rate, rng = self._random
            if rng.random() < rate:
                return rng.choice(("500", "lost_reply", "429"))
        return None

    def _admit(self) -> int | None:
        """Rate limit and IP block on the emulator's clock: None to serve, else the status to answer."""
        now = self.clock()
        if now < self._blocked_until:
            return 403
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.rate_limit:
            self._violations.append(now)
            while self._violations and self._violations[0] <= now - 60.0:
                self._violations.popleft()
            if len(self._violations) >= self.block_after:
                self._blocked_until = now + self.block_seconds
                self._violations.clear()
                return 403
            return 429
        self._recent.append(now)
        return None

    # -- the API -----------------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> tuple[int, JSON | None, dict[str, str]]:
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        with self._lock:
            status, payload, extra = self._handle(method, path, query, headers, body)
            self.log.append(RequestLog(method, path, status))
            return status, payload, extra

    def _handle(self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str],
                body: bytes) -> tuple[int, JSON | None, dict[str, str]]:
        blocked = self._admit()
        if blocked == 429:
            return 429, _problem(429, "Too Many Requests"), {"Retry-After": "1"}
        if blocked == 403:
            return 403, _problem(403, "Forbidden: the IP address is blocked for too many requests"), {}
        if headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _problem(401, "Unauthorized"), {}
        fault = self._fault_for(method, path)
        if fault in ("500", "429", "403"):
            code = int(fault)
            return code, _problem(code, "Injected fault"), ({"Retry-After": "1"} if code == 429 else {})
        match = re.fullmatch(r"/api/v4/(contacts|companies|leads)(?:/(custom_fields|notes))?", path)
        if match is None:
            return 404, _problem(404, f"No route for {path}"), {}
        entity, sub = match.group(1), match.group(2)
        try:
            payload = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            return 400, _problem(400, "Malformed JSON"), {}
        if sub == "custom_fields" and method == "GET":
            result = self._list(self._data.fields[entity], query, "custom_fields", path, 50)
        elif sub == "notes" and method == "GET":
            result = self._get_notes(entity, query, path)
        elif sub == "notes" and method in ("POST", "PATCH"):
            result = self._write_notes(entity, method, payload)
        elif sub is None and method == "GET":
            result = self._get_records(entity, query, path)
        elif sub is None and method == "PATCH":
            result = self._patch(entity, payload)
        else:
            return 405, _problem(405, "Method Not Allowed"), {}
        if fault == "lost_reply" and method != "GET" and result[0] < 300:
            return 500, _problem(500, "Internal Server Error"), {}
        return result[0], result[1], {}

    def _list(self, items: Sequence[JSON], query: list[tuple[str, str]], key: str, path: str,
              default_limit: int = 50) -> tuple[int, JSON | None]:
        params = dict(query)
        try:
            page = int(params.get("page") or 1)
            limit = int(params.get("limit") or default_limit)
        except ValueError:
            return 400, _problem(400, "page and limit must be integers")
        if limit > MAX_LIMIT or limit < 1 or page < 1:
            return 400, {**_problem(400, "Request validation failed"), "validation-errors": [
                {"request_id": "0", "errors": [{"code": "InvalidLimit", "path": "limit",
                                                "detail": f"limit must be between 1 and {MAX_LIMIT}"}]}]}
        chunk = items[(page - 1) * limit: page * limit]
        if not chunk:
            return 204, None
        links: JSON = {"self": {"href": f"{path}?page={page}&limit={limit}"}}
        if page * limit < len(items):
            links["next"] = {"href": f"{path}?page={page + 1}&limit={limit}"}
        if page > 1:
            links["prev"] = {"href": f"{path}?page={page - 1}&limit={limit}"}
        return 200, {"_page": page, "_links": links, "_embedded": {key: json.loads(json.dumps(list(chunk)))}}

    def _get_records(self, entity: str, query: list[tuple[str, str]], path: str) -> tuple[int, JSON | None]:
        items = list(self._data.records[entity].values())
        ids = {v for k, v in query if k in ("filter[id][]", "filter[id]") for v in v.split(",") if v}
        if ids:
            items = [r for r in items if str(r["id"]) in ids]
        params = dict(query)
        if params.get("filter[updated_at][from]"):
            items = [r for r in items if r["updated_at"] >= int(params["filter[updated_at][from]"])]
        if params.get("filter[updated_at][to]"):
            items = [r for r in items if r["updated_at"] <= int(params["filter[updated_at][to]"])]
        for key in ("order[id]", "order[updated_at]"):
            if key in params:
                field_name = key[6:-1]
                items.sort(key=lambda r: (r[field_name], r["id"]), reverse=params[key] == "desc")
                break
        return self._list(items, query, entity, path)

    def _get_notes(self, entity: str, query: list[tuple[str, str]], path: str) -> tuple[int, JSON | None]:
        ids = {int(v) for k, v in query if k in ("filter[entity_id][]", "filter[entity_id]") for v in v.split(",") if v}
        items = [n for n in self._data.notes[entity].values() if not ids or n["entity_id"] in ids]
        return self._list(items, query, "notes", path)

    def _write_notes(self, entity: str, method: str, payload: Any) -> tuple[int, JSON | None]:
        if not isinstance(payload, list) or not payload:
            return 400, _problem(400, "Expected a non-empty array")
        errors = []
        for i, item in enumerate(payload):
            if method == "POST" and int(item.get("entity_id") or 0) not in self._data.records[entity]:
                errors.append(_verror(item, i, "NotFound", "entity_id", "The entity does not exist"))
            if method == "PATCH" and int(item.get("id") or 0) not in self._data.notes[entity]:
                errors.append(_verror(item, i, "NotFound", "id", "The note does not exist"))
        if errors:
            return 400, {**_problem(400, "Request validation failed"), "validation-errors": errors}
        out = []
        now = int(self.wall())
        for i, item in enumerate(payload):
            text = str((item.get("params") or {}).get("text") or "")
            if method == "POST":
                nid = self._new_id()
                self._data.notes[entity][nid] = {"id": nid, "entity_id": int(item["entity_id"]), "note_type":
                                                 item.get("note_type") or "common", "params": {"text": text},
                                                 "created_at": now, "updated_at": now}
            else:
                nid = int(item["id"])
                self._data.notes[entity][nid].update(params={"text": text}, updated_at=now)
            out.append({"id": nid, "entity_id": self._data.notes[entity][nid]["entity_id"],
                        "request_id": str(item.get("request_id", i))})
        return 200, {"_embedded": {"notes": out}}

    def _patch(self, entity: str, payload: Any) -> tuple[int, JSON | None]:
        if not isinstance(payload, list) or not payload:
            return 400, _problem(400, "Expected a non-empty array of records")
        if len(payload) > MAX_PATCH:
            return 400, {**_problem(400, "Request validation failed"), "validation-errors": [
                {"request_id": "0", "errors": [{"code": "TooManyItems", "path": "",
                                                "detail": f"at most {MAX_PATCH} records per request"}]}]}
        errors = []
        for i, item in enumerate(payload):
            problems = self._validate(entity, item)
            if problems:
                errors.append({"request_id": str(item.get("request_id", i)), "errors": problems})
        if errors:
            return 400, {**_problem(400, "Request validation failed"), "validation-errors": errors}
        out = []
        for i, item in enumerate(payload):
            rec = self._data.records[entity][int(item["id"])]
            for key in _BASE_FIELDS[entity]:
                if key in item:
                    rec[key] = item[key]
            for cf in item.get("custom_fields_values") or []:
                definition = self._field(entity, field_id=cf.get("field_id"), code=cf.get("field_code"))
                assert definition is not None
                self._set_cf(rec, definition, cf.get("values") or None)
            tags = rec["_embedded"]["tags"]
            embedded = item.get("_embedded") or {}
            if "tags" in embedded:
                tags = [self._tag(entity, t["name"]) if t.get("name") else
                        next(({"id": i_, "name": n, "color": None} for n, i_ in self._data.tags[entity].items()
                              if i_ == t.get("id")), None) for t in embedded["tags"] or []]
                tags = [t for t in tags if t]
            for t in item.get("tags_to_add") or []:
                if t.get("name") not in {x["name"] for x in tags}:
                    tags = [*tags, self._tag(entity, t["name"])]
            gone = {t.get("name") for t in item.get("tags_to_delete") or []}
            rec["_embedded"]["tags"] = [t for t in tags if t["name"] not in gone]
            self._touch(rec)
            out.append({"id": rec["id"], "updated_at": rec["updated_at"],
                        "request_id": str(item.get("request_id", i)), "_links": {"self": {
                            "href": f"/api/v4/{entity}/{rec['id']}"}}})
        return 200, {"_links": {"self": {"href": f"/api/v4/{entity}"}}, "_embedded": {entity: out}}

    def _validate(self, entity: str, item: Any) -> list[JSON]:
        if not isinstance(item, Mapping):
            return [{"code": "InvalidType", "path": "", "detail": "expected an object"}]
        problems = []
        if int(item.get("id") or 0) not in self._data.records[entity]:
            problems.append({"code": "NotFound", "path": "id", "detail": "The entity does not exist"})
        for n, cf in enumerate(item.get("custom_fields_values") or []):
            definition = self._field(entity, field_id=cf.get("field_id"), code=cf.get("field_code"))
            if definition is None:
                problems.append({"code": "NotSupportedChoice", "path": f"custom_fields_values.{n}.field_id",
                                 "detail": "The value you selected is not a valid choice."})
                continue
            enums = {e["value"] for e in definition.get("enums") or []}
            for m, v in enumerate(cf.get("values") or []):
                if enums and v.get("enum_code") and v["enum_code"] not in enums:
                    problems.append({"code": "NotSupportedChoice",
                                     "path": f"custom_fields_values.{n}.values.{m}.enum_code",
                                     "detail": "The value you selected is not a valid choice."})
                if definition.get("code") == "EMAIL" and "@" not in str(v.get("value") or ""):
                    problems.append({"code": "InvalidEmail", "path": f"custom_fields_values.{n}.values.{m}.value",
                                     "detail": "This value is not a valid email address."})
        if "name" in item and item["name"] is not None and len(str(item["name"])) > 255:
            problems.append({"code": "TooLong", "path": "name", "detail": "at most 255 characters"})
        return problems


def _flat_row(entity: str, rec: JSON) -> dict[str, str | None]:
    row: dict[str, str | None] = {k: (None if rec.get(k) is None else str(rec[k])) for k in _BASE_FIELDS[entity]}
    for cf in rec.get("custom_fields_values") or []:
        key = _CODE_COLUMNS.get(cf.get("field_code") or "") or cf["field_name"]
        row[key] = ", ".join(str(v["value"]) for v in cf["values"]) or None
    row["tags"] = ", ".join(t["name"] for t in rec["_embedded"]["tags"]) or None
    return row


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _problem(status: int, detail: str) -> JSON:
    return {"title": detail.split(":")[0], "type": f"https://httpstatus.es/{status}", "status": status, "detail": detail}


def _verror(item: Mapping[str, Any], index: int, code: str, path: str, detail: str) -> JSON:
    return {"request_id": str(item.get("request_id", index)), "errors": [{"code": code, "path": path, "detail": detail}]}


class _Handler(EmulatorHandler):
    emulator: AmoCRMEmulator

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, extra = self.emulator.handle(self.command, self.path, dict(self.headers), body)
        data = b"" if payload is None or status == 204 else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if data:
            kind = "application/hal+json" if status < 400 else "application/problem+json"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_DELETE = _serve
