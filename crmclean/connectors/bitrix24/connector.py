"""Bitrix24 connector: contacts, companies, leads and deals over the REST API through an incoming webhook.

Every behaviour below follows a page of the official docs (repository bitrix24/b24restdocs); docs/connectors.md
lists them.

Credentials: ``BITRIX24_WEBHOOK_URL`` — an incoming webhook, ``https://PORTAL/rest/USER_ID/SECRET/`` — from the
environment or ``--credentials-file``. Calls run with that user's rights. The secret never appears in a message,
log line or repr: every error is masked to ``https://PORTAL/rest/USER_ID/***/``.

Reading: ``crm.{entity}.list`` with key-set paging — ``order: {ID: ASC}``, ``filter: {">ID": last}``,
``start: -1`` (no total is counted; settings/performance/huge-data.md) — and an explicit ``select``: ``*`` leaves out
the multi-value fields and ``UF_*`` custom fields (crm-contact-list.md), so the connector names every field that
``crm.{entity}.fields`` describes. PHONE / EMAIL / WEB / IM are lists of items ``{ID, VALUE, VALUE_TYPE}``; the table
shows one cell with the values joined by ", " (see :mod:`.multifield` for how an edited cell goes back).

Writing: updates, creates and deletes go 50 commands to a ``batch`` call (halt=0, per-command errors from
``result_error``; settings/how-to-call-rest-api/batch.md). Bitrix24 silently ignores a field it does not know or may
not write (crm-contact-update.md), so every write is read back and a value that did not stick is reported failed.
A write whose answer was lost is not blindly re-sent: the records are read again and only what is still missing is
written (multi-value "add" items would otherwise be added twice). Merges use ``crm.entity.mergeBatch`` (the first id
survives; a ``CONFLICT`` is reported per record with the portal's merge page, never resolved by guessing).

Limits (limits.md): a client-side leaky bucket (50 requests, then 2 per second; ``burst``/``rate`` options or
``BITRIX24_BURST`` / ``BITRIX24_RATE`` for Enterprise's 250 and 5), 503 ``QUERY_LIMIT_EXCEEDED`` waits and retries
with backoff (:mod:`crmclean.connectors.http`). ``request_count`` counts HTTP requests.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import requests

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.base import FieldInfo, FieldUpdate, MergeRequest, Record, Value, WriteOutcome, values_hash
from crmclean.connectors.bitrix24.multifield import (
    item_operations,
    join_items,
    new_items,
    same_values,
    split_cell,
)
from crmclean.connectors.bitrix24.phpquery import build as build_query
from crmclean.connectors.http import Retry, TransientConnectorError, call_with_retry, read_credentials_file
from crmclean.errors import ConnectorError, UsageError

log = logging.getLogger(__name__)

T = TypeVar("T")
JSON = dict[str, Any]

ENV_WEBHOOK = "BITRIX24_WEBHOOK_URL"
PAGE_SIZE = 50  # list methods: always 50 rows
BATCH_SIZE = 50  # batch: at most 50 commands
FINDBYCOMM_SIZE = 20  # crm.duplicate.findbycomm: at most 20 values
DEFAULT_BURST = 50
DEFAULT_RATE = 2.0
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_ATTEMPTS = 6
ENTITIES = {"contacts": "contact", "contact": "contact", "companies": "company", "company": "company",
            "leads": "lead", "lead": "lead", "deals": "deal", "deal": "deal"}
PLURAL = {"contact": "contacts", "company": "companies", "lead": "leads", "deal": "deals"}
ENTITY_TYPE_IDS = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
_TYPE_MAP = {"string": "string", "integer": "number", "double": "number", "date": "date", "datetime": "datetime",
             "char": "boolean", "boolean": "boolean", "enumeration": "picklist", "crm_status": "picklist"}
# which crmclean role each standard field plays (header detection would read NAME as a full name)
FIELD_ROLES: dict[str, str] = {
    "NAME": "first_name", "SECOND_NAME": "middle_name", "LAST_NAME": "last_name", "HONORIFIC": "salutation",
    "POST": "job_title", "PHONE": "phone", "EMAIL": "email", "WEB": "website", "COMMENTS": "notes",
    "ADDRESS_CITY": "city", "ADDRESS_COUNTRY": "country", "ADDRESS": "address", "ADDRESS_REGION": "region",
    "ADDRESS_POSTAL_CODE": "zip", "COMPANY_ID": "account_id", "ASSIGNED_BY_ID": "owner", "SOURCE_ID": "lead_source",
    "DATE_CREATE": "created_at", "DATE_MODIFY": "updated_at", "BIRTHDATE": "birth_date", "ID": "id",
    "CREATED_BY_ID": "ignore", "MODIFY_BY_ID": "ignore", "HAS_PHONE": "ignore", "HAS_EMAIL": "ignore",
    "HAS_IMOL": "ignore", "OPENED": "ignore", "EXPORT": "ignore", "TYPE_ID": "ignore", "IM": "ignore",
    "LAST_ACTIVITY_BY": "ignore", "LAST_ACTIVITY_TIME": "ignore", "CONTACT_ID": "ignore", "LEAD_ID": "ignore",
    "COMPANY_IDS": "ignore", "ORIGINATOR_ID": "ignore", "ORIGIN_ID": "ignore", "ORIGIN_VERSION": "ignore",
}
_COMPANY_ROLES = {"TITLE": "company", "INDUSTRY": "industry"}
_LEAD_ROLES = {"COMPANY_TITLE": "company", "TITLE": "ignore", "STATUS_ID": "status"}
_DEAL_ROLES = {"TITLE": "ignore", "OPPORTUNITY": "deal_amount", "STAGE_ID": "deal_stage"}
_SKIP_TYPES = ("file",)  # photos and files are no text to clean
_STAMP = "DATE_MODIFY"
# moved by the portal itself, not by what anyone wrote: left out of the version
_NOT_VERSIONED = ("DATE_MODIFY", "MODIFY_BY_ID", "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "LAST_ACTIVITY_TIME",
                  "LAST_ACTIVITY_BY")


class Bitrix24Error(Exception):
    """A Bitrix24 answer that is an error (status 0: no answer), with its error code and description."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.status = status
        self.error = error
        self.description = description

    @property
    def rate_limited(self) -> bool:
        return self.error == "QUERY_LIMIT_EXCEEDED"

    @property
    def transient(self) -> bool:
        return self.rate_limited or self.status in (0, 500, 502, 503, 504)

    def describe(self) -> str:
        text = " ".join(p for p in (self.error, self.description) if p) or "error"
        return f"{self.status} {text}" if self.status else text


# ----------------------------------------------------------------------------------------------------
# credentials


@dataclass(frozen=True)
class Webhook:
    """An incoming webhook URL split into the part that may be shown and the secret that may not."""

    base: str  # https://portal/rest/1/SECRET/
    secret: str
    portal: str  # https://portal

    @property
    def masked(self) -> str:
        return self.base.replace(self.secret, "***") if self.secret else self.base

    def scrub(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text


_WEBHOOK_RE = re.compile(r"^(?P<portal>https?://[^/\s]+)/rest/(?P<user>\d+)/(?P<secret>[^/\s]+)/?"
                         r"(?:[A-Za-z0-9_.]+(?:\.json)?)?/?$")


def parse_webhook(url: str) -> Webhook:
    match = _WEBHOOK_RE.match(url.strip())
    if match is None:
        host = re.match(r"^\s*(https?://[^/\s]+)", url)
        shown = f"{host.group(1)}/…" if host else "something else"  # the rest may hold the secret: never shown
        raise ConnectorError(f"{ENV_WEBHOOK} must look like https://PORTAL.bitrix24.ru/rest/USER_ID/SECRET/, "
                             f"got {shown}")
    base = f"{match.group('portal')}/rest/{match.group('user')}/{match.group('secret')}/"
    return Webhook(base, match.group("secret"), match.group("portal"))


def load_webhook(options: ConnectorOptions) -> Webhook:
    """The webhook from ``options.credentials_file`` (key BITRIX24_WEBHOOK_URL or webhook_url) or the environment."""
    url = ""
    if options.credentials_file:
        raw = read_credentials_file(Path(options.credentials_file), "bitrix24", expected="BITRIX24_WEBHOOK_URL")
        for key, value in raw.items():
            if key.strip().upper() in (ENV_WEBHOOK, "WEBHOOK_URL", "WEBHOOK"):
                url = str(value)
    url = url or os.environ.get(ENV_WEBHOOK, "")
    if not url.strip():
        where = f" or add it to {options.credentials_file}" if options.credentials_file else ""
        raise ConnectorError(f"no Bitrix24 webhook: set {ENV_WEBHOOK} to an incoming webhook URL{where}",
                             hint="create one in Bitrix24: Applications > Developer resources > Inbound webhook "
                                  "(scope crm)")
    return parse_webhook(url)


# ----------------------------------------------------------------------------------------------------
# the leaky bucket


class LeakyBucket:
    """Client side of Bitrix24's limit: a counter that grows by one per request and drains ``rate`` per second;
    a request that would push it over ``burst`` waits instead (limits.md)."""

    def __init__(self, burst: int = DEFAULT_BURST, rate: float = DEFAULT_RATE, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.burst = max(1, burst)
        self.rate = rate
        self.waited = 0.0
        self._level = 0.0
        self._at: float | None = None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def _drain(self, now: float) -> None:
        if self._at is not None:
            self._level = max(0.0, self._level - (now - self._at) * self.rate)
        self._at = now

    def acquire(self) -> None:
        while True:
            with self._lock:
                self._drain(self._clock())
                # one request of slack: our clock and the portal's do not tick together
                if self._level + 1 <= self.burst - 1 or (self.burst <= 1 and self._level == 0):
                    self._level += 1
                    return
                wait = (self._level + 2 - self.burst) / self.rate
            wait = max(wait, 0.01)
            self.waited += wait
            self._sleep(wait)

    def refused(self) -> None:
        """The portal said 503: it thinks the bucket is full, so ours is too."""
        with self._lock:
            self._drain(self._clock())
            self._level = float(self.burst)


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _number(extra: Mapping[str, str], key: str, default: T, kind: Callable[[str], T]) -> T:
    raw = extra.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = kind(str(raw))
    except ValueError:
        raise UsageError(f"Bitrix24 option {key}={raw!r} is not a number") from None
    if isinstance(value, int | float) and value <= 0:
        raise UsageError(f"Bitrix24 option {key} must be positive, got {raw!r}")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) for v in value):
            return join_items(value)
        joined = ", ".join(str(v) for v in value if v not in (None, ""))
        return joined or None
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value)
    return text if text != "" else None


def _same(a: str | None, b: str | None) -> bool:
    return (a or None) == (b or None)


# ----------------------------------------------------------------------------------------------------
# where


_COND_RE = re.compile(r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|!=|<>|=|>|<|~|\bIN\b)\s*(?P<value>.+?)\s*$",
                      re.IGNORECASE)


def parse_where(text: str) -> dict[str, Any]:
    """``STATUS_ID = NEW AND DATE_CREATE >= 2024-01-01`` -> ``{"=STATUS_ID": "NEW", ">=DATE_CREATE": "2024-01-01"}``.

    Conditions ``FIELD OP value`` joined by AND (the list methods take no OR: crm-contact-list.md); OP is one of
    ``= != > >= < <=``, ``~`` (substring, Bitrix24's ``%``) or ``IN (a, b)``. Values may be quoted."""
    out: dict[str, Any] = {}
    for part in re.split(r"\s+AND\s+", text.strip(), flags=re.IGNORECASE):
        match = _COND_RE.match(part)
        if match is None:
            raise UsageError(f"--where: cannot read {part!r}", hint="write FIELD = value [AND FIELD >= value]; "
                                                                    "operators = != > >= < <= ~ IN (a, b)")
        op = match.group("op").upper()
        value = match.group("value").strip()
        if op == "IN":
            items = [v.strip().strip("'\"") for v in value.strip("()").split(",") if v.strip()]
            out[f"@{match.group('field')}"] = items
            continue
        prefix = {"=": "=", "!=": "!=", "<>": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=", "~": "%"}[op]
        out[f"{prefix}{match.group('field')}"] = value.strip("'\"")
    return out


# ----------------------------------------------------------------------------------------------------
# the connector


class Bitrix24Connector:
    """One Bitrix24 CRM entity (``bitrix24:contacts``) as a crmclean connector."""

    kind = "bitrix24"
    id_field = "ID"
    max_batch = BATCH_SIZE
    capabilities = frozenset({"update", "merge", "create", "delete"})

    def __init__(self, obj: str, options: ConnectorOptions | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, max_attempts: int | None = None) -> None:
        self.options = options or ConnectorOptions()
        entity = ENTITIES.get(obj.strip().lower())
        if entity is None:
            raise UsageError(f"bitrix24:{obj}: Bitrix24 objects are contacts, companies, leads and deals")
        self.entity = entity
        self.record_type = PLURAL[entity]
        self.spec = f"bitrix24:{obj}"
        self.webhook = load_webhook(self.options)
        extra = {**{k: os.environ[f"BITRIX24_{k.upper()}"] for k in ("burst", "rate", "timeout", "max_attempts")
                    if os.environ.get(f"BITRIX24_{k.upper()}")}, **(self.options.extra or {})}
        self.timeout = _number(extra, "timeout", DEFAULT_TIMEOUT, float)
        self.max_attempts = max_attempts or _number(extra, "max_attempts", DEFAULT_MAX_ATTEMPTS, int)
        self.bucket = LeakyBucket(_number(extra, "burst", DEFAULT_BURST, int), _number(extra, "rate", DEFAULT_RATE,
                                                                                      float), clock=clock, sleep=sleep)
        self.progress: Callable[[int, int | None], None] | None = None
        self.request_count = 0
        self.retries = 0
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._session = requests.Session()
        self._definitions: dict[str, JSON] | None = None
        roles = dict(FIELD_ROLES)
        roles.update({"company": _COMPANY_ROLES, "lead": _LEAD_ROLES, "deal": _DEAL_ROLES}.get(entity, {}))
        self.field_roles = roles

    def __repr__(self) -> str:  # never the secret
        return f"Bitrix24Connector(spec={self.spec!r}, webhook={self.webhook.masked!r})"

    # -- HTTP -------------------------------------------------------------------------------------------

    def _post(self, method: str, params: Mapping[str, Any]) -> JSON:
        """One HTTP request; any error answer raises Bitrix24Error (secret masked)."""
        self.bucket.acquire()
        self.request_count += 1
        try:
            response = self._session.post(f"{self.webhook.base}{method}.json", json=params, timeout=self.timeout)
        except requests.Timeout:
            raise Bitrix24Error(0, "timeout", f"no answer from {self.webhook.masked} in {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise Bitrix24Error(0, "connection failed", self.webhook.scrub(f"{type(exc).__name__}: {exc}")) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise Bitrix24Error(response.status_code, f"HTTP {response.status_code}", "the answer was not JSON")
        if response.status_code >= 400 or "error" in body:
            error = Bitrix24Error(response.status_code, self.webhook.scrub(str(body.get("error") or "")),
                                  self.webhook.scrub(str(body.get("error_description") or "")))
            if error.rate_limited:
                self.bucket.refused()
            raise error
        return body

    def _call(self, method: str, params: Mapping[str, Any], *, idempotent: bool = True) -> JSON:
        """A call through the bucket and the retry policy. Non-idempotent calls retry only what surely did not run
        (503 QUERY_LIMIT_EXCEEDED is refused before the method runs)."""

        def classify(exc: BaseException) -> Retry | None:
            if not isinstance(exc, Bitrix24Error) or not exc.transient:
                return None
            if not idempotent and not exc.rate_limited:
                return None
            return Retry(reason=exc.error or str(exc.status))

        return call_with_retry(lambda: self._post(method, params), classify=classify, max_attempts=self.max_attempts,
                               sleep=self._sleep, rng=self._rng, on_retry=self._on_retry)

    def _on_retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        self.retries += 1
        log.info("Bitrix24 %s; retry %d in %.1f s", exc, attempt, delay)

    def _user_error(self, what: str, err: Bitrix24Error) -> ConnectorError:
        where = self.webhook.masked
        if err.status == 401 or err.error in ("INVALID_CREDENTIALS", "NO_AUTH_FOUND", "expired_token"):
            return ConnectorError(f"Bitrix24 rejected the webhook while trying to {what} ({err.describe()}): check "
                                  f"{ENV_WEBHOOK} ({where})")
        if err.status == 403 or err.error in ("ACCESS_DENIED", "insufficient_scope"):
            return ConnectorError(f"Bitrix24 refused to {what} ({err.describe()}): the webhook's user lacks the right "
                                  "or the webhook lacks the crm scope")
        if err.rate_limited:
            return TransientConnectorError(f"Bitrix24 kept answering QUERY_LIMIT_EXCEEDED while trying to {what}; lower the "
                                  "burst/rate options or try later")
        if err.error == "OPERATION_TIME_LIMIT":
            return TransientConnectorError(f"Bitrix24 blocked the method for a while (more than 480 s of work in 10 minutes) "
                                  f"while trying to {what}; try again in 10 minutes")
        if err.transient:
            return TransientConnectorError(f"Bitrix24 at {where} did not answer properly while trying to {what}: "
                                  f"{err.describe()} (after {self.max_attempts} attempts)")
        return ConnectorError(f"Bitrix24 refused to {what}: {err.describe()}")

    def _read(self, what: str, method: str, params: Mapping[str, Any]) -> JSON:
        try:
            return self._call(method, params)
        except Bitrix24Error as err:
            raise self._user_error(what, err) from None

    def _batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], *, idempotent: bool) -> JSON:
        """Run up to 50 commands in one request (halt=0); returns ``{result, result_error, ...}``."""
        cmd = {name: f"{method}?{build_query(params)}" for name, (method, params) in commands.items()}
        body = self._call("batch", {"halt": 0, "cmd": cmd}, idempotent=idempotent)
        result = body.get("result") or {}
        return {key: (result.get(key) or {}) if isinstance(result.get(key), dict) else {}
                for key in ("result", "result_error", "result_total", "result_next")}

    def _failure(self, err: Bitrix24Error, what: str) -> str:
        if err.status in (401, 403) or err.error in ("INVALID_CREDENTIALS", "ACCESS_DENIED", "insufficient_scope"):
            raise self._user_error(what, err)
        if err.transient:
            return f"Bitrix24 did not answer after {self.max_attempts} attempts ({err.describe()})"
        return f"Bitrix24 refused it: {err.describe()}"

    # -- metadata ---------------------------------------------------------------------------------------

    def _fields(self) -> dict[str, JSON]:
        if self._definitions is None:
            body = self._read(f"read the {self.record_type} field list", f"crm.{self.entity}.fields", {})
            result = body.get("result") or {}
            self._definitions = {k: v for k, v in result.items() if isinstance(v, dict)}
        return self._definitions

    def _is_multi(self, name: str) -> bool:
        d = self._fields().get(name) or {}
        return d.get("type") == "crm_multifield"

    def _read_only(self, name: str) -> bool:
        d = self._fields().get(name)
        return name == self.id_field or bool(d and d.get("isReadOnly"))

    def describe(self) -> list[FieldInfo]:
        infos = []
        for name, d in self._fields().items():
            if d.get("type") in _SKIP_TYPES:
                continue
            kind = {"PHONE": "phone", "EMAIL": "email", "WEB": "url"}.get(name) or _TYPE_MAP.get(str(d.get("type")),
                                                                                                  "string")
            items = tuple(str(i.get("VALUE")) for i in d.get("items") or [] if isinstance(i, dict))
            label = d.get("formLabel") or d.get("listLabel") or d.get("title") or name
            infos.append(FieldInfo(name=name, label=str(label), type=kind, updateable=not self._read_only(name),
                                   required=bool(d.get("isRequired")), picklist=items))
        return infos

    def _default_fields(self) -> list[str]:
        return [n for n, d in self._fields().items() if d.get("type") not in _SKIP_TYPES and n != "LINK"]

    def _columns(self, fields: Sequence[str] | None) -> list[str]:
        known = self._fields()
        chosen = list(fields) if fields else (self.options.fields or self._default_fields())
        unknown = [f for f in chosen if f not in known and f != self.id_field]
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], list(known), n=3)
            raise UsageError(f"{self.spec}: Bitrix24 has no field {unknown[0]!r}",
                             hint=f"did you mean {', '.join(close)}?" if close else None)
        columns = [self.id_field, *[f for f in dict.fromkeys(chosen) if f != self.id_field]]
        if _STAMP in known and _STAMP not in columns:
            columns.append(_STAMP)  # the version stamp travels with every page
        return columns

    # -- reading ----------------------------------------------------------------------------------------

    def _record(self, raw: Mapping[str, Any], columns: Sequence[str]) -> Record:
        return {c: _text(raw.get(c)) for c in columns}

    def _frame(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pl.DataFrame:
        data: dict[str, list[str | None]] = {c: [_text(r.get(c)) for r in rows] for c in columns}
        return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))

    def _list_after(self, last_id: int, select: Sequence[str], extra_filter: Mapping[str, Any]) -> list[JSON]:
        params = {"order": {"ID": "ASC"}, "filter": {**extra_filter, ">ID": last_id}, "select": list(select),
                  "start": -1}
        body = self._read(f"read {self.record_type}", f"crm.{self.entity}.list", params)
        result = body.get("result") or []
        return [r for r in result if isinstance(r, dict)]

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        columns = self._columns(fields)
        where = where if where is not None else self.options.where
        extra = parse_where(where) if where and where.strip() else {}
        last_id = 0
        done = 0
        yielded = False
        while True:
            rows = self._list_after(last_id, columns, extra)
            if rows:
                yielded = True
                done += len(rows)
                if self.progress is not None:
                    self.progress(done, None)
                yield self._frame(rows, columns)
            if len(rows) < PAGE_SIZE:
                break
            new_last = int(rows[-1]["ID"])
            if new_last <= last_id:
                raise ConnectorError(f"Bitrix24 returned the same {self.record_type} twice while paging by ID")
            last_id = new_last
        if not yielded:
            yield pl.DataFrame(schema=dict.fromkeys(columns, pl.String))

    def _raw(self, ids: Sequence[str], select: Sequence[str]) -> dict[str, JSON]:
        """Current raw records (multi-value fields as item lists), 50 ids per list call."""
        found: dict[str, JSON] = {}
        wanted = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        for chunk in _chunks(wanted, PAGE_SIZE):
            params = {"filter": {"@ID": list(chunk)}, "select": list(dict.fromkeys([self.id_field, *select])),
                      "order": {"ID": "ASC"}, "start": -1}
            body = self._read(f"read {self.record_type} by id", f"crm.{self.entity}.list", params)
            for row in body.get("result") or []:
                if isinstance(row, dict):
                    found[str(row.get("ID"))] = row
        return found

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        columns = self._columns(fields)
        raw = self._raw(ids, columns)
        return {rid: self._record(row, columns) for rid, row in raw.items()}

    def version_of(self, record: Mapping[str, Value]) -> str:
        """A hash of the record's values, not DATE_MODIFY: DATE_MODIFY counts whole seconds (two edits in one second
        look alike) and moves when crmclean puts back the values of a merge Bitrix24 refused, which would read as a
        person's edit. A person's edit changes a value, so it changes the hash."""
        return values_hash(record, ignore=_NOT_VERSIONED)

    # -- writing ----------------------------------------------------------------------------------------

    def _payload(self, values: Mapping[str, Value], current: Mapping[str, Any] | None) -> dict[str, Any]:
        """The ``fields`` of an update that turns ``current`` (raw) into ``values`` (only what differs)."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            if self._is_multi(name):
                items = (current or {}).get(name)
                ops = item_operations(items if isinstance(items, list) else [], value)
                if ops:
                    out[name] = ops
            elif current is None or not _same(_text(current.get(name)), value):
                out[name] = "" if value is None else value
        return out

    def _holds(self, raw: Mapping[str, Any], values: Mapping[str, Value]) -> list[str]:
        """Fields of ``values`` the record does not hold yet."""
        missing = []
        for name, value in values.items():
            have = _text(raw.get(name))
            ok = same_values(have, value) if self._is_multi(name) else _same(have, value)
            if not ok:
                missing.append(name)
        return missing

    def _write(self, wanted: Mapping[str, Mapping[str, Value]], verb: str = "update") -> dict[str, WriteOutcome]:
        """Make each record hold its values: read, send only what is missing, read back; repeat after a lost answer.

        A record the portal answered ``true`` for but which still lacks a value was silently ignored: failed."""
        results: dict[str, WriteOutcome] = {}
        pending = dict(wanted)
        accepted: set[str] = set()
        last_error = ""
        fields = sorted({f for values in wanted.values() for f in values})
        for attempt in range(1, self.max_attempts + 1):
            if not pending:
                break
            current = self._raw(list(pending), fields)
            commands: dict[str, tuple[str, Mapping[str, Any]]] = {}
            for rid, values in list(pending.items()):
                raw = current.get(rid)
                if raw is None:
                    results[rid] = WriteOutcome(rid, "failed", "record not found in Bitrix24 (deleted or merged away)")
                    del pending[rid]
                    continue
                missing = self._holds(raw, values)
                if not missing:
                    results[rid] = WriteOutcome(rid, "ok")
                    del pending[rid]
                    continue
                if rid in accepted:
                    shown = "; ".join(f"{f} is {_text(raw.get(f))!r}, not {values[f]!r}" for f in missing[:3])
                    results[rid] = WriteOutcome(rid, "failed", f"Bitrix24 accepted the {verb} but did not store it "
                                                               f"(unknown or read-only field?): {shown}")
                    del pending[rid]
                    continue
                payload = self._payload({f: values[f] for f in missing}, raw)
                commands[f"r{rid}"] = (f"crm.{self.entity}.update",
                                       {"id": rid, "fields": payload, "params": {"REGISTER_SONET_EVENT": "N"}})
            if not commands:
                break
            try:
                reply = self._batch(commands, idempotent=False)
            except Bitrix24Error as err:
                last_error = self._failure(err, f"{verb} {self.record_type}")
                if not err.transient:
                    for name in commands:
                        rid = name[1:]
                        results[rid] = WriteOutcome(rid, "failed", last_error)
                        pending.pop(rid, None)
                    break
                # did it land? the next round reads the records again before sending anything
                self.retries += 1
                from crmclean.connectors.http import backoff_delay

                self._sleep(backoff_delay(attempt, rng=self._rng))
                continue
            for name in commands:
                rid = name[1:]
                error = reply["result_error"].get(name)
                if error:
                    message = self.webhook.scrub(" ".join(str(error.get(k) or "") for k in ("error", "error_description"))
                                                 .strip()) or "Bitrix24 reported an error"
                    results[rid] = WriteOutcome(rid, "failed", f"Bitrix24 refused it: {message}")
                    pending.pop(rid, None)
                elif name in reply["result"]:
                    accepted.add(rid)
            if attempt == self.max_attempts and pending:
                current = self._raw(list(pending), fields)
                for rid, values in list(pending.items()):
                    raw = current.get(rid)
                    if raw is not None and not self._holds(raw, values):
                        results[rid] = WriteOutcome(rid, "ok")
                        del pending[rid]
        for rid in pending:
            results[rid] = WriteOutcome(rid, "failed", last_error or f"Bitrix24 did not confirm the {verb}")
        return results

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        """Field updates, one outcome per input (duplicate ids merged, later values win); verified by reading back."""
        local: dict[str, WriteOutcome] = {}
        merged: dict[str, dict[str, Value]] = {}
        for upd in updates:
            rid = str(upd.record_id)
            if rid in local:
                continue
            problem = None if rid.isdigit() else "not a Bitrix24 record id"
            for name in upd.values:
                if problem is None and name in (self.id_field, _STAMP, "DATE_CREATE"):
                    problem = f"{name} is set by Bitrix24 and cannot be changed"
            if problem:
                local[rid] = WriteOutcome(rid, "failed", problem)
                merged.pop(rid, None)
                continue
            merged.setdefault(rid, {}).update(upd.values)
        results = dict(local)
        for rid, values in merged.items():
            if not values:
                results[rid] = WriteOutcome(rid, "skipped", "nothing to change")
        items = [(rid, v) for rid, v in merged.items() if v]
        for chunk in _chunks(items, BATCH_SIZE):
            results.update(self._write(dict(chunk)))
        return [results[str(u.record_id)] for u in updates]

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        """crm.entity.mergeBatch: the master (first id) survives and then holds ``values``; outcomes: master first.

        Bitrix24 refuses (CONFLICT) when a duplicate holds a different non-empty value than the master. The plan
        has decided what the master keeps, so the connector first makes the records agree with it (the master gets
        the golden values; a duplicate's differing values are set to the master's), then merges. A CONFLICT or
        ERROR that remains is reported per record with the portal's merge page, and the records are put back."""
        master = str(request.master_id)
        losers = [str(x) for x in dict.fromkeys(request.loser_ids) if str(x) != master]
        ids = [master, *losers]
        columns = self._columns(None)
        before = self._raw(ids, columns)
        missing = [rid for rid in ids if rid not in before]
        if missing:
            why = "record not found in Bitrix24 (deleted or merged away)"
            return [WriteOutcome(rid, "failed", why if rid in missing else f"record {', '.join(missing)} not found")
                    for rid in ids]
        # what the master holds after the merge: its own values overlaid with the plan's golden values
        target = {c: _text(before[master].get(c)) for c in columns}
        target.update(request.values)
        wanted: dict[str, dict[str, Value]] = {}
        if request.values:
            wanted[master] = dict(request.values)
        for rid in losers:
            aligned: dict[str, Value] = {}
            for name in columns:
                if self._read_only(name) or self._is_multi(name) or name == "COMMENTS":
                    continue
                theirs, mine = _text(before[rid].get(name)), target.get(name)
                if theirs and mine and " ".join(theirs.split()).casefold() != " ".join(mine.split()).casefold():
                    aligned[name] = mine
            if aligned:
                wanted[rid] = aligned
        prepared = self._write(wanted, "merge preparation") if wanted else {}
        bad = {rid: o for rid, o in prepared.items() if o.status != "ok"}
        if bad:
            self._restore(before, prepared, columns)
            reason = "; ".join(f"{rid}: {o.error}" for rid, o in bad.items())
            return [WriteOutcome(rid, "failed", f"could not prepare the merge: {reason}") for rid in ids]
        status, error = self._merge_call(ids)
        if status != "SUCCESS":
            self._restore(before, prepared, columns)
            link = f"{self.webhook.portal}/crm/{self.entity}/merge/?id={','.join(ids)}"
            why = (f"Bitrix24 could not merge automatically (CONFLICT): merge them by hand at {link}"
                   if status == "CONFLICT" else f"Bitrix24 did not merge them ({error or status})")
            return [WriteOutcome(rid, "failed", why) for rid in ids]
        outcomes = [WriteOutcome(rid, "ok") for rid in losers]
        # the merge pooled the duplicates' phones and e-mails, filled empty fields and appended comments: the plan
        # decided what the master holds, so write that (only what differs is sent)
        final_values = {c: target.get(c) for c in columns if not self._read_only(c)}
        if final_values:
            final = self._write({master: final_values})[master]
            if final.status != "ok":
                return [WriteOutcome(master, "failed", f"merged, but setting the golden values failed: {final.error}"),
                        *outcomes]
        return [WriteOutcome(master, "ok"), *outcomes]

    def _merge_call(self, ids: Sequence[str]) -> tuple[str, str | None]:
        params = {"params": {"entityTypeId": ENTITY_TYPE_IDS[self.entity], "entityIds": [int(i) for i in ids]}}
        for attempt in range(1, self.max_attempts + 1):
            try:
                body = self._call("crm.entity.mergeBatch", params, idempotent=False)
            except Bitrix24Error as err:
                if err.status in (401, 403) or err.error in ("ACCESS_DENIED",):
                    raise self._user_error(f"merge {self.record_type} (crm.entity.mergeBatch needs an administrator)",
                                           err) from None
                if not err.transient:
                    return "ERROR", err.describe()
                # the answer was lost: the duplicates are gone if it ran
                present = self._raw(ids, [self.id_field])
                if master_only := (ids[0] in present and not any(i in present for i in ids[1:])):
                    return "SUCCESS", None
                if all(i in present for i in ids) and attempt < self.max_attempts:
                    from crmclean.connectors.http import backoff_delay

                    self._sleep(backoff_delay(attempt, rng=self._rng))
                    continue
                return "ERROR", f"no answer ({err.describe()}); merged: {master_only}"
            result = body.get("result") or {}
            return str(result.get("STATUS") or "ERROR"), None
        return "ERROR", "no answer"

    def _restore(self, before: Mapping[str, JSON], written: Mapping[str, WriteOutcome], columns: Sequence[str]) -> None:
        """Put back the scalar values of records changed while preparing a merge that did not happen (best effort)."""
        back: dict[str, dict[str, Value]] = {}
        for rid in written:
            raw = before.get(rid)
            if raw is not None:
                back[rid] = {c: _text(raw.get(c)) for c in columns
                             if not self._read_only(c) and not self._is_multi(c) and c in raw}
        back = {rid: v for rid, v in back.items() if v}
        if back:
            try:
                self._write(back, "restore")
            except ConnectorError as exc:  # pragma: no cover - reported, not raised: the merge outcome matters more
                log.warning("could not restore records after a refused merge: %s", exc)

    def _create_fields(self, record: Record) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, value in record.items():
            if name == self.id_field or name.startswith("__") or value in (None, ""):
                continue
            if name not in self._fields() or self._read_only(name):
                continue
            fields[name] = new_items(value) if self._is_multi(name) else value
        return fields

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        """crm.{entity}.add in batches; ``new_id`` is the id Bitrix24 assigned. Read-only fields are dropped.

        An add whose answer was lost is not re-sent (it may have created the record): it is reported failed."""
        outcomes: list[WriteOutcome] = []
        for chunk in _chunks(list(enumerate(records)), BATCH_SIZE):
            commands = {f"c{i}": (f"crm.{self.entity}.add", {"fields": self._create_fields(rec),
                                                             "params": {"REGISTER_SONET_EVENT": "N"}})
                        for i, rec in chunk}
            try:
                reply = self._batch(commands, idempotent=False)
            except Bitrix24Error as err:
                message = self._failure(err, f"create {self.record_type}")
                if err.transient:
                    message += "; it may have been created: check Bitrix24 for a copy before retrying"
                outcomes += [WriteOutcome(str(rec.get(self.id_field) or i), "failed", message) for i, rec in chunk]
                continue
            for i, rec in chunk:
                rid = str(rec.get(self.id_field) or i)
                error = reply["result_error"].get(f"c{i}")
                new_id = reply["result"].get(f"c{i}")
                if error or new_id in (None, "", False):
                    text = " ".join(str((error or {}).get(k) or "") for k in ("error", "error_description")).strip()
                    outcomes.append(WriteOutcome(rid, "failed", f"Bitrix24 refused it: {text or 'no id returned'}"))
                else:
                    outcomes.append(WriteOutcome(rid, "ok", new_id=str(new_id)))
        # verify: every created record holds what was sent (a field Bitrix24 ignored would be lost)
        created = {o.new_id: records[n] for n, o in enumerate(outcomes) if o.status == "ok" and o.new_id}
        if created:
            wanted = {nid: {k: v for k, v in self._create_fields(rec).items() if not self._is_multi(k)}
                      | {k: rec[k] for k in rec if self._is_multi(k) and rec[k]}
                      for nid, rec in created.items() if nid}
            raw = self._raw(list(wanted), sorted({f for v in wanted.values() for f in v}))
            for n, o in enumerate(outcomes):
                if o.status == "ok" and o.new_id in wanted:
                    have = raw.get(o.new_id)
                    lost = self._holds(have, wanted[o.new_id]) if have is not None else ["the record"]
                    if lost:
                        outcomes[n] = WriteOutcome(o.record_id, "failed", f"created as {o.new_id} but Bitrix24 did "
                                                   f"not store {', '.join(lost)}", new_id=o.new_id)
        return outcomes

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        unique = list(dict.fromkeys(str(i) for i in ids))
        results: dict[str, WriteOutcome] = {i: WriteOutcome(i, "failed", "not a Bitrix24 record id")
                                            for i in unique if not i.isdigit()}
        valid = [i for i in unique if i.isdigit()]
        for chunk in _chunks(valid, BATCH_SIZE):
            commands = {f"d{i}": (f"crm.{self.entity}.delete", {"id": i}) for i in chunk}
            try:
                reply = self._batch(commands, idempotent=True)
            except Bitrix24Error as err:
                message = self._failure(err, f"delete {self.record_type}")
                results.update({i: WriteOutcome(i, "failed", message) for i in chunk})
                continue
            for i in chunk:
                error = reply["result_error"].get(f"d{i}")
                if error and "not found" not in str(error.get("error_description") or "").lower():
                    results[i] = WriteOutcome(i, "failed", f"Bitrix24 refused it: {error.get('error_description')}")
                else:
                    results[i] = WriteOutcome(i, "ok")  # not found: a retried delete that had landed
        return [results[str(i)] for i in ids]

    # -- validate --against -----------------------------------------------------------------------------

    def find_existing(self, frame: pl.DataFrame, phone_columns: Sequence[str],
                      email_columns: Sequence[str]) -> pl.DataFrame:
        """Rows of ``frame`` whose phones or e-mails Bitrix24 already holds (crm.duplicate.findbycomm, 20 values per
        command, 50 commands per batch): row, existing_id, score (1.0: the portal's own match)."""
        schema = {"row": pl.Int64, "existing_id": pl.String, "score": pl.Float64}
        if self.entity not in ("contact", "company", "lead"):
            return pl.DataFrame(schema=schema)
        wanted: dict[str, dict[str, list[int]]] = {"PHONE": {}, "EMAIL": {}}
        for kind, cols in (("PHONE", phone_columns), ("EMAIL", email_columns)):
            for col in cols:
                for row, cell in enumerate(frame.get_column(col).cast(pl.String).to_list()):
                    for value in split_cell(cell):
                        wanted[kind].setdefault(value, []).append(row)
        commands: list[tuple[str, Mapping[str, Any]]] = []
        for kind, values in wanted.items():
            for chunk in _chunks(list(values), FINDBYCOMM_SIZE):
                commands.append(("crm.duplicate.findbycomm",
                                 {"entity_type": self.entity.upper(), "type": kind, "values": list(chunk)}))
        found: set[str] = set()
        for group in _chunks(commands, BATCH_SIZE):
            try:
                reply = self._batch({f"f{n}": c for n, c in enumerate(group)}, idempotent=True)
            except Bitrix24Error as err:
                raise self._user_error("look for existing records (crm.duplicate.findbycomm)", err) from None
            for result in reply["result"].values():
                if isinstance(result, dict):
                    found.update(str(i) for i in result.get(self.entity.upper()) or [])
        if not found:
            return pl.DataFrame(schema=schema)
        # findbycomm says which records hold some of the values, not which value: read their values to pair them
        raw = self._raw(sorted(found, key=int), ["PHONE", "EMAIL"])
        rows: list[tuple[int, str]] = []
        for rid, rec in sorted(raw.items(), key=lambda kv: int(kv[0])):
            for kind in ("PHONE", "EMAIL"):
                keys = {_comm_key(kind, v) for v in split_cell(_text(rec.get(kind)))}
                for value, value_rows in wanted[kind].items():
                    if _comm_key(kind, value) in keys:
                        rows.extend((r, rid) for r in value_rows)
        if not rows:
            return pl.DataFrame(schema=schema)
        return pl.DataFrame({"row": [r for r, _ in rows], "existing_id": [i for _, i in rows],
                             "score": [1.0] * len(rows)}, schema=schema).unique(["row", "existing_id"],
                                                                                maintain_order=True)

    def close(self) -> None:
        self._session.close()


def _comm_key(kind: str, value: str) -> str:
    if kind == "EMAIL":
        return value.strip().lower()
    digits = re.sub(r"\D", "", re.split(r"(?i)\s*(?:доб|ext|x|#)\.?\s*\d+\s*$", value)[0])
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits
