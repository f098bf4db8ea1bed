"""HubSpot connector: read and write CRM v3 objects (contacts, companies, deals, tickets, custom) via hubspot-api-client.

Credentials: ``HUBSPOT_ACCESS_TOKEN`` (a private app's access token) and ``HUBSPOT_BASE_URL`` (default
``https://api.hubapi.com``; point it at ``crmclean.testing.hubspot_emulator`` for tests), from the environment or
from ``--credentials-file`` (YAML, JSON or ``KEY=value`` lines with the same keys). The token never appears in a
message, log line or repr.

Reading: ``read_pages`` pages ``GET /crm/v3/objects/{type}`` 100 records at a time (HubSpot's maximum) following
``paging.next.after``; archived records are left out. Pages always carry ``hs_object_id`` (the id) and the
last-modified property (``lastmodifieddate`` for contacts, ``hs_lastmodifieddate`` otherwise), which is the
version stamp ``version_of`` returns (journaled). HubSpot moves it on internal updates too (workflows, calculated
properties, associations), so ``version_stamp = "values"``: apply decides conflicts by the values of the fields a
write touches and reads, never by that date alone. When the property list is too long for a URL, ids are paged and the values
are read with ``batch/read``. Empty strings and nulls both become None: HubSpot does not distinguish them.

``where`` filters go to the search API. The filter syntax (HubSpot's own model: OR of AND-groups)::

    lifecyclestage = lead AND email HAS_PROPERTY
    country IN (Russia, 'United States') OR createdate >= 2024-01-01
    amount BETWEEN 100 AND 500 AND dealstage != closedlost

* conditions: ``prop OP value`` with OP one of ``= != < <= > >=`` (or ``EQ NEQ LT LTE GT GTE``),
  ``CONTAINS_TOKEN`` / ``NOT_CONTAINS_TOKEN`` (``*`` wildcards), ``prop IN (a, b)``, ``prop NOT IN (a, b)``,
  ``prop BETWEEN a AND b``, ``prop HAS_PROPERTY``, ``prop NOT_HAS_PROPERTY``;
* ``AND`` binds tighter than ``OR``; no parentheses for grouping; keywords are case-insensitive;
* values are bare words or quoted with ``'`` or ``"`` (quote values with spaces or that read as keywords);
  dates (``2024-01-31`` or ISO datetimes) on date properties are sent as epoch milliseconds;
* at most 5 OR-groups, 9 conditions per group and 25 in all (HubSpot's limits, one condition per group is kept
  for paging).

HubSpot's search returns at most 10,000 results per query, so the connector pages by key instead of by offset:
every request asks for ``hs_object_id > last id seen``, sorted by ``hs_object_id``, which has no cap. Search
results lag writes by a few seconds (HubSpot indexes asynchronously).

Writing: ``update`` (batch update), ``create`` (batch create), ``delete`` (batch archive) in chunks of 100, with
``options.concurrency`` requests in flight. A 207 multi-status answer is turned into one outcome per record; a
400/409 for a whole batch (HubSpot rejects a batch when one value is invalid) is bisected until the bad records are
isolated, so the others still get written. ``merge`` merges one record at a time into the master (HubSpot's merge
API takes a pair), following the surviving id HubSpot returns, then sets the golden values on it. HubSpot cannot
un-merge: a merged-away record can be re-created (``create``) but not restored, and its history stays on the
primary record. A create answered 502/504 or timed out is not resent: ``find_created`` looks for the copy that may
have landed and reports it ``ok`` with its id when exactly one is found. ``merge_preview`` tells ``plan`` which
associations each merge moves to the survivor (v4 associations batch read, 1,000 ids a request).

Limits: a client-side rolling budget of requests per 10 seconds (HubSpot's ``TEN_SECONDLY_ROLLING`` policy; 100 by
default, lowered to ``X-HubSpot-RateLimit-Max`` when the server says less), 429 answers wait ``Retry-After``,
5xx answers and timeouts are retried with jittered backoff (``crmclean.connectors.http``). ``request_count``
counts HTTP requests. A daily-limit 429 is final. Search requests are also paced to 5 a second (HubSpot's CRM
search limit, whose answers carry no rate-limit headers: https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm).

Options read here: ``credentials_file``, ``where``, ``fields``, ``concurrency``, and in ``extra``:
``rate_limit`` (requests per 10 s), ``timeout`` (seconds per request), ``max_attempts`` — or the same from the
environment as ``HUBSPOT_RATE_LIMIT``, ``HUBSPOT_TIMEOUT``, ``HUBSPOT_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import hubspot
import polars as pl
import urllib3
from hubspot.crm.contacts import PublicMergeInput
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)
from hubspot.crm.objects import Configuration as ObjectsConfiguration

from crmclean.connectors import ConnectorOptions
from crmclean.connectors.base import (
    CREATE_CLOCK_SKEW,
    FieldInfo,
    FieldUpdate,
    MergeRequest,
    Record,
    Value,
    WriteOutcome,
    landed_create,
    values_hash,
)
from crmclean.connectors.http import (
    RequestBudget,
    Retry,
    TransientConnectorError,
    call_with_retry,
    parse_retry_after,
    read_credentials_file,
)
from crmclean.errors import ConnectorError, UsageError

log = logging.getLogger(__name__)

T = TypeVar("T")
JSON = dict[str, Any]

ENV_TOKEN = "HUBSPOT_ACCESS_TOKEN"
ENV_BASE_URL = "HUBSPOT_BASE_URL"
DEFAULT_BASE_URL = "https://api.hubapi.com"

PAGE_SIZE = 100  # GET /crm/v3/objects: HubSpot answers 400 above 100
BATCH_SIZE = 100  # batch read/update/create/archive inputs
SEARCH_PAGE_SIZE = 200  # search: HubSpot's maximum limit
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25
DEFAULT_RATE_LIMIT = 100  # private apps on Free/Starter: 100 requests per 10 s
RATE_INTERVAL = 10.0
SEARCH_RATE_LIMIT = 5  # CRM search: 5 requests per second per account, without rate-limit headers to follow
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 6
# v4 associations batch read: at most 1,000 ids per request ("Bug Fix: Batch Read Limit for HubSpot Associations
# API", https://developers.hubspot.com/changelog/bug-fix-batch-read-limit-for-hubspot-associations-api)
ASSOCIATION_BATCH_SIZE = 1000
# a merge moves these associations of the merged-away records to the survivor ("Merge records",
# https://knowledge.hubspot.com/records/merge-records); merge_preview counts them per associated object type
MERGE_ASSOCIATIONS = {"contacts": ("companies", "deals", "tickets"), "companies": ("contacts", "deals", "tickets")}
FIND_FILTERS = 4  # equality filters a search for a landed create narrows by (the rest are compared here)
MAX_RETRY_AFTER = 120.0  # a longer Retry-After is not a ten-secondly limit: stop instead of hanging
# Property names go into the GET query string; past this length switch to POST batch/read so the request line
# stays well below the 8 KB that proxies commonly accept.
MAX_PROPERTY_PARAM_CHARS = 4000

_NATIVE = ("contacts", "companies", "deals", "tickets")  # hubspot-api-client has crm.<name> APIs for these
_ALIASES = {"contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies",
            "deal": "deals", "0-3": "deals", "ticket": "tickets", "0-5": "tickets"}
_TYPE_MAP = {"string": "string", "number": "number", "date": "date", "datetime": "datetime",
             "enumeration": "picklist", "bool": "boolean", "phone_number": "phone"}
_TRANSIENT_STATUSES = (0, 500, 502, 503, 504)

# Each hubspot-api-client package has its own ApiException class; catch them all.
_API_EXCEPTIONS: tuple[type[Exception], ...] = tuple(
    importlib.import_module(f"hubspot.crm.{package}.exceptions").ApiException
    for package in ("objects", "properties", "associations.v4", *_NATIVE)
)


def normalize_object_type(name: str) -> str:
    """``Contact`` / ``contacts`` / ``0-1`` -> ``contacts``; custom object names pass unchanged."""
    lowered = name.strip().lower()
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    return lowered if lowered in _NATIVE else name.strip()


# ----------------------------------------------------------------------------------------------------
# credentials


def load_credentials(options: ConnectorOptions) -> tuple[str, str]:
    """(access token, base URL) from ``options.credentials_file`` or the environment."""
    values: dict[str, str] = {}
    if options.credentials_file:
        values = _read_credentials_file(Path(options.credentials_file))
    token = (values.get(ENV_TOKEN) or os.environ.get(ENV_TOKEN) or "").strip()
    if not token:
        where = f" or add it to {options.credentials_file}" if options.credentials_file else ""
        raise ConnectorError(f"no HubSpot access token: set {ENV_TOKEN} to a private app's access token{where}")
    base_url = (values.get(ENV_BASE_URL) or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", base_url):
        raise ConnectorError(f"{ENV_BASE_URL} must be an http(s) URL like {DEFAULT_BASE_URL}, got {base_url!r}")
    return token, base_url


def _read_credentials_file(path: Path) -> dict[str, str]:
    """HUBSPOT_* keys of a credentials file (see :func:`crmclean.connectors.http.read_credentials_file`)."""
    raw = read_credentials_file(path, "hubspot", expected="keys like HUBSPOT_ACCESS_TOKEN")
    aliases = {"access_token": ENV_TOKEN, "token": ENV_TOKEN, "base_url": ENV_BASE_URL}
    values: dict[str, str] = {}
    for key, value in raw.items():
        name = key.strip()
        values[aliases.get(name.lower(), name.upper())] = str(value)
    return values


# ----------------------------------------------------------------------------------------------------
# rate budget and HTTP errors


class HubSpotHTTPError(Exception):
    """A HubSpot answer outside 2xx (status 0: no answer at all), with HubSpot's message."""

    def __init__(self, status: int, message: str, *, category: str | None = None, policy: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.policy = policy
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in _TRANSIENT_STATUSES or (self.status == 429 and self.policy != "DAILY")

    def describe(self) -> str:
        if self.status == 0:
            return self.message
        category = f" {self.category}" if self.category else ""
        return f"{self.status}{category}: {self.message}"


@dataclass
class _Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# ----------------------------------------------------------------------------------------------------
# filter syntax


_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op><=|>=|!=|<>|==|=|<|>)|(?P<punct>[(),])"""
    r"""|(?P<word>[^\s=<>!(),'"]+))"""
)
_BINARY_OPS = {"=": "EQ", "==": "EQ", "EQ": "EQ", "!=": "NEQ", "<>": "NEQ", "NEQ": "NEQ", "<": "LT", "LT": "LT",
               "<=": "LTE", "LTE": "LTE", ">": "GT", "GT": "GT", ">=": "GTE", "GTE": "GTE",
               "CONTAINS_TOKEN": "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN": "NOT_CONTAINS_TOKEN"}
_UNARY_OPS = {"HAS_PROPERTY": "HAS_PROPERTY", "NOT_HAS_PROPERTY": "NOT_HAS_PROPERTY"}


@dataclass
class _Token:
    kind: str  # str | op | punct | word
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise UsageError(f"--where: cannot read {text[pos:pos + 20]!r} at character {pos + 1}")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(_Token(kind, value, match.start(kind) + 1))
        pos = match.end()
    return tokens


def parse_where(text: str, properties: Mapping[str, Mapping[str, Any]] | None = None) -> list[JSON]:
    """Turn the ``where`` syntax (see the module docstring) into HubSpot ``filterGroups``.

    ``properties`` (name -> HubSpot property definition) lets unknown names fail early and date values be
    converted to epoch milliseconds.
    """
    tokens = _tokenize(text)
    if not tokens:
        raise UsageError("--where is empty; give a condition like: lifecyclestage = lead")
    index = 0

    def peek() -> _Token | None:
        return tokens[index] if index < len(tokens) else None

    def take(what: str) -> _Token:
        nonlocal index
        token = peek()
        if token is None:
            raise UsageError(f"--where ends where {what} was expected: {text!r}")
        index += 1
        return token

    def keyword(token: _Token | None, *words: str) -> bool:
        return token is not None and token.kind == "word" and token.text.upper() in words

    def value(token: _Token, prop: str) -> str:
        if token.kind not in ("word", "str"):
            raise UsageError(f"--where: expected a value after {prop!r} at character {token.pos}, got {token.text!r}")
        return _filter_value(token.text, (properties or {}).get(prop))

    groups: list[JSON] = []
    filters: list[JSON] = []
    while True:
        prop_token = take("a property name")
        if prop_token.kind != "word" or prop_token.text.upper() in ("AND", "OR"):
            raise UsageError(f"--where: expected a property name at character {prop_token.pos}, "
                             f"got {prop_token.text!r}")
        prop = prop_token.text
        if properties is not None and prop not in properties:
            raise UsageError(f"--where: HubSpot has no property {prop!r} on this object",
                             hint=_suggest(prop, properties))
        op_token = take(f"an operator after {prop!r}")
        op_word = op_token.text.upper()
        if op_token.kind in ("op", "word") and op_word in _BINARY_OPS:
            filters.append({"propertyName": prop, "operator": _BINARY_OPS[op_word],
                            "value": value(take(f"a value after {op_token.text}"), prop)})
        elif op_token.kind == "word" and op_word in _UNARY_OPS:
            filters.append({"propertyName": prop, "operator": _UNARY_OPS[op_word]})
        elif op_token.kind == "word" and op_word in ("IN", "NOT", "NOT_IN"):
            operator = "IN"
            if op_word == "NOT":
                if not keyword(take("IN after NOT"), "IN"):
                    raise UsageError(f"--where: expected IN after NOT at character {op_token.pos}")
                operator = "NOT_IN"
            elif op_word == "NOT_IN":
                operator = "NOT_IN"
            opening = take("'('")
            if opening.text != "(":
                raise UsageError(f"--where: expected '(' after {operator} at character {opening.pos}")
            items: list[str] = []
            while True:
                items.append(value(take("a value"), prop))
                sep = take("',' or ')'")
                if sep.text == ")":
                    break
                if sep.text != ",":
                    raise UsageError(f"--where: expected ',' or ')' at character {sep.pos}, got {sep.text!r}")
            filters.append({"propertyName": prop, "operator": operator,
                            "values": _in_values(items, (properties or {}).get(prop))})
        elif op_token.kind == "word" and op_word == "BETWEEN":
            low = value(take("a value after BETWEEN"), prop)
            if not keyword(take("AND"), "AND"):
                raise UsageError(f"--where: expected AND in BETWEEN at character {op_token.pos}")
            high = value(take("a value after AND"), prop)
            filters.append({"propertyName": prop, "operator": "BETWEEN", "value": low, "highValue": high})
        else:
            raise UsageError(f"--where: unknown operator {op_token.text!r} at character {op_token.pos}",
                             hint="use = != < <= > >= IN, NOT IN, BETWEEN, CONTAINS_TOKEN, HAS_PROPERTY, "
                                  "NOT_HAS_PROPERTY")
        nxt = peek()
        if nxt is None:
            groups.append({"filters": filters})
            break
        if keyword(nxt, "AND"):
            index += 1
            continue
        if keyword(nxt, "OR"):
            index += 1
            groups.append({"filters": filters})
            filters = []
            continue
        raise UsageError(f"--where: expected AND or OR at character {nxt.pos}, got {nxt.text!r}")
    if len(groups) > MAX_GROUPS:
        raise UsageError(f"--where has {len(groups)} OR-groups; HubSpot's search allows {MAX_GROUPS}")
    for group in groups:
        if len(group["filters"]) > MAX_FILTERS_PER_GROUP - 1:
            raise UsageError(f"--where has {len(group['filters'])} conditions in one group; at most "
                             f"{MAX_FILTERS_PER_GROUP - 1} (HubSpot allows {MAX_FILTERS_PER_GROUP}, one is kept for "
                             "paging)")
    total = sum(len(g["filters"]) for g in groups) + len(groups)
    if total > MAX_FILTERS:
        raise UsageError(f"--where has too many conditions for HubSpot's search (at most {MAX_FILTERS - len(groups)} "
                         f"with {len(groups)} OR-groups)")
    return groups


def _filter_value(raw: str, definition: Mapping[str, Any] | None) -> str:
    """Date values on date properties become epoch ms, which HubSpot's search compares reliably."""
    if definition is not None and definition.get("type") in ("date", "datetime") and not raw.isdigit():
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--where: {raw!r} is not a date (use 2024-01-31 or 2024-01-31T12:00:00Z)") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return str(int(parsed.timestamp() * 1000))
    return raw


def _in_values(items: list[str], definition: Mapping[str, Any] | None) -> list[str]:
    """IN / NOT_IN values as HubSpot's search matches them.

    String properties: HubSpot compares the lowercased stored value with the values as given, so they are
    sent lowercase. Enumerations: options are matched exactly, so a value is spelled as the option's internal
    value (matched case-insensitively on value or label).
    """
    kind = (definition or {}).get("type")
    if kind == "string":
        return [v.lower() for v in items]
    if kind == "enumeration":
        options: dict[str, str] = {}
        for option in (definition or {}).get("options") or []:
            value = str(option.get("value", ""))
            options.setdefault(str(option.get("label", "")).lower(), value)
        for option in (definition or {}).get("options") or []:
            value = str(option.get("value", ""))
            options[value.lower()] = value  # an internal value wins over a label
        return [options.get(v.lower(), v) for v in items]
    return items


def _suggest(name: str, known: Mapping[str, Any]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3)
    return f"did you mean {', '.join(close)}?" if close else None


# ----------------------------------------------------------------------------------------------------
# the connector


class HubSpotConnector:
    """One HubSpot object type (``hubspot:contacts``) as a crmclean connector."""

    kind = "hubspot"
    id_field = "hs_object_id"
    max_batch = BATCH_SIZE
    capabilities = frozenset({"update", "merge", "create", "delete"})
    # lastmodifieddate also moves on HubSpot's own updates (workflows, calculated properties, associations): apply
    # compares the values of the fields a write touches and reads instead (crmclean.writeback.engine)
    version_stamp = "values"

    def __init__(
        self,
        obj: str,
        options: ConnectorOptions | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.options = options or ConnectorOptions()
        self.object_type = normalize_object_type(obj)
        if not self.object_type:
            raise UsageError("name the HubSpot object, e.g. hubspot:contacts")
        self.spec = f"hubspot:{obj}"
        self._token, self.base_url = load_credentials(self.options)
        # HUBSPOT_RATE_LIMIT (e.g. 190 on Professional/Enterprise), HUBSPOT_TIMEOUT, HUBSPOT_MAX_ATTEMPTS
        extra = {**{k: os.environ[f"HUBSPOT_{k.upper()}"] for k in ("rate_limit", "timeout", "max_attempts")
                    if os.environ.get(f"HUBSPOT_{k.upper()}")}, **(self.options.extra or {})}
        self.timeout = _number(extra, "timeout", DEFAULT_TIMEOUT, float)
        self.max_attempts = _number(extra, "max_attempts", DEFAULT_MAX_ATTEMPTS, int)
        self.concurrency = max(1, int(self.options.concurrency or 1))
        self.progress: Callable[[int, int | None], None] | None = None
        self.request_count = 0
        self.retries = 0
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._budget = RequestBudget(_number(extra, "rate_limit", DEFAULT_RATE_LIMIT, int), clock=clock, sleep=sleep)
        # the search endpoints have their own per-second limit on top (shared by every thread of this connector)
        self._search_budget = RequestBudget(SEARCH_RATE_LIMIT, 1.0, clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._definitions: dict[str, JSON] | None = None
        # urllib3 must not retry on its own: our retry counts attempts, honours Retry-After and the budget.
        self._client = hubspot.HubSpot(
            access_token=self._token, host=self.base_url, retry=urllib3.Retry(0, redirect=False),
            connection_pool_maxsize=max(4, self.concurrency),
        )
        # One Configuration for all request models: each model otherwise builds its own (slow: logger setup).
        self._model_config = ObjectsConfiguration()
        self._bind_apis()
        stamp = "lastmodifieddate" if self.object_type == "contacts" else "hs_lastmodifieddate"
        self._stamp_fields = (stamp, "hs_lastmodifieddate" if stamp == "lastmodifieddate" else "lastmodifieddate")

    def __repr__(self) -> str:  # never the token
        return f"HubSpotConnector(spec={self.spec!r}, base_url={self.base_url!r})"

    def _bind_apis(self) -> None:
        crm = self._client.crm
        self._apis: list[Any] = []
        if self.object_type in _NATIVE:
            discovery = getattr(crm, self.object_type)
            basic, batch, search = discovery.basic_api, discovery.batch_api, discovery.search_api
            self._get_page: Callable[..., Any] = basic.get_page
            self._batch_read: Callable[..., Any] = batch.read
            self._batch_update: Callable[..., Any] = batch.update
            self._batch_create: Callable[..., Any] = batch.create
            self._batch_archive: Callable[..., Any] = batch.archive
            self._search: Callable[..., Any] = search.do_search
            self._merge_call: Callable[..., Any] = basic.merge
        else:
            # Custom objects: the generic crm.objects APIs take the object type as first argument; version 12 of
            # the client has no generic merge method, so merge goes through its ApiClient on the documented path.
            objects = crm.objects
            basic, batch, search = objects.basic_api, objects.batch_api, objects.search_api
            self._get_page = partial(basic.get_page, self.object_type)
            self._batch_read = partial(batch.read, self.object_type)
            self._batch_update = partial(batch.update, self.object_type)
            self._batch_create = partial(batch.create, self.object_type)
            self._batch_archive = partial(batch.archive, self.object_type)
            self._search = partial(search.do_search, self.object_type)
            self._merge_call = partial(self._generic_merge, basic.api_client)
        self._properties_api = crm.properties.core_api
        self._association_batch = crm.associations.v4.batch_api
        self._apis = [basic, batch, search, self._properties_api, self._association_batch]

    def _generic_merge(self, api_client: Any, body: Any, **kwargs: Any) -> Any:
        return api_client.call_api(
            "/crm/v3/objects/{objectType}/merge", "POST", {"objectType": self.object_type}, [],
            {"Accept": "application/json", "Content-Type": "application/json"}, body=body, post_params=[],
            files={}, response_types_map={200: "SimplePublicObject"}, auth_settings=["oauth2"],
            _return_http_data_only=True, collection_formats={}, **kwargs,
        )

    # -- HTTP -------------------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _send(self, call: Callable[..., Any], *args: Any, landed: Callable[[], _Reply | None] | None = None,
              resend_after_gateway_error: bool = True, searching: bool = False, **kwargs: Any) -> _Reply:
        """One API call through the budget and the retry policy; non-2xx raises HubSpotHTTPError.

        ``landed``, for writes that are not idempotent (merge): asked before every retry whether the
        failed attempt was applied all the same (a 504 or timeout after the write); its reply ends the call.
        ``searching``: a CRM search request, paced to HubSpot's 5 search requests per second as well.
        ``resend_after_gateway_error=False`` (creates): a 502/504 or a timeout, which may come after the write
        landed, is final rather than resent, so a record is never created twice.
        """
        kwargs["_preload_content"] = False  # raw JSON: the client's models cost more than the HTTP itself
        kwargs["_request_timeout"] = self.timeout
        tries = 0

        def attempt() -> _Reply:
            nonlocal tries
            tries += 1
            if self._budget.daily_remaining == 0:
                # HubSpot said no daily requests are left: do not spend the day's last retries finding out again
                raise ConnectorError("HubSpot's daily API limit is used up (X-HubSpot-RateLimit-Daily-Remaining: 0); "
                                     "try again tomorrow; `apply --resume RUN_ID` continues a run")
            if tries > 1 and landed is not None:
                found = landed()
                if found is not None:
                    return found
            if searching:
                self._search_budget.acquire()
            self._budget.acquire()
            with self._lock:
                self.request_count += 1
            try:
                raw = call(*args, **kwargs)
            except _API_EXCEPTIONS as exc:
                raise self._http_error(exc) from None
            except urllib3.exceptions.HTTPError as exc:
                reason = "timed out" if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc) \
                    else f"connection failed ({type(exc).__name__})"
                raise HubSpotHTTPError(0, f"no answer from HubSpot at {self.base_url}: {reason}") from None
            try:
                data = raw.data
            finally:
                raw.release_conn()
            self._budget.observe(raw.headers)
            try:
                body = json.loads(data) if data else None
            except ValueError:
                raise HubSpotHTTPError(raw.status, "HubSpot's answer was not JSON") from None
            return _Reply(raw.status, body, raw.headers)

        def classify(exc: BaseException) -> Retry | None:
            if not resend_after_gateway_error and isinstance(exc, HubSpotHTTPError) and exc.status in (0, 502, 504):
                return None
            return self._classify(exc)

        return call_with_retry(attempt, classify=classify, max_attempts=self.max_attempts, sleep=self._sleep,
                               rng=self._rng, on_retry=self._on_retry)

    def _http_error(self, exc: Any) -> HubSpotHTTPError:
        status = int(getattr(exc, "status", 0) or 0)
        raw_body = getattr(exc, "body", None)
        headers = getattr(exc, "headers", None) or {}
        text = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else str(raw_body or "")
        message, category, policy = (getattr(exc, "reason", None) or f"HTTP {status}"), None, None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = str(body.get("message") or message)
            category = body.get("category") or body.get("errorType")
            policy = body.get("policyName")
        return HubSpotHTTPError(status, self._scrub(message), category=category, policy=policy,
                                retry_after=parse_retry_after(headers.get("Retry-After")))

    def _classify(self, exc: BaseException) -> Retry | None:
        if not isinstance(exc, HubSpotHTTPError) or not exc.transient:
            return None
        if exc.status == 429:
            wait = exc.retry_after
            if wait is not None and wait > MAX_RETRY_AFTER:
                return None
            if wait is not None:
                self._budget.pause(wait)  # every thread holds off, not only the one that was refused
            elif exc.policy == "SECONDLY":
                self._search_budget.pause(1.0)  # the search limit: a second without searches
            return Retry(after=wait, reason="429")
        return Retry(reason=str(exc.status or "timeout"))

    def _on_retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        with self._lock:
            self.retries += 1
        log.info("HubSpot %s; retry %d in %.1f s", exc, attempt, delay)

    def _user_error(self, what: str, err: HubSpotHTTPError) -> ConnectorError:
        """The one-line message a data steward reads when a call failed for good."""
        if err.status == 401:
            return ConnectorError(f"HubSpot rejected the access token while trying to {what} (401): check "
                                  f"{ENV_TOKEN}")
        if err.status == 403:
            return ConnectorError(f"HubSpot refused to {what} (403): the private app lacks a scope for "
                                  f"{self.object_type}; HubSpot said: {err.message}")
        if err.status == 429:
            if err.policy == "DAILY":
                return ConnectorError(f"HubSpot's daily API limit is used up; could not {what}. Try again tomorrow")
            return TransientConnectorError(f"HubSpot kept refusing requests for the rate limit (429) while trying "
                                           f"to {what}; lower --concurrency or the rate_limit option, or try later")
        if err.status == 0:
            return TransientConnectorError(f"could not {what}: {err.message} (after {self.max_attempts} attempts)")
        if err.status >= 500:
            return TransientConnectorError(f"HubSpot failed to {what}: {err.describe()} (after {self.max_attempts} "
                                           "attempts); try again later")
        if "infer object type" in err.message:
            return ConnectorError(f"HubSpot has no object type {self.object_type!r}")
        return ConnectorError(f"HubSpot refused to {what}: {err.describe()}")

    def _read(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> _Reply:
        try:
            return self._send(call, *args, **kwargs)
        except HubSpotHTTPError as err:
            raise self._user_error(what, err) from None

    def _map(self, fn: Callable[[T], Any], items: Sequence[T]) -> list[Any]:
        """Run ``fn`` over items with ``concurrency`` threads (order kept); the budget is shared."""
        if self.concurrency <= 1 or len(items) <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="hubspot") as pool:
            return list(pool.map(fn, items))

    # -- metadata ---------------------------------------------------------------------------------------

    def _props(self) -> dict[str, JSON]:
        if self._definitions is None:
            reply = self._read(f"read the {self.object_type} property list", self._properties_api.get_all,
                               self.object_type, archived=False)
            results = (reply.body or {}).get("results") or []
            self._definitions = {d["name"]: d for d in results if isinstance(d, dict) and d.get("name")}
        return self._definitions

    def _read_only(self, definition: Mapping[str, Any]) -> bool:
        meta = definition.get("modificationMetadata") or {}
        return bool(meta.get("readOnlyValue") or definition.get("calculated"))

    def describe(self) -> list[FieldInfo]:
        infos: list[FieldInfo] = []
        for name, d in self._props().items():
            options = tuple(str(o.get("value")) for o in d.get("options") or [] if not o.get("hidden"))
            infos.append(FieldInfo(
                name=name, label=d.get("label"), type=_TYPE_MAP.get(str(d.get("type")), "string"),
                updateable=not self._read_only(d) and name != self.id_field, required=False, picklist=options,
            ))
        return infos

    def _default_fields(self) -> list[str]:
        return [name for name, d in self._props().items() if not d.get("hidden")]

    def _stamp_field(self) -> str | None:
        props = self._props()
        return next((f for f in self._stamp_fields if f in props), None)

    def _columns(self, fields: Sequence[str] | None) -> list[str]:
        props = self._props()
        chosen = list(fields) if fields else (self.options.fields or self._default_fields())
        unknown = [f for f in chosen if f not in props and f != self.id_field]
        if unknown:
            raise UsageError(f"{self.spec}: HubSpot has no property {unknown[0]!r}", hint=_suggest(unknown[0], props))
        columns = [self.id_field]
        columns += [f for f in dict.fromkeys(chosen) if f != self.id_field]
        stamp = self._stamp_field()
        if stamp and stamp not in columns:
            columns.append(stamp)  # the version stamp travels with every page
        return columns

    # -- reading ----------------------------------------------------------------------------------------

    def _record(self, obj: Mapping[str, Any], columns: Sequence[str]) -> Record:
        props = obj.get("properties") or {}
        record: Record = {}
        for column in columns:
            value = obj.get("id") if column == self.id_field else props.get(column)
            record[column] = None if value is None or value == "" else str(value)
        return record

    def _frame(self, results: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pl.DataFrame:
        data: dict[str, list[str | None]] = {c: [] for c in columns}
        for obj in results:
            props = obj.get("properties") or {}
            for column in columns:
                value = obj.get("id") if column == self.id_field else props.get(column)
                data[column].append(None if value is None or value == "" else str(value))
        return pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        columns = self._columns(fields)
        where = where if where is not None else self.options.where
        if where is not None and where.strip():
            pages = self._search_pages(columns, parse_where(where, self._props()))
        else:
            pages = self._list_pages(columns)
        yielded = False
        done = 0
        for frame, total in pages:
            yielded = True
            done += frame.height
            if self.progress is not None:
                self.progress(done, total)
            yield frame
        if not yielded:
            yield pl.DataFrame(schema=dict.fromkeys(columns, pl.String))

    def _count(self) -> int | None:
        """Total non-archived records (one search request), only asked for when someone shows progress."""
        try:
            reply = self._send(self._search, PublicObjectSearchRequest(limit=1, properties=[self.id_field],
                                                                       local_vars_configuration=self._model_config),
                               searching=True)
        except HubSpotHTTPError:
            return None
        total = (reply.body or {}).get("total")
        return int(total) if isinstance(total, int) else None

    def _list_pages(self, columns: list[str]) -> Iterator[tuple[pl.DataFrame, int | None]]:
        wanted = [c for c in columns if c != self.id_field]
        joined = ",".join(wanted)
        # HubSpot takes a comma-separated list in one parameter: far shorter than repeating properties=.
        wide = len(quote(joined, safe="")) > MAX_PROPERTY_PARAM_CHARS
        listed = [self.id_field] if wide else wanted
        total = self._count() if self.progress is not None else None
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "properties": [",".join(listed)], "archived": False}
            if after is not None:
                kwargs["after"] = after
            reply = self._read(f"read {self.object_type}", self._get_page, **kwargs)
            body = reply.body or {}
            results = body.get("results") or []
            if wide and results:
                found = self._batch_read_ids([str(r["id"]) for r in results], wanted)
                results = [found[str(r["id"])] for r in results if str(r["id"]) in found]
            if results:
                yield self._frame(results, columns), total
            next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not next_after:
                return
            if next_after == after:
                raise ConnectorError(f"HubSpot returned the same page cursor twice while reading {self.object_type}")
            after = str(next_after)

    def _search_pages(self, columns: list[str], groups: list[JSON]) -> Iterator[tuple[pl.DataFrame, int | None]]:
        wanted = [c for c in columns if c != self.id_field]
        last_id: str | None = None
        total: int | None = None
        while True:
            request_groups = []
            for group in groups:
                filters = [Filter(local_vars_configuration=self._model_config, **_filter_kwargs(f))
                           for f in group["filters"]]
                if last_id is not None:
                    # Key-set paging: never an offset, so HubSpot's 10,000-result cap is never reached.
                    filters.append(Filter(property_name=self.id_field, operator="GT", value=last_id,
                                          local_vars_configuration=self._model_config))
                request_groups.append(FilterGroup(filters=filters, local_vars_configuration=self._model_config))
            request = PublicObjectSearchRequest(
                filter_groups=request_groups, properties=wanted, limit=SEARCH_PAGE_SIZE,
                sorts=[{"propertyName": self.id_field, "direction": "ASCENDING"}],
                local_vars_configuration=self._model_config,
            )
            reply = self._read(f"search {self.object_type}", self._search, request, searching=True)
            body = reply.body or {}
            if total is None and isinstance(body.get("total"), int):
                total = int(body["total"])
            results = body.get("results") or []
            if results:
                yield self._frame(results, columns), total
            if len(results) < SEARCH_PAGE_SIZE or not body.get("paging"):
                return
            new_last = str(results[-1]["id"])
            if new_last == last_id:
                raise ConnectorError(f"HubSpot search kept returning the same records for {self.object_type}")
            last_id = new_last

    def _batch_read_ids(self, ids: Sequence[str], properties: Sequence[str]) -> dict[str, JSON]:
        found: dict[str, JSON] = {}

        def read_chunk(chunk: Sequence[str]) -> list[JSON]:
            request = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i, local_vars_configuration=self._model_config) for i in chunk],
                properties=list(properties), properties_with_history=[],
                local_vars_configuration=self._model_config,
            )
            reply = self._read(f"read {self.object_type} by id", self._batch_read, request, archived=False)
            return list((reply.body or {}).get("results") or [])

        for results in self._map(read_chunk, _chunks(list(ids), BATCH_SIZE)):
            for obj in results:
                found[str(obj["id"])] = obj
        return found

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        """Current values of the given records (missing, archived and merged-away ids are left out)."""
        columns = self._columns(fields)
        wanted = [c for c in columns if c != self.id_field]
        unique = [i for i in dict.fromkeys(str(i) for i in ids) if i.isdigit()]
        found = self._batch_read_ids(unique, wanted)
        return {rid: self._record(found[rid], columns) for rid in unique if rid in found}

    def version_of(self, record: Mapping[str, Value]) -> str:
        for name in self._stamp_fields:
            value = record.get(name)
            if value:
                return value
        return values_hash(record)

    # -- writing ----------------------------------------------------------------------------------------

    def _check_values(self, values: Mapping[str, Value]) -> str | None:
        """Why HubSpot would refuse these properties for every record (checked before sending), or None."""
        props = self._props()
        for name in values:
            if name == self.id_field:
                return f"{self.id_field} is the record id and cannot be changed"
            definition = props.get(name)
            if definition is None:
                return f"HubSpot has no property {name!r} on {self.object_type}"
            if self._read_only(definition):
                return f"{name!r} is read-only in HubSpot"
        return None

    def _failure(self, err: HubSpotHTTPError, what: str) -> str:
        if err.status in (401, 403) or (err.status == 429 and err.policy == "DAILY"):
            raise self._user_error(what, err)
        if err.transient:
            return f"HubSpot did not answer after {self.max_attempts} attempts ({err.describe()})"
        return f"HubSpot refused it: {err.describe()}"

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        """Batch updates, one outcome per input (duplicate ids are merged into one write, later values win)."""
        local: dict[str, WriteOutcome] = {}
        merged: dict[str, dict[str, str]] = {}
        for upd in updates:
            rid = str(upd.record_id)
            if rid in local:
                continue
            problem = "not a HubSpot record id" if not rid.isdigit() else self._check_values(upd.values)
            if problem:
                local[rid] = WriteOutcome(rid, "failed", problem)
                merged.pop(rid, None)
                continue
            merged.setdefault(rid, {}).update({k: "" if v is None else str(v) for k, v in upd.values.items()})
        items = [(rid, values) for rid, values in merged.items() if values]
        for rid, values in merged.items():
            if not values:
                local[rid] = WriteOutcome(rid, "skipped", "nothing to change")
        results: dict[str, WriteOutcome] = dict(local)
        for chunk_result in self._map(self._update_chunk, _chunks(items, BATCH_SIZE)):
            results.update(chunk_result)
        return [results[str(u.record_id)] for u in updates]

    def _update_chunk(self, items: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, WriteOutcome]:
        cfg = self._model_config
        request = BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=rid, properties=dict(values), local_vars_configuration=cfg)
                    for rid, values in items],
            local_vars_configuration=cfg,
        )
        try:
            reply = self._send(self._batch_update, request)
        except HubSpotHTTPError as err:
            if err.status in (400, 409) and len(items) > 1:
                # HubSpot refuses the whole batch for one bad value and rarely says which record: halve and retry.
                half = len(items) // 2
                return {**self._update_chunk(items[:half]), **self._update_chunk(items[half:])}
            message = self._failure(err, f"update {self.object_type}")
            return {rid: WriteOutcome(rid, "failed", message) for rid, _ in items}
        return self._batch_outcomes([rid for rid, _ in items], reply.body or {}, "update")

    def _batch_outcomes(self, ids: Sequence[str], body: Mapping[str, Any], verb: str) -> dict[str, WriteOutcome]:
        """One outcome per id from a 200/207 batch answer: results succeeded, errors name their ids."""
        out: dict[str, WriteOutcome] = {}
        for obj in body.get("results") or []:
            rid = str(obj.get("id"))
            out[rid] = WriteOutcome(rid, "ok")
        leftover_messages: list[str] = []
        for error in body.get("errors") or []:
            message = self._scrub(str(error.get("message") or "HubSpot reported an error"))
            if error.get("category") == "OBJECT_NOT_FOUND":
                message = f"record not found in HubSpot (deleted or merged away): {message}"
            error_ids = ((error.get("context") or {}).get("ids")) or []
            for rid in error_ids:
                out[str(rid)] = WriteOutcome(str(rid), "failed", message)
            if not error_ids:
                leftover_messages.append(message)
        fallback = "; ".join(leftover_messages) or f"HubSpot did not confirm the {verb}"
        return {rid: out.get(rid) or WriteOutcome(rid, "failed", fallback) for rid in ids}

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        """Merge each loser into the master, one pair per call; outcomes: master first, then each loser.

        HubSpot may give the surviving record a new id; the next pair then uses it, and the master's outcome
        carries it as ``new_id``. The golden ``values`` are written to the survivor at the end.
        """
        master = str(request.master_id)
        current = master
        losers = [str(x) for x in dict.fromkeys(request.loser_ids) if str(x) != master]
        loser_outcomes: list[WriteOutcome] = []
        for loser in losers:
            body = PublicMergeInput(primary_object_id=current, object_id_to_merge=loser)
            try:
                reply = self._send(self._merge_call, body, landed=partial(self._merge_landed, current, loser))
            except HubSpotHTTPError as err:
                loser_outcomes.append(WriteOutcome(loser, "failed", self._failure(err, f"merge {self.object_type}")))
                continue
            survivor = str((reply.body or {}).get("id") or current)
            current = survivor
            loser_outcomes.append(WriteOutcome(loser, "ok"))
        new_id = current if current != master else None
        if not any(o.status == "ok" for o in loser_outcomes) and losers:
            master_outcome = WriteOutcome(master, "failed", "no record could be merged into it", new_id=new_id)
        elif request.values:
            written = self.update([FieldUpdate(current, dict(request.values))])[0]
            if written.status == "failed":
                master_outcome = WriteOutcome(master, "failed", f"merged, but setting the golden values failed: "
                                                                f"{written.error}", new_id=new_id)
            else:
                master_outcome = WriteOutcome(master, "ok", new_id=new_id)
        else:
            master_outcome = WriteOutcome(master, "ok", new_id=new_id)
        return [master_outcome, *loser_outcomes]

    def merge_preview(self, merges: Sequence[MergeRequest]) -> dict[str, dict[str, int]]:
        """For each merge (by master id), how many records of each associated object type the merge moves from the
        merged-away records to the survivor: those associated with a merged-away record and not already with the
        master (a merge does not duplicate an association). Contacts count companies, deals and tickets; companies
        count contacts, deals and tickets; other object types are not previewed. Read with the v4 associations batch
        read (see :meth:`_associations`); an object type the private app has no scope for is left out."""
        kinds = MERGE_ASSOCIATIONS.get(self.object_type, ())
        if not kinds or not merges:
            return {}
        ids = list(dict.fromkeys(str(i) for m in merges for i in (m.master_id, *m.loser_ids) if str(i).isdigit()))
        out: dict[str, dict[str, int]] = {str(m.master_id): {} for m in merges}
        for kind in kinds:
            try:
                linked = self._associations(kind, ids)
            except HubSpotHTTPError as err:
                if err.status != 403:
                    raise self._user_error(f"read the {self.object_type} to {kind} associations", err) from None
                log.info("merge preview leaves out %s: %s", kind, err.describe())
                continue
            for m in merges:
                master = str(m.master_id)
                moved: set[str] = set()
                for loser in m.loser_ids:
                    if str(loser) != master:
                        moved |= linked.get(str(loser), set())
                out[master][kind] = len(moved - linked.get(master, set()))
        return out

    def _associations(self, to_type: str, ids: Sequence[str]) -> dict[str, set[str]]:
        """The ``to_type`` records associated with each of ``ids``: ``POST /crm/v4/associations/{fromObjectType}/
        {toObjectType}/batch/read`` with up to ``ASSOCIATION_BATCH_SIZE`` ids a request, each id's further pages asked
        for with its ``paging.next.after`` (https://developers.hubspot.com/docs/api-reference/legacy/crm/associations/
        associate-records/batch/get-associations). An id HubSpot reports without associations (a per-id error in a
        207 answer) has none; any other per-id error raises: a count that cannot be told is not shown as 0."""
        found: dict[str, set[str]] = {}

        def read_chunk(chunk: Sequence[str]) -> None:
            pending: list[JSON] = [{"id": i} for i in chunk]
            seen: set[tuple[str, str]] = set()
            while pending:
                reply = self._send(self._association_batch.get_page, self.object_type, to_type, {"inputs": pending})
                body = reply.body or {}
                pending = []
                for result in body.get("results") or []:
                    source = str((result.get("from") or {}).get("id"))
                    linked = found.setdefault(source, set())
                    linked.update(str(t.get("toObjectId")) for t in result.get("to") or [])
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        if (source, str(after)) in seen:
                            raise ConnectorError(f"HubSpot returned the same associations page twice for {source}")
                        seen.add((source, str(after)))
                        pending.append({"id": source, "after": str(after)})
                for error in body.get("errors") or []:
                    sub = str(error.get("subCategory") or "")
                    if error.get("category") != "OBJECT_NOT_FOUND" and not sub.endswith("NO_ASSOCIATIONS_FOUND"):
                        raise ConnectorError(f"HubSpot could not read the {self.object_type} to {to_type} "
                                             f"associations: {self._scrub(str(error.get('message') or error))}")

        for chunk in _chunks(list(ids), ASSOCIATION_BATCH_SIZE):
            read_chunk(chunk)
        return found

    def _merge_landed(self, primary: str, loser: str) -> _Reply | None:
        """The survivor, if an earlier attempt to merge ``loser`` into ``primary`` was applied; else None.

        HubSpot answers a read of a merged-away id with the record it was merged into (under that
        record's id, which may be new), whose ``hs_merged_object_ids`` lists the merged ids.
        """
        request = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i, local_vars_configuration=self._model_config) for i in (loser, primary)],
            properties=["hs_merged_object_ids"], properties_with_history=[],
            local_vars_configuration=self._model_config,
        )
        try:
            reply = self._send(self._batch_read, request, archived=False)
        except HubSpotHTTPError:
            return None  # cannot tell: let the retry find out
        for obj in (reply.body or {}).get("results") or []:
            merged = str((obj.get("properties") or {}).get("hs_merged_object_ids") or "").split(";")
            if str(obj.get("id")) != loser and loser in merged:
                log.info("HubSpot merge of %s into %s had landed before its error; not sent again", loser, primary)
                return _Reply(200, {"id": str(obj["id"])}, {})
        return None

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        """Batch-create records (e.g. re-create merged-away ones); ``new_id`` is the id HubSpot assigned.

        Read-only properties (ids, dates HubSpot sets, merge history) and ``__`` columns are dropped.
        """
        props = self._props()
        outcomes: list[WriteOutcome | None] = [None] * len(records)
        items: list[tuple[int, str, dict[str, str]]] = []
        for index, record in enumerate(records):
            rid = str(record.get(self.id_field) or record.get("id") or index)
            values: dict[str, str] = {}
            problem = None
            for name, value in record.items():
                if name in (self.id_field, "id") or name.startswith("__") or value is None or value == "":
                    continue
                definition = props.get(name)
                if definition is None:
                    problem = f"HubSpot has no property {name!r} on {self.object_type}"
                    break
                if not self._read_only(definition):
                    values[name] = str(value)
            if problem:
                outcomes[index] = WriteOutcome(rid, "failed", problem)
            else:
                items.append((index, rid, values))
        for chunk_result in self._map(self._create_chunk, _chunks(items, BATCH_SIZE)):
            for index, outcome in chunk_result.items():
                outcomes[index] = outcome
        return [o if o is not None else WriteOutcome(str(i), "failed", "not written") for i, o in enumerate(outcomes)]

    def _create_chunk(self, items: Sequence[tuple[int, str, dict[str, str]]]) -> dict[int, WriteOutcome]:
        cfg = self._model_config
        request = BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[SimplePublicObjectBatchInputForCreate(properties=values, associations=[],
                                                          object_write_trace_id=str(index),
                                                          local_vars_configuration=cfg)
                    for index, _, values in items],
            local_vars_configuration=cfg,
        )
        sent_at = datetime.now(UTC).replace(tzinfo=None)
        try:
            reply = self._send(self._batch_create, request, resend_after_gateway_error=False)
        except HubSpotHTTPError as err:
            if err.status in (400, 409) and len(items) > 1:
                half = len(items) // 2
                return {**self._create_chunk(items[:half]), **self._create_chunk(items[half:])}
            message = self._failure(err, f"create {self.object_type}")
            if err.status in (0, 502, 504):  # the gateway gave up: the records may have been created all the same
                return {index: self._landed_create(rid, values, sent_at, message) for index, rid, values in items}
            return {index: WriteOutcome(rid, "failed", message) for index, rid, _ in items}
        body = reply.body or {}
        results = list(body.get("results") or [])
        by_trace = {str(r.get("objectWriteTraceId")): r for r in results if r.get("objectWriteTraceId") is not None}
        out: dict[int, WriteOutcome] = {}
        for position, (index, rid, _) in enumerate(items):
            created = by_trace.get(str(index))
            if created is None and not by_trace and position < len(results) and not body.get("errors"):
                created = results[position]  # no trace ids echoed: HubSpot keeps input order
            if created is not None:
                out[index] = WriteOutcome(rid, "ok", new_id=str(created.get("id")))
            else:
                messages = "; ".join(str(e.get("message")) for e in body.get("errors") or [])
                out[index] = WriteOutcome(rid, "failed", self._scrub(messages) or "HubSpot did not confirm the create")
        return out

    def _landed_create(self, rid: str, values: Mapping[str, str], sent_at: datetime, message: str) -> WriteOutcome:
        """After a create answered 502/504 or timed out: ``ok`` with the copy's id if exactly one landed, else failed
        (never sent again here; ``find_created`` looks again when the run is resumed)."""
        try:
            copies = self.find_created(values, sent_at)
        except (ConnectorError, HubSpotHTTPError):
            return WriteOutcome(rid, "failed", f"{message}; it may have been created: resume the run to look again")
        new_id, note = landed_create(copies, message)
        if new_id is not None:
            log.info("HubSpot create of %s had landed before its error (%s); not sent again", rid, new_id)
            return WriteOutcome(rid, "ok", note, new_id=new_id)
        return WriteOutcome(rid, "failed", note or f"{message}; not found created (HubSpot's search lags a few "
                                                   "seconds: resume the run to look again)")

    def find_created(self, values: Mapping[str, Value], since: datetime) -> list[str]:
        """Ids of records holding ``values`` created at or after ``since`` (naive UTC): a create whose reply was
        lost is found instead of made twice (``crmclean.writeback.engine``; protocol in ``connectors.base``).

        Contacts with an e-mail are read by it (``batch/read`` with ``idProperty=email``: no index lag); other
        records are searched by their create date and up to ``FIND_FILTERS`` of the values (HubSpot's search index
        lags writes by a few seconds), and every value is compared here. The window opens ``CREATE_CLOCK_SKEW``
        seconds early: HubSpot's clock is not ours.
        """
        props = self._props()
        wanted = {k: str(v) for k, v in values.items() if v not in (None, "") and k in props and k != self.id_field}
        created = next((c for c in ("createdate", "hs_createdate") if c in props), None)
        start = since.replace(tzinfo=UTC) - CREATE_CLOCK_SKEW
        columns = [self.id_field, *wanted, *([created] if created else [])]
        found: list[JSON] = []
        if self.object_type == "contacts" and wanted.get("email"):
            request = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=wanted["email"], local_vars_configuration=self._model_config)],
                id_property="email", properties=columns[1:], properties_with_history=[],
                local_vars_configuration=self._model_config)
            reply = self._read(f"look for a created {self.object_type} record", self._batch_read, request,
                               archived=False)
            found = list((reply.body or {}).get("results") or [])
        elif created is not None:
            filters = [Filter(property_name=created, operator="GTE", value=str(int(start.timestamp() * 1000)),
                              local_vars_configuration=self._model_config)]
            textual = [k for k in wanted if (props[k].get("type") in ("string", "enumeration", "number"))]
            for name in textual[:FIND_FILTERS]:
                filters.append(Filter(property_name=name, operator="EQ", value=wanted[name],
                                      local_vars_configuration=self._model_config))
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=filters, local_vars_configuration=self._model_config)],
                properties=columns[1:], limit=SEARCH_PAGE_SIZE,
                sorts=[{"propertyName": self.id_field, "direction": "ASCENDING"}],
                local_vars_configuration=self._model_config)
            reply = self._read(f"look for a created {self.object_type} record", self._search, request,
                               searching=True)
            found = list((reply.body or {}).get("results") or [])
        ids: list[str] = []
        for obj in found:
            record = self._record(obj, columns)
            stamp = record.get(created) if created else None
            when = _parse_instant(stamp) if stamp else None
            if when is None or when < start:
                continue
            if all(_same_value(k, record.get(k), v) for k, v in wanted.items()):
                ids.append(str(record[self.id_field]))
        return ids

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        """Archive records (HubSpot's delete; they stay restorable in HubSpot for 90 days)."""
        unique = list(dict.fromkeys(str(i) for i in ids))
        results: dict[str, WriteOutcome] = {i: WriteOutcome(i, "failed", "not a HubSpot record id")
                                            for i in unique if not i.isdigit()}
        valid = [i for i in unique if i.isdigit()]

        def archive(chunk: Sequence[str]) -> dict[str, WriteOutcome]:
            request = BatchInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i, local_vars_configuration=self._model_config) for i in chunk],
                local_vars_configuration=self._model_config,
            )
            try:
                self._send(self._batch_archive, request)
            except HubSpotHTTPError as err:
                message = self._failure(err, f"delete {self.object_type}")
                return {i: WriteOutcome(i, "failed", message) for i in chunk}
            return {i: WriteOutcome(i, "ok") for i in chunk}

        for chunk_result in self._map(archive, _chunks(valid, BATCH_SIZE)):
            results.update(chunk_result)
        return [results[str(i)] for i in ids]

    def close(self) -> None:
        for api in self._apis:
            pool = getattr(getattr(getattr(api, "api_client", None), "rest_client", None), "pool_manager", None)
            if pool is not None:
                pool.clear()


def _same_value(name: str, stored: str | None, sent: str) -> bool:
    """Whether HubSpot holds the value sent (it keeps e-mail addresses lowercase)."""
    if name == "email":
        return (stored or "").strip().lower() == sent.strip().lower()
    return (stored or "") == sent


def _parse_instant(text: str) -> datetime | None:
    """A HubSpot date property's value (ISO 8601 or epoch ms) as an aware UTC datetime; None if neither."""
    raw = text.strip()
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _filter_kwargs(flt: Mapping[str, Any]) -> dict[str, Any]:
    return {"property_name": flt["propertyName"], "operator": flt["operator"], "value": flt.get("value"),
            "values": flt.get("values"), "high_value": flt.get("highValue")}


def _number(extra: Mapping[str, str], key: str, default: T, kind: Callable[[str], T]) -> T:
    raw = extra.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = kind(str(raw))
    except ValueError:
        raise UsageError(f"HubSpot option {key}={raw!r} is not a number") from None
    if isinstance(value, int | float) and value <= 0:
        raise UsageError(f"HubSpot option {key} must be positive, got {raw!r}")
    return value
