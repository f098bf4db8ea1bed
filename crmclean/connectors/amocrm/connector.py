"""amoCRM (Kommo) connector: ``amocrm:contacts``, ``amocrm:companies``, ``amocrm:leads`` over API v4.

Credentials: ``AMOCRM_BASE_URL`` (``https://SUBDOMAIN.amocrm.ru`` or ``https://SUBDOMAIN.kommo.com``) and
``AMOCRM_ACCESS_TOKEN`` (an OAuth access token, or a private integration's long-lived token), from the environment or
``--credentials-file`` (section ``amocrm:``). The token never appears in a message, log line or repr.

Reading: ``GET /api/v4/{entity}?page=N&limit=250&order[id]=asc`` until a page has no ``_links.next`` or the account
answers 204 No Content. Columns: ``id``, the entity's own fields (contacts: ``name``, ``first_name``, ``last_name``
— amoCRM has no patronymic field), ``phone`` and ``email`` (every PHONE/EMAIL value, whatever its enum code
WORK/MOB/HOME/OTHER…, in one cell joined ``", "``), one column per custom field (by its name, from
``GET /api/v4/{entity}/custom_fields``), ``tags`` (names joined ``", "``), ``created_at`` and ``updated_at`` (unix
seconds, read-only). ``options.extra["with"]`` is passed as ``with=`` (e.g. ``leads``).

Version stamp: ``updated_at`` has one-second resolution, so ``version_of`` is a hash of every value including it:
an edit in the same second as the plan still counts as a change.

Writing: ``PATCH /api/v4/{entity}`` with arrays of 50 records (the API takes 250; its docs recommend 50). A 400 with
``validation-errors`` fails the whole request: the records named by ``request_id`` fail with amoCRM's message and
the rest are sent again. A multi-value cell is written value by value: values matched to the record's current ones
(same text, or the same number / address written differently) keep their enum code, changed values replace the
remaining ones in order, new ones are added (enum WORK). Values the new cell does not mention are **kept** unless the
cell is empty: crmclean's standardizers keep every number of a multi-value cell in the cell (``Phone__extra`` only
shows them), but a planned cell that names fewer values than the record holds must still never lose a number. An
empty cell clears the field.

No merge and no delete through the API: ``merge`` writes the golden values to the master, tags every duplicate
``crmclean-duplicate`` and adds a note naming the master so a steward merges them in the amoCRM UI
(``merge_keeps_records``: the duplicates stay). Rollback restores the fields and the ``tags`` cell (removing the
tag); notes cannot be deleted through the API, so the connector rewrites its own notes as withdrawn.

Limits: at most 7 requests per second (client-side rolling budget, ``crmclean.connectors.http.RequestBudget``); a
429 waits (Retry-After, else backoff) and retries; 5xx and dropped connections retry with jittered backoff; a 403
is final: amoCRM blocks an IP that keeps exceeding the limit, and retrying would only extend the block.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import requests

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.base import FieldInfo, FieldUpdate, MergeRequest, Record, Value, WriteOutcome, values_hash
from crmclean.connectors.http import RequestBudget, Retry, call_with_retry, parse_retry_after, read_credentials_file
from crmclean.errors import ConnectorError, UsageError

log = logging.getLogger(__name__)
JSON = dict[str, Any]

ENV_TOKEN = "AMOCRM_ACCESS_TOKEN"
ENV_BASE_URL = "AMOCRM_BASE_URL"
ENTITIES = ("contacts", "companies", "leads")
PAGE_SIZE = 250  # GET list: the API's maximum
BATCH_SIZE = 50  # PATCH: the API takes 250, its docs recommend 50
FETCH_CHUNK = 50  # filter[id][] per GET (keeps the URL short)
RATE_LIMIT = 7  # requests per second
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 6
DUPLICATE_TAG = "crmclean-duplicate"
NOTE_PREFIX = "crmclean: duplicate of"
WITHDRAWN_PREFIX = "[withdrawn by crmclean rollback] "
SEPARATOR = ", "
_TRANSIENT = (0, 500, 502, 503, 504)
_WRITABLE_TYPES = {"text", "textarea", "numeric", "url", "multitext", "select", "radiobutton", "multiselect",
                   "streetaddress"}
_BASE = {
    "contacts": ("name", "first_name", "last_name", "responsible_user_id"),
    "companies": ("name", "responsible_user_id"),
    "leads": ("name", "price", "status_id", "pipeline_id", "responsible_user_id"),
}
_INT_FIELDS = {"responsible_user_id", "price", "status_id", "pipeline_id"}
_CODE_COLUMNS = {"PHONE": "phone", "EMAIL": "email", "WEB": "web", "POSITION": "position"}


def normalize_entity(name: str) -> str:
    lowered = name.strip().lower()
    lowered = {"contact": "contacts", "company": "companies", "lead": "leads", "deals": "leads"}.get(lowered, lowered)
    if lowered not in ENTITIES:
        raise UsageError(f"amoCRM has no {name!r} here; use amocrm:contacts, amocrm:companies or amocrm:leads")
    return lowered


def load_credentials(options: ConnectorOptions) -> tuple[str, str]:
    """(access token, base URL) from ``options.credentials_file`` or the environment."""
    values: dict[str, str] = {}
    if options.credentials_file:
        raw = read_credentials_file(Path(options.credentials_file), "amocrm", expected="keys like AMOCRM_ACCESS_TOKEN")
        aliases = {"access_token": ENV_TOKEN, "token": ENV_TOKEN, "base_url": ENV_BASE_URL}
        values = {aliases.get(k.strip().lower(), k.strip().upper()): str(v) for k, v in raw.items()}
    token = (values.get(ENV_TOKEN) or os.environ.get(ENV_TOKEN) or "").strip()
    if not token:
        raise ConnectorError(f"no amoCRM token: set {ENV_TOKEN} to an OAuth access token or a private "
                             "integration's long-lived token")
    base_url = (values.get(ENV_BASE_URL) or os.environ.get(ENV_BASE_URL) or "").strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+$", base_url):
        raise ConnectorError(f"{ENV_BASE_URL} must be the account URL like https://SUBDOMAIN.amocrm.ru, "
                             f"got {base_url!r}")
    return token, base_url


class AmoCRMHTTPError(Exception):
    """An amoCRM answer outside 2xx (status 0: no answer at all)."""

    def __init__(self, status: int, message: str, body: Any = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in _TRANSIENT or self.status == 429


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # base | cf | tags | stamp
    field_id: int | None = None
    code: str | None = None
    type: str = "text"
    enums: tuple[tuple[int, str], ...] = ()  # (enum id, value/code)
    label: str | None = None


# ---------------------------------------------------------------- multi-value cells


def split_cell(cell: str | None) -> list[str]:
    """The values of a multi-value cell: split on commas, semicolons and new lines."""
    if not cell:
        return []
    return [v.strip() for v in re.split(r"[,;\n]", cell) if v.strip()]


def _loose(code: str | None, value: str) -> str:
    if code == "PHONE":
        digits = re.sub(r"\D", "", value)
        return digits[-10:] if len(digits) >= 10 else digits
    return re.sub(r"\s+", "", value).casefold()


def multi_values(current: Sequence[Mapping[str, Any]], cell: str | None, code: str | None,
                 default_enum: str | None) -> list[JSON] | None:
    """The ``values`` to send so a PHONE/EMAIL field holds the cell's values (None clears the field).

    Exact matches first, then the same number/address written differently, then the rest in order; each keeps the
    enum code of the item it replaces. Current values the cell does not name are kept (see the module docstring).
    """
    wanted = split_cell(cell)
    if not wanted:
        return None
    free = [dict(v) for v in current]
    placed: list[tuple[str, JSON | None]] = []
    for value in wanted:
        hit = next((v for v in free if str(v.get("value") or "").strip() == value), None)
        if hit is None:
            hit = next((v for v in free if _loose(code, str(v.get("value") or "")) == _loose(code, value)), None)
        if hit is not None:
            free.remove(hit)
        placed.append((value, hit))
    out: list[JSON] = []
    for value, hit in placed:
        if hit is None and free:
            hit = free.pop(0)
        enum = (hit or {}).get("enum_code") or default_enum
        out.append({"value": value, **({"enum_code": enum} if enum else {})})
    for rest in free:  # never lose a number or an address the cell did not mention
        out.append({"value": rest.get("value"), **({"enum_code": rest["enum_code"]} if rest.get("enum_code") else {})})
    return out


# ---------------------------------------------------------------- the connector


class AmoCRMConnector:
    """Reads and writes one amoCRM entity type through API v4."""

    kind = "amocrm"
    id_field = "id"
    max_batch = BATCH_SIZE
    capabilities = frozenset({"update", "merge"})
    # a "merge" keeps the duplicates: they are tagged for a steward (the API cannot merge or delete)
    merge_keeps_records = True
    flag_fields = ("tags",)
    flag_rollback_caveat = ("the amoCRM API cannot delete notes: the notes crmclean added are kept, rewritten as "
                            "withdrawn; the tag is removed")
    merge_description = (f"amoCRM cannot merge or delete through its API: the master gets the golden values, each "
                         f"duplicate is tagged {DUPLICATE_TAG!r} with a note naming the master, and a steward merges "
                         f"them in the amoCRM UI")

    def __init__(self, object_name: str, options: ConnectorOptions | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 session: requests.Session | None = None) -> None:
        self.options = options or ConnectorOptions()
        self.entity = normalize_entity(object_name)
        self.spec = f"amocrm:{self.entity}"
        self.object_type = self.entity
        self._token, self.base_url = load_credentials(self.options)
        extra = self.options.extra or {}
        self.timeout = float(extra.get("timeout") or os.environ.get("AMOCRM_TIMEOUT") or DEFAULT_TIMEOUT)
        self.max_attempts = int(extra.get("max_attempts") or os.environ.get("AMOCRM_MAX_ATTEMPTS")
                                or DEFAULT_MAX_ATTEMPTS)
        rate = int(extra.get("rate_limit") or os.environ.get("AMOCRM_RATE_LIMIT") or RATE_LIMIT)
        self.with_ = extra.get("with")
        self._sleep = sleep
        self.budget = RequestBudget(rate, 1.0, clock=clock, sleep=sleep)
        self._session = session or requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {self._token}", "Accept": "application/hal+json"})
        self.request_count = 0
        self._columns_cache: list[_Column] | None = None

    def __repr__(self) -> str:
        return f"AmoCRMConnector({self.spec!r}, {self.base_url!r})"

    # -- HTTP ---------------------------------------------------------------------------------------------------------

    def _once(self, method: str, path: str, params: Sequence[tuple[str, str]] | None, body: Any) -> tuple[int, Any]:
        self.budget.acquire()
        self.request_count += 1
        try:
            reply = self._session.request(method, self.base_url + path, params=list(params or []), json=body,
                                          timeout=self.timeout)
        except requests.RequestException as exc:
            raise AmoCRMHTTPError(0, f"no answer from amoCRM ({type(exc).__name__})") from None
        payload: Any = None
        if reply.content:
            try:
                payload = reply.json()
            except ValueError:
                payload = None
        if reply.status_code >= 400:
            detail = payload.get("detail") or payload.get("title") if isinstance(payload, dict) else None
            after = parse_retry_after(reply.headers.get("Retry-After"))
            if reply.status_code == 429:
                self.budget.pause(after if after is not None else 1.0)
            raise AmoCRMHTTPError(reply.status_code, str(detail or reply.reason or "error"), payload, after)
        return reply.status_code, payload

    def _request(self, method: str, path: str, params: Sequence[tuple[str, str]] | None = None,
                 body: Any = None) -> tuple[int, Any]:
        def classify(exc: BaseException) -> Retry | None:
            if isinstance(exc, AmoCRMHTTPError) and exc.transient:
                return Retry(after=exc.retry_after, reason=str(exc.status))
            return None

        try:
            return call_with_retry(lambda: self._once(method, path, params, body), classify=classify,
                                   max_attempts=self.max_attempts, sleep=self._sleep, base_delay=0.5)
        except AmoCRMHTTPError as err:
            if err.status == 401:
                raise ConnectorError("amoCRM refused the token (401): it is wrong, revoked or expired "
                                     f"(set {ENV_TOKEN})") from None
            if err.status == 403:
                raise ConnectorError("amoCRM answered 403 Forbidden: the token's user lacks rights for "
                                     f"{self.entity}, or the IP is blocked for exceeding 7 requests per second "
                                     "(wait before retrying)") from None
            raise

    def _read(self, path: str, params: Sequence[tuple[str, str]]) -> tuple[int, Any]:
        try:
            return self._request("GET", path, params)
        except AmoCRMHTTPError as err:
            raise ConnectorError(f"amoCRM: reading {path} failed after {self.max_attempts} attempts "
                                 f"({err.status or 'no answer'}: {err.message})") from None

    def _pages(self, path: str, key: str, params: Sequence[tuple[str, str]], limit: int) -> Iterator[list[JSON]]:
        page = 1
        while True:
            status, body = self._read(path, [*params, ("page", str(page)), ("limit", str(limit))])
            items = ((body or {}).get("_embedded") or {}).get(key) or [] if status != 204 else []
            if items:
                yield items
            if status == 204 or not items or not ((body or {}).get("_links") or {}).get("next"):
                return
            page += 1

    # -- describing -----------------------------------------------------------------------------------------------

    def _columns(self) -> list[_Column]:
        if self._columns_cache is not None:
            return self._columns_cache
        cols = [_Column(name, "base", type="number" if name in _INT_FIELDS else "text") for name in _BASE[self.entity]]
        taken = {c.name for c in cols} | {"id", "tags", "created_at", "updated_at"}
        for items in self._pages(f"/api/v4/{self.entity}/custom_fields", "custom_fields", [], 50):
            for f in items:
                code = f.get("code")
                name = _CODE_COLUMNS.get(code or "") or str(f.get("name") or f"field_{f['id']}")
                if name in taken:
                    name = f"{name} ({f['id']})"
                taken.add(name)
                enums = tuple((int(e["id"]), str(e.get("value"))) for e in f.get("enums") or [])
                cols.append(_Column(name, "cf", int(f["id"]), code, str(f.get("type") or "text"), enums,
                                    label=str(f.get("name") or name)))
        cols.append(_Column("tags", "tags"))
        cols += [_Column("created_at", "stamp"), _Column("updated_at", "stamp")]
        self._columns_cache = cols
        return cols

    def describe(self) -> list[FieldInfo]:
        out = [FieldInfo("id", "ID", "id", updateable=False)]
        for c in self._columns():
            if c.kind == "stamp":
                out.append(FieldInfo(c.name, c.name, "number", updateable=False))
            elif c.kind == "cf":
                kind = {"PHONE": "phone", "EMAIL": "email"}.get(c.code or "", "picklist" if c.enums and c.type in (
                    "select", "radiobutton", "multiselect") else "string")
                out.append(FieldInfo(c.name, c.label, kind, updateable=c.type in _WRITABLE_TYPES,
                                     picklist=tuple(v for _, v in c.enums) if kind == "picklist" else ()))
            else:
                out.append(FieldInfo(c.name, c.name, "number" if c.name in _INT_FIELDS else "string",
                                     updateable=True))
        return out

    # -- reading ----------------------------------------------------------------------------------------------------

    def _flat(self, rec: Mapping[str, Any], columns: Sequence[_Column]) -> Record:
        cfs = {int(cf["field_id"]): cf for cf in rec.get("custom_fields_values") or []}
        out: Record = {"id": str(rec["id"])}
        for c in columns:
            if c.kind in ("base", "stamp"):
                value = rec.get(c.name)
                out[c.name] = None if value in (None, "") else str(value)
            elif c.kind == "tags":
                names = [str(t.get("name")) for t in ((rec.get("_embedded") or {}).get("tags") or [])]
                out[c.name] = SEPARATOR.join(names) or None
            else:
                cf = cfs.get(int(c.field_id or 0))
                values = [str(v.get("value")) for v in (cf or {}).get("values") or [] if v.get("value") not in (None, "")]
                out[c.name] = SEPARATOR.join(values) or None
        return out

    def _wanted(self, fields: Sequence[str] | None) -> list[_Column]:
        cols = self._columns()
        if not fields:
            return cols
        known = {c.name: c for c in cols}
        unknown = [f for f in fields if f not in known and f != "id"]
        if unknown:
            raise UsageError(f"amoCRM {self.entity} has no field(s) {', '.join(unknown)}",
                             hint=f"fields: {', '.join(known)}")
        wanted = [known[f] for f in fields if f in known]
        if "updated_at" not in {c.name for c in wanted}:
            wanted.append(known["updated_at"])
        return wanted

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        """Pages of records (250 per request, by id ascending); ``where`` is raw amoCRM filter query text, e.g.
        ``filter[updated_at][from]=1700000000``."""
        columns = self._wanted(fields or self.options.fields)
        params: list[tuple[str, str]] = [("order[id]", "asc")]
        if self.with_:
            params.append(("with", self.with_))
        for clause in (where or self.options.where or "").split("&"):
            if clause.strip():
                key, sep, value = clause.strip().partition("=")
                if not sep or not key.startswith("filter["):
                    raise UsageError(f"--where for amoCRM takes filter parameters like "
                                     f"filter[updated_at][from]=1700000000, got {clause!r}")
                params.append((key, value))
        names = ["id", *(c.name for c in columns)]
        for items in self._pages(f"/api/v4/{self.entity}", self.entity, params, PAGE_SIZE):
            rows = [self._flat(rec, columns) for rec in items]
            yield pl.DataFrame({n: [r.get(n) for r in rows] for n in names}, schema={n: pl.String for n in names})

    def _raw(self, ids: Sequence[str]) -> dict[str, JSON]:
        found: dict[str, JSON] = {}
        unique = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        for start in range(0, len(unique), FETCH_CHUNK):
            chunk = unique[start:start + FETCH_CHUNK]
            params = [("filter[id][]", i) for i in chunk]
            for items in self._pages(f"/api/v4/{self.entity}", self.entity, params, PAGE_SIZE):
                for rec in items:
                    found[str(rec["id"])] = rec
        return found

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        columns = self._wanted(fields or self.options.fields)
        return {rid: self._flat(rec, columns) for rid, rec in self._raw(ids).items()}

    def version_of(self, record: Mapping[str, Value]) -> str:
        """``updated_at`` (unix seconds) and a hash of every value: a same-second edit still changes it."""
        return f"{record.get('updated_at') or '0'}-{values_hash(record)[:10]}"

    # -- writing ----------------------------------------------------------------------------------------------------

    def _item(self, rid: str, values: Mapping[str, Value], current: Mapping[str, Any]) -> JSON:
        """One PATCH item (raises ValueError when a value cannot be written)."""
        known = {c.name: c for c in self._columns()}
        item: JSON = {"id": int(rid)}
        cfs: list[JSON] = []
        existing = {int(cf["field_id"]): cf for cf in current.get("custom_fields_values") or []}
        for name, value in values.items():
            col = known.get(name)
            if col is None or col.kind == "stamp" or name == "id":
                raise ValueError(f"amoCRM {self.entity} has no writable field {name!r}")
            if col.kind == "base":
                if name in _INT_FIELDS and value not in (None, ""):
                    if not re.fullmatch(r"-?\d+", str(value).strip()):
                        raise ValueError(f"{name} must be a whole number, got {value!r}")
                    item[name] = int(str(value).strip())
                else:
                    item[name] = value if value not in ("",) else None
            elif col.kind == "tags":
                item.setdefault("_embedded", {})["tags"] = [{"name": t} for t in split_cell(value)]
            else:
                if col.type not in _WRITABLE_TYPES:
                    raise ValueError(f"{name!r} is a {col.type} field crmclean does not write")
                cfs.append({"field_id": col.field_id, "values": self._cf_values(col, value, existing.get(
                    int(col.field_id or 0)))})
        if cfs:
            item["custom_fields_values"] = cfs
        return item

    def _cf_values(self, col: _Column, value: Value, current: Mapping[str, Any] | None) -> list[JSON] | None:
        if value in (None, ""):
            return None
        if col.type == "multitext":
            return multi_values((current or {}).get("values") or [], value, col.code, "WORK")
        if col.enums:
            by_value = {v.casefold(): i for i, v in col.enums}
            parts = split_cell(value) if col.type == "multiselect" else [str(value).strip()]
            missing = [p for p in parts if p.casefold() not in by_value]
            if missing:
                raise ValueError(f"{col.name!r} has no option {missing[0]!r}")
            return [{"enum_id": by_value[p.casefold()]} for p in parts]
        return [{"value": str(value)}]

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        """PATCH in arrays of 50; a 400 names bad items by ``request_id``: they fail, the rest are sent again."""
        results: dict[str, WriteOutcome] = {}
        merged: dict[str, dict[str, Value]] = {}
        for upd in updates:
            rid = str(upd.record_id)
            if not rid.isdigit():
                results[rid] = WriteOutcome(rid, "failed", "not an amoCRM record id")
                continue
            merged.setdefault(rid, {}).update(upd.values)
        ids = [rid for rid, vals in merged.items() if vals]
        for rid, vals in merged.items():
            if not vals:
                results[rid] = WriteOutcome(rid, "skipped", "nothing to change")
        withdrawn: list[str] = []
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start:start + BATCH_SIZE]
            current = self._raw(chunk)
            items: list[tuple[str, JSON]] = []
            for rid in chunk:
                if rid not in current:
                    results[rid] = WriteOutcome(rid, "failed", "record not found in amoCRM (deleted or merged)")
                    continue
                try:
                    items.append((rid, self._item(rid, merged[rid], current[rid])))
                except ValueError as exc:
                    results[rid] = WriteOutcome(rid, "failed", str(exc))
                    continue
                if "tags" in merged[rid] and DUPLICATE_TAG not in split_cell(merged[rid]["tags"]) and any(
                        t.get("name") == DUPLICATE_TAG for t in (current[rid].get("_embedded") or {}).get("tags") or []):
                    withdrawn.append(rid)
            results.update(self._patch(items))
        done = [rid for rid in withdrawn if results.get(rid, WriteOutcome(rid, "failed")).status == "ok"]
        if done:
            self._withdraw_notes(done)
        return [results[str(u.record_id)] for u in updates]

    def _patch(self, items: Sequence[tuple[str, JSON]]) -> dict[str, WriteOutcome]:
        out: dict[str, WriteOutcome] = {}
        pending = list(items)
        while pending:
            body = [{**item, "request_id": str(n)} for n, (_, item) in enumerate(pending)]
            try:
                self._request("PATCH", f"/api/v4/{self.entity}", body=body)
            except AmoCRMHTTPError as err:
                bad = _validation_errors(err.body) if err.status == 400 else {}
                if not bad:
                    why = (f"amoCRM did not answer after {self.max_attempts} attempts ({err.status}: {err.message})"
                           if err.transient else f"amoCRM refused it: {err.status} {err.message}")
                    out.update({rid: WriteOutcome(rid, "failed", why) for rid, _ in pending})
                    return out
                keep = []
                for n, (rid, item) in enumerate(pending):
                    if str(n) in bad:
                        out[rid] = WriteOutcome(rid, "failed", f"amoCRM refused it: {bad[str(n)]}")
                    else:
                        keep.append((rid, item))
                pending = keep
                continue
            out.update({rid: WriteOutcome(rid, "ok") for rid, _ in pending})
            return out
        return out

    def _notes(self, ids: Sequence[str]) -> list[JSON]:
        notes: list[JSON] = []
        for start in range(0, len(ids), FETCH_CHUNK):
            params = [("filter[entity_id][]", i) for i in ids[start:start + FETCH_CHUNK]]
            for items in self._pages(f"/api/v4/{self.entity}/notes", "notes", params, PAGE_SIZE):
                notes.extend(items)
        return notes

    def _withdraw_notes(self, ids: Sequence[str]) -> None:
        """The API cannot delete notes: mark crmclean's duplicate notes on these records as withdrawn."""
        try:
            mine = [n for n in self._notes(ids)
                    if str((n.get("params") or {}).get("text") or "").startswith(NOTE_PREFIX)]
            if mine:
                body = [{"id": n["id"], "note_type": n.get("note_type") or "common",
                         "params": {"text": WITHDRAWN_PREFIX + str(n["params"]["text"])}} for n in mine]
                for start in range(0, len(body), BATCH_SIZE):
                    self._request("PATCH", f"/api/v4/{self.entity}/notes", body=body[start:start + BATCH_SIZE])
        except (AmoCRMHTTPError, ConnectorError) as exc:
            log.warning("amoCRM: the duplicate tag was removed but its notes could not be marked withdrawn: %s", exc)

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        """Golden values to the master; each duplicate tagged ``crmclean-duplicate`` with a note naming the master."""
        master = str(request.master_id)
        losers = [str(x) for x in dict.fromkeys(request.loser_ids) if str(x) != master]
        if request.values:
            master_out = self.update([FieldUpdate(master, dict(request.values))])[0]
        else:
            master_out = WriteOutcome(master, "ok")
        if master_out.status != "ok":
            return [master_out, *(WriteOutcome(r, "failed", "the master could not be written; not tagged")
                                  for r in losers)]
        current = self.fetch(losers, ["tags"])
        tag_updates = []
        outcomes: dict[str, WriteOutcome] = {}
        for rid in losers:
            if rid not in current:
                outcomes[rid] = WriteOutcome(rid, "failed", "record not found in amoCRM")
                continue
            tags = split_cell(current[rid].get("tags"))
            tag_updates.append(FieldUpdate(rid, {"tags": SEPARATOR.join([*tags, DUPLICATE_TAG])
                                                 if DUPLICATE_TAG not in tags else SEPARATOR.join(tags)}))
        for out in self.update(tag_updates):
            outcomes[out.record_id] = out
        tagged = [rid for rid in losers if outcomes[rid].status == "ok"]
        if tagged:
            singular = self.entity.rstrip("s").replace("companie", "company")
            body = [{"entity_id": int(rid), "note_type": "common", "request_id": rid, "params": {"text": (
                f"{NOTE_PREFIX} {singular} #{master}: merge this record into #{master} in amoCRM "
                f"(crmclean cannot merge through the API)")}} for rid in tagged]
            try:
                self._request("POST", f"/api/v4/{self.entity}/notes", body=body)
            except AmoCRMHTTPError as err:
                for rid in tagged:
                    outcomes[rid] = WriteOutcome(rid, "ok", f"tagged, but the note was not added ({err.status})")
        return [master_out, *(outcomes[rid] for rid in losers)]

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        return [WriteOutcome(str(r.get("id") or i), "failed", "the amoCRM connector does not create records")
                for i, r in enumerate(records)]

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        return [WriteOutcome(str(i), "failed", "amoCRM cannot delete records through its API") for i in ids]

    def close(self) -> None:
        self._session.close()


def _validation_errors(body: Any) -> dict[str, str]:
    """request_id -> "code path: detail; ..." from a 400 answer."""
    out: dict[str, str] = {}
    if not isinstance(body, Mapping):
        return out
    for entry in body.get("validation-errors") or []:
        errors = entry.get("errors") or []
        text = "; ".join(f"{e.get('code')} {e.get('path')}: {e.get('detail')}" for e in errors)
        out[str(entry.get("request_id"))] = text or "validation failed"
    return out
