"""A stateful, in-memory emulator of the slice of the Salesforce API that crmclean uses.

It serves real HTTPS on 127.0.0.1 (a throw-away CA is generated per process, see ``ca_file``),
because simple-salesforce always builds ``https://`` URLs. Tests and benchmarks drive the real
simple-salesforce client against it, so paging, batching, error bodies and retries are exercised
over the wire rather than mocked. What it emulates:

* OAuth ``/services/oauth2/token`` (password and JWT bearer grants) and SOAP ``login``;
* REST ``describe``, ``limits`` (DailyApiRequests, decremented per request), SOQL ``query`` /
  ``queryMore`` / ``queryAll`` with server-side cursors, single-record CRUD;
* sObject Collections (update / create / delete / retrieve, at most 200 / 2000 records);
* Bulk API 2.0 query jobs (CSV results with ``Sforce-Locator``) and ingest jobs;
* SOAP ``merge`` (master + up to two losers per request);
* active duplicate rules, by default the standard Account, Contact and Lead duplicate rules a new org ships active
  (``STANDARD_DUPLICATE_RULES``; Salesforce Help, "Standard Duplicate Rules" and "Standard Matching Rules", whose
  fuzzy matching rules are approximated by exact comparisons, see ``model``), or ``duplicate_rules=[...]``
  (``[]``: none): a REST create or update they flag fails per record with DUPLICATES_DETECTED unless
  ``Sforce-Duplicate-Rule-Header: allowSave=true`` and the rule only alerts (REST API Developer Guide,
  "Duplicate Rule Header"); Bulk API 2.0 ingest has no such header (Bulk API 2.0 Developer Guide, "Headers"), so
  its flagged rows fail in ``failedResults``; SOAP ``merge`` runs no duplicate rule (DuplicateRuleHeader, SOAP API
  Developer Guide, applies to create/update/upsert; Salesforce Help, "Duplicate Rule Considerations": rules do not run
  when records are merged);
* picklist values per record type (``record_types`` + ``record_type_picklists``): UI API
  ``GET /ui-api/object-info/{object}/picklist-values/{recordTypeId}`` (User Interface API Developer Guide,
  "Get Values for All Picklist Fields of a Record Type",
  https://developer.salesforce.com/docs/atlas.en-us.uiapi.meta/uiapi/ui_api_resources_picklist_values_collection.htm);
  a restricted picklist refuses a value its record's type does not allow (INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST);
* fault injection: 429 with Retry-After, 503, REQUEST_LIMIT_EXCEEDED, hangs (timeouts), expired
  sessions, partial failures of collection writes, seeded random faults, and "human" edits.

Usage from a test::

    with SalesforceEmulator(objects={"Contact": rows}) as emu:
        os.environ.update(emu.env())       # SALESFORCE_INSTANCE_URL / _SESSION_ID / _CA_BUNDLE
        ...
        emu.inject("429", count=2, path_contains="/query")
        emu.records("Contact")

From a shell: ``python -m crmclean.testing.salesforce_emulator --port 8443 --load contacts.csv``
(the same as ``python -m crmclean.connectors.salesforce.emulator``; see ``cli``).
This is a test double: it is deliberately permissive where the real API is picky in ways that do
not matter to crmclean, and strict where crmclean must cope (limits, errors, paging).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import ipaddress
import json
import random
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

__all__ = ["FAULT_KINDS", "LoggedRequest", "SalesforceEmulator"]

from crmclean.connectors._emulator import EmulatorHandler, KeepAliveServer, LocalHttpServer
from crmclean.connectors.salesforce.emulator.model import (
    _ID_CHARS,
    _ID_RE,
    _KEY_PREFIXES,
    _MERGEABLE,
    BULK_RESULTS_DEFAULT,
    COLLECTION_RETRIEVE_MAX,
    COLLECTION_WRITE_MAX,
    DEFAULT_API_VERSION,
    FAULT_KINDS,
    MERGE_MAX_LOSERS,
    PARTNER_NS,
    QUERY_BATCH_DEFAULT,
    QUERY_BATCH_MIN,
    SOAP_ENV,
    STANDARD_DUPLICATE_RULES,
    ApiError,
    DuplicateRule,
    RecordError,
    Row,
    SField,
    SObject,
    _build_fields,
    _csv_value,
    _fmt_rest_datetime,
    _json_value,
    _label_of,
    _lenient_value,
    _make_id,
    canonical_value,
    normalize_id,
    to_18,
)
from crmclean.connectors.salesforce.emulator.soql import SoqlQuery, _malformed, _sort_key, compile_where, parse_soql

URI_MAX_BYTES = 16_384
JWT_AUDIENCES = frozenset({"https://login.salesforce.com", "https://test.salesforce.com"})

# ---------------------------------------------------------------------------------------------
# Jobs, cursors, faults, log
# ---------------------------------------------------------------------------------------------


@dataclass
class _Cursor:
    obj: str
    ids: list[str]
    fields: list[str]
    batch: int


@dataclass
class _QueryJob:
    id: str
    obj: str
    query: str
    operation: str
    header: list[str]
    rows: list[list[str]]
    created: str
    polls_left: int
    state: str = "UploadComplete"


@dataclass
class _IngestJob:
    id: str
    obj: str
    operation: str
    created: str
    delimiter: str = ","
    line_ending: str = "LF"
    external_id: str | None = None
    state: str = "Open"
    data: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    processed: int = 0
    polls_left: int = 0
    error_message: str | None = None  # set when the job ends Failed part-way (the rest is unprocessed)


@dataclass
class _Fault:
    kind: str
    count: int
    path_contains: str | None
    retry_after: float
    fail_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class LoggedRequest:
    """One request the emulator answered (no headers or bodies: they may carry secrets)."""

    method: str
    path: str
    query: str
    status: int
    fault: str | None = None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering (a hang the client times out on)
    delay: float = 0.0  # seconds to hang before dropping


def _json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(payload).encode("utf-8"), headers=dict(headers or {}))


# ---------------------------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------------------------

_TLS_LOCK = threading.Lock()
_TLS_MATERIAL: tuple[bytes, bytes, bytes] | None = None  # (ca_pem, server_cert_pem, server_key_pem)


def _tls_material() -> tuple[bytes, bytes, bytes]:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost, made once per process."""
    global _TLS_MATERIAL
    with _TLS_LOCK:
        if _TLS_MATERIAL is not None:
            return _TLS_MATERIAL
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmclean Salesforce emulator CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _TLS_MATERIAL = (
            ca_cert.public_bytes(serialization.Encoding.PEM),
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        )
        return _TLS_MATERIAL


# ---------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------


class SalesforceEmulator(LocalHttpServer):
    """A Salesforce org in memory, served over HTTPS on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        objects: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
        *,
        field_types: Mapping[str, Mapping[str, Any]] | None = None,
        api_version: str = DEFAULT_API_VERSION,
        daily_api_limit: int = 1_000_000,
        username: str = "steward@crmclean.test",
        password: str = "emulator-password",
        security_token: str = "EMULATORTOKEN",
        consumer_key: str = "crmclean-emulator-consumer-key",
        consumer_secret: str = "crmclean-emulator-consumer-secret",
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = True,
        timeout_seconds: float = 1.0,
        session_ttl: float | None = None,
        max_query_batch: int = QUERY_BATCH_DEFAULT,
        view_setup: bool = True,
        duplicate_rules: Sequence[DuplicateRule] | None = None,
        person_accounts: bool = False,
        record_types: Mapping[str, Sequence[str]] | None = None,
        record_type_picklists: Mapping[str, Mapping[str, Mapping[str, Sequence[str]]]] | None = None,
    ) -> None:
        self.api_version = api_version
        self.view_setup = view_setup  # "View Setup and Configuration": without it /limits answers 403
        # active duplicate rules (None: the standard rules of a new org), checked on REST and Bulk creates/updates
        self.duplicate_rules = list(STANDARD_DUPLICATE_RULES if duplicate_rules is None else duplicate_rules)
        # Person Accounts enabled: Account gains the read-only IsPersonAccount checkbox (Object Reference, "Person
        # Account"); record types: the object gains RecordTypeId and describe lists recordTypeInfos
        self.person_accounts = person_accounts
        self.record_types = {obj: [(_make_id("012", 100 * i + j + 1), name) for j, name in enumerate(names)]
                             for i, (obj, names) in enumerate((record_types or {}).items())}
        # {object: {record type name: {picklist field: the values that type allows}}}; a field a type does not name
        # allows every value (UI API "Get Values for All Picklist Fields of a Record Type"; a restricted picklist
        # refuses a value its record's type does not allow)
        self.record_type_picklists = {obj: {name: {f: list(v) for f, v in fields.items()}
                                            for name, fields in by_type.items()}
                                      for obj, by_type in (record_type_picklists or {}).items()}
        self.daily_api_limit = daily_api_limit
        self.api_used = 0
        # called on every counted API request: a test's stand-in for other clients of the org spending requests
        self.on_request: Callable[[], None] | None = None
        self.username = username
        self.password = password
        self.security_token = security_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.timeout_seconds = timeout_seconds  # how long an injected "timeout" hangs before dropping
        self.session_ttl = session_ttl
        self.max_query_batch = max_query_batch
        self.bulk_polls_in_progress = 0  # job status polls answered "InProgress" before "JobComplete"
        self.org_id = to_18("00D5g000004crmC")
        self.user_id = _make_id("005", 1)  # the API user
        self.human_user_id = _make_id("005", 2)  # the person editing in the CRM UI
        self.request_log: list[LoggedRequest] = []
        self._host = host
        self._port = port
        self._tls = tls
        self._lock = threading.RLock()
        # lookup value → the rows holding it (a merge re-parents related records): built for a SOAP merge call and
        # kept for the next one while nothing else changed a record since (``_ref_stamp``: every change ticks the
        # clock), as the engine sends one merge per call (1,800 calls, each scanning every row, at 10,000 contacts)
        self._ref_index: dict[str, list[tuple[SObject, str, str]]] | None = None
        self._ref_prefixes: set[str] = set()
        self._ref_stamp: dt.datetime | None = None
        self._objects: dict[str, SObject] = {}
        self._sessions: dict[str, float] = {}
        self._cursors: dict[str, _Cursor] = {}
        self._query_jobs: dict[str, _QueryJob] = {}
        self._ingest_jobs: dict[str, _IngestJob] = {}
        self._faults: list[_Fault] = []
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = ()
        self._random = random.Random(0)
        self._jwt_keys: dict[str, bytes | str | None] = {consumer_key: None}
        self._last_stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        self._serial = 0
        self._tmpdir: str | None = None
        self.ca_file: str | None = None
        self.session_id = self._issue_session()
        for name, rows in (objects or {}).items():
            self.load(name, rows, field_types=(field_types or {}).get(name))

    # -- lifecycle: start / ``with`` come from LocalHttpServer --------------------------------

    thread_name = "sf-emulator"

    def _make_server(self) -> _Server:
        """Bind the port, over TLS (a fresh CA and server certificate) unless ``tls=False``."""
        context: ssl.SSLContext | None = None
        if self._tls:
            ca_pem, cert_pem, key_pem = _tls_material()
            self._tmpdir = tempfile.mkdtemp(prefix="sf-emulator-")
            tmp = Path(self._tmpdir)
            (tmp / "ca.pem").write_bytes(ca_pem)
            (tmp / "server.pem").write_bytes(cert_pem + key_pem)
            (tmp / "server.pem").chmod(0o600)
            self.ca_file = str(tmp / "ca.pem")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tmp / "server.pem"))
        server = _Server((self._host, self._port), _Handler, self, context)
        self._port = server.server_address[1]
        return server

    def stop(self) -> None:
        super().stop()  # closes kept-alive connections too: clients must not talk to a stopped org
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __repr__(self) -> str:  # no session id: reprs end up in logs
        return f"SalesforceEmulator({self.instance_url}, objects={sorted(self._objects)})"

    @property
    def host(self) -> str:  # type: ignore[override]  # read-only: set by the constructor and start
        return self._host

    @property
    def port(self) -> int:  # type: ignore[override]
        return self._port

    @property
    def base_url(self) -> str:
        return self.instance_url

    @property
    def instance_url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self._host}:{self._port}"

    @property
    def login_url(self) -> str:
        return self.instance_url

    def env(self) -> dict[str, str]:
        """Environment variables that point crmclean's Salesforce connector at this emulator."""
        env = {"SALESFORCE_INSTANCE_URL": self.instance_url, "SALESFORCE_SESSION_ID": self.session_id,
               "SALESFORCE_API_VERSION": self.api_version}
        if self.ca_file:
            env["SALESFORCE_CA_BUNDLE"] = self.ca_file
        return env

    def login_env(self, flow: str = "password") -> dict[str, str]:
        """Variables for a connector that logs in (and so can log in again): password or oauth."""
        env = {"SALESFORCE_LOGIN_URL": self.login_url, "SALESFORCE_USERNAME": self.username,
               "SALESFORCE_PASSWORD": self.password, "SALESFORCE_SECURITY_TOKEN": self.security_token,
               "SALESFORCE_API_VERSION": self.api_version}
        if flow == "oauth":
            env["SALESFORCE_CONSUMER_KEY"] = self.consumer_key
            env["SALESFORCE_CONSUMER_SECRET"] = self.consumer_secret
        if self.ca_file:
            env["SALESFORCE_CA_BUNDLE"] = self.ca_file
        return env

    # -- data --------------------------------------------------------------------------------

    def load(self, obj: str, rows: Sequence[Mapping[str, object]], field_types: Mapping[str, Any] | None = None) -> None:
        """Create (or replace) sObject ``obj`` holding ``rows``; an ``Id``/``id`` key keeps its id."""
        with self._lock:
            prefix = _KEY_PREFIXES.get(obj) or f"a0{_ID_CHARS[10 + len(self._objects) % 52]}"
            sobj = SObject(obj, prefix, _build_fields(obj, rows, field_types or {}))
            if obj == "Account" and self.person_accounts:
                sobj.fields["IsPersonAccount"] = SField("IsPersonAccount", "boolean", "Is Person Account",
                                                        updateable=False, createable=False, nillable=False)
            if obj in self.record_types:
                sobj.fields["RecordTypeId"] = SField("RecordTypeId", "reference", "Record Type ID", length=18)
            sobj.reindex()
            stamp = _fmt_rest_datetime(self._tick())
            for row in rows:
                given = row.get("Id", row.get("id"))
                record_id = normalize_id(str(given)) if given not in (None, "") else sobj.next_id()
                stored: Row = {name: None for name in sobj.fields if sobj.fields[name].type != "address"}
                for key, value in row.items():
                    if key.lower() == "id":
                        continue
                    f = sobj.fields.get(key)
                    if f is not None:
                        stored[f.name] = _lenient_value(f, value)
                stored["Id"] = record_id
                stored["IsDeleted"] = "false"
                for flag in ("IsConverted", "IsPersonAccount"):
                    if flag in sobj.fields:
                        stored[flag] = stored.get(flag) or "false"
                if "RecordTypeId" in sobj.fields and not stored.get("RecordTypeId"):
                    stored["RecordTypeId"] = self.record_types[obj][0][0]  # the default record type
                for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                    stored[name] = stored.get(name) or stamp
                stored["CreatedById"] = stored.get("CreatedById") or self.user_id
                stored["LastModifiedById"] = stored.get("LastModifiedById") or self.user_id
                sobj.rows[record_id] = stored
                sobj.order.append(record_id)
            self._objects[obj] = sobj

    def record_type_id(self, obj: str, name: str) -> str:
        """The id of record type ``name`` of ``obj`` (see ``record_types``)."""
        return next(rt_id for rt_id, rt_name in self.record_types[obj] if rt_name == name)

    def records(self, obj: str, include_deleted: bool = False) -> list[dict[str, str | None]]:
        """Copies of the stored records of ``obj`` (deleted/merged ones only if asked)."""
        with self._lock:
            sobj = self._objects[obj]
            return [dict(sobj.rows[i]) for i in sobj.order if include_deleted or sobj.live(sobj.rows[i])]

    def record(self, obj: str, record_id: str) -> dict[str, str | None] | None:
        """A copy of one record, deleted or not; None when the id is unknown."""
        with self._lock:
            row = self._objects[obj].lookup(record_id)
            return dict(row) if row is not None else None

    def human_edit(self, obj: str, record_id: str, values: Mapping[str, object]) -> None:
        """Change a record the way a user in the CRM would (bumps LastModifiedDate)."""
        with self._lock:
            sobj = self._objects[obj]
            row = sobj.lookup(record_id)
            if row is None:
                raise KeyError(record_id)
            for key, value in values.items():
                f = sobj.field(key)
                row[f.name] = canonical_value(f, value)
            self._touch(row, self.human_user_id)

    # -- faults ------------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        count: int = 1,
        path_contains: str | None = None,
        *,
        retry_after: float = 1.0,
        fail_ids: Iterable[str] | None = None,
    ) -> None:
        """Make the next ``count`` matching requests fail with ``kind`` (see FAULT_KINDS).

        ``partial_failure`` applies to collection / bulk ingest / merge writes only: it fails the
        records in ``fail_ids`` or, without it, every second record of the request. ``job_failed``
        makes the next Bulk 2.0 ingest job end ``Failed`` after processing its first half: the rest
        is listed by ``unprocessedrecords``, as a real job that fails after its retries does.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        with self._lock:
            ids = frozenset(normalize_id(i) for i in fail_ids) if fail_ids is not None else None
            self._faults.append(_Fault(kind, count, path_contains, retry_after, ids))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random_rate = 0.0

    def random_faults(self, rate: float, seed: int = 0, kinds: Sequence[str] = ("429", "503")) -> None:
        """From now on fail each API request with probability ``rate`` (reproducible by ``seed``)."""
        with self._lock:
            self._random_rate = rate
            self._random_kinds = tuple(kinds)
            self._random = random.Random(seed)

    def expire_sessions(self) -> None:
        """Invalidate every session now (as an admin or a timeout would)."""
        with self._lock:
            self._sessions.clear()

    def new_session(self) -> str:
        """A fresh valid session id (as if someone logged in again)."""
        return self._issue_session()

    def register_jwt_key(self, consumer_key: str, public_key: bytes | str | None = None) -> None:
        """Accept JWT assertions issued for ``consumer_key``; verify them with ``public_key`` if given."""
        with self._lock:
            self._jwt_keys[consumer_key] = public_key

    def request_count(self, path_contains: str | None = None, method: str | None = None) -> int:
        """How many requests matched (by path substring and/or HTTP method)."""
        with self._lock:
            return sum(
                1 for r in self.request_log
                if (path_contains is None or path_contains in r.path) and (method is None or r.method == method)
            )

    @property
    def api_remaining(self) -> int:
        return self.daily_api_limit - self.api_used

    # -- internals: clock, sessions ----------------------------------------------------------

    def _tick(self) -> dt.datetime:
        """Now, but strictly after the previous stamp, so every write changes the version stamp."""
        now = dt.datetime.now(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # Salesforce stamps have milliseconds
        if now <= self._last_stamp:
            now = self._last_stamp + dt.timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _touch(self, row: Row, user_id: str | None = None) -> None:
        stamp = _fmt_rest_datetime(self._tick())
        row["LastModifiedDate"] = stamp
        row["SystemModstamp"] = stamp
        row["LastModifiedById"] = user_id or self.user_id

    def _issue_session(self) -> str:
        token = secrets.token_urlsafe(72).replace("-", ".").replace("_", ".")
        sid = f"{self.org_id[:15]}!AQ{token}"
        with self._lock:
            self._sessions[sid] = time.monotonic()
        return sid

    def _session_valid(self, sid: str | None) -> bool:
        if not sid:
            return False
        with self._lock:
            issued = self._sessions.get(sid)
            if issued is None:
                return False
            if self.session_ttl is not None and time.monotonic() - issued > self.session_ttl:
                del self._sessions[sid]
                return False
            return True

    def _next_serial(self, prefix: str) -> str:
        self._serial += 1
        return _make_id(prefix, self._serial)

    def _sobject(self, name: str) -> SObject:
        for key, sobj in self._objects.items():
            if key.lower() == name.lower():
                return sobj
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _take_fault(self, path: str, kinds: set[str]) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and fault.kind in kinds and (
                        fault.path_contains is None or fault.path_contains in path):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    # -- request dispatch (called by the HTTP handler) ---------------------------------------

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Response:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        full = path + ("?" + parts.query if parts.query else "")
        fault_name: str | None = None
        try:
            if len(raw_path.encode("utf-8")) > URI_MAX_BYTES:
                # Salesforce's front end refuses a request URI past 16,384 bytes before the API sees it
                raise ApiError(414, "URI_TOO_LONG", f"Request-URI Too Long: the URI exceeds {URI_MAX_BYTES} bytes")
            response, fault_name = self._dispatch(method, path, full, params, headers, body)
        except ApiError as err:
            response = _json_response(err.status, err.body())
        except Exception as exc:  # an emulator bug must look like a server error, not kill the thread
            response = _json_response(500, [{"message": f"emulator error: {type(exc).__name__}: {exc}",
                                             "errorCode": "UNKNOWN_EXCEPTION"}])
        if path.startswith("/services/data/"):
            used = self.daily_api_limit - max(0, self.api_remaining)
            response.headers.setdefault("Sforce-Limit-Info", f"api-usage={used}/{self.daily_api_limit}")
        with self._lock:
            self.request_log.append(LoggedRequest(method, path, parts.query, 0 if response.drop else response.status,
                                                  fault_name))
        return response

    def _dispatch(self, method: str, path: str, full: str, params: dict[str, str], headers: Mapping[str, str],
                  body: bytes) -> tuple[_Response, str | None]:
        is_auth = path == "/services/oauth2/token"
        is_soap = path.startswith("/services/Soap/u/")
        soap_op = _soap_operation(body) if is_soap else ""
        if is_soap and soap_op == "login":
            is_auth = True
        # Faults first: a throttled or hung request never reaches the org.
        fault_kinds = {"429", "503", "request_limit", "timeout", "expire_session", "landed_504"}
        fault = None
        with self._lock:
            # Logins are only faulted when a fault names their path: a bare inject("503") targets the API.
            targeted = any(f.path_contains and f.path_contains in full for f in self._faults)
        if not is_auth or targeted:
            fault = self._take_fault(full, fault_kinds)
        if fault is None and not is_auth and self._random_rate > 0:
            with self._lock:
                if self._random.random() < self._random_rate:
                    fault = _Fault(self._random.choice(self._random_kinds), 1, None, 1.0)
        if fault is not None and fault.kind == "landed_504":
            # the request is carried out, but the gateway answers 504 before the reply comes back
            self._dispatch_clean(method, path, full, params, headers, body)
            return _json_response(504, [{"message": "Gateway Timeout", "errorCode": "GATEWAY_TIMEOUT"}]), "landed_504"
        if fault is not None:
            if fault.kind == "timeout":
                return _Response(0, drop=True, delay=self.timeout_seconds), "timeout"
            if fault.kind == "expire_session":
                self.expire_sessions()
            else:
                return self._fault_response(fault, is_soap), fault.kind
        if path == "/services/oauth2/token" and method == "POST":
            return self._oauth_token(body), None
        if is_soap and soap_op == "login":
            return self._soap_login(body), None

        # Everything else needs a live session.
        if is_soap:
            sid = _soap_session_id(body)
        else:
            auth = headers.get("Authorization", "")
            sid = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if not self._session_valid(sid):
            if is_soap:
                return _soap_fault("sf:INVALID_SESSION_ID",
                                   "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session",
                                   "INVALID_SESSION_ID"), fault.kind if fault else None
            return _json_response(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
                                  ), fault.kind if fault else None

        m = re.match(r"^/services/data/v(\d+\.\d)(/.*)?$", path)
        metered = not (m and (m.group(2) or "") == "/limits")
        if metered:
            with self._lock:
                if self.api_used >= self.daily_api_limit:
                    if is_soap:
                        return _soap_fault("sf:REQUEST_LIMIT_EXCEEDED",
                                           "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.",
                                           "REQUEST_LIMIT_EXCEEDED"), None
                    return _json_response(403, [{"message": "TotalRequests Limit exceeded.",
                                                 "errorCode": "REQUEST_LIMIT_EXCEEDED"}]), None
                self.api_used += 1
                if self.on_request is not None:
                    self.on_request()
        limit_header = {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.daily_api_limit}"}
        if is_soap:
            return self._soap(body), None
        if not m:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = m.group(1), m.group(2) or "/"
        response = self._route(method, version, rest, params, headers, body)
        response.headers.update(limit_header)
        return response, None

    def _dispatch_clean(self, method: str, path: str, full: str, params: dict[str, str],
                        headers: Mapping[str, str], body: bytes) -> None:
        """Carry a request out with no fault (the landed half of a ``landed_504``)."""
        with self._lock:
            saved, self._faults, rate = self._faults, [], self._random_rate
            self._random_rate = 0.0
        try:
            self._dispatch(method, path, full, params, headers, body)
        except ApiError:
            pass
        finally:
            with self._lock:
                self._faults, self._random_rate = saved + self._faults, rate

    def _fault_response(self, fault: _Fault, is_soap: bool) -> _Response:
        retry = {"Retry-After": f"{fault.retry_after:g}"}
        if fault.kind == "429":
            return _json_response(429, [{"message": "Too many requests; retry after a pause",
                                         "errorCode": "TOO_MANY_REQUESTS"}], retry)
        if fault.kind == "503":
            return _json_response(503, [{"message": "Server temporarily unavailable; retry later",
                                         "errorCode": "SERVER_UNAVAILABLE"}], retry)
        if is_soap:
            return _soap_fault("sf:REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.",
                               "REQUEST_LIMIT_EXCEEDED")
        return _json_response(403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])

    def _route(self, method: str, version: str, rest: str, params: dict[str, str], headers: Mapping[str, str],
               body: bytes) -> _Response:
        segs = [s for s in rest.split("/") if s]
        with self._lock:
            if segs == ["limits"] and method == "GET":
                if not self.view_setup:
                    raise ApiError(403, "INSUFFICIENT_ACCESS", "The REST API limits resource requires the "
                                   "View Setup and Configuration permission")
                return _json_response(200, self._limits())
            if segs == ["sobjects"] and method == "GET":
                return _json_response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                    {"name": n, "label": n, "keyPrefix": o.key_prefix, "queryable": True}
                    for n, o in self._objects.items()]})
            if len(segs) == 3 and segs[0] == "sobjects" and segs[2] == "describe" and method == "GET":
                return _json_response(200, self._describe(version, self._sobject(segs[1])))
            if len(segs) == 2 and segs[0] == "sobjects" and method == "POST":
                return self._create_one(version, segs[1], _json_body(body))
            if len(segs) == 3 and segs[0] == "sobjects":
                return self._one_record(method, version, segs[1], segs[2], params, body)
            if segs and segs[0] in {"query", "queryAll"} and method == "GET":
                batch = _batch_size(headers.get("Sforce-Query-Options", ""), self.max_query_batch)
                if len(segs) == 1:
                    return _json_response(200, self._query(version, params.get("q", ""), batch,
                                                           include_deleted=segs[0] == "queryAll"))
                return _json_response(200, self._query_more(version, segs[1], headers))
            if segs[:2] == ["composite", "sobjects"]:
                return self._collections(method, version, segs[2:], params, body, headers)
            if len(segs) == 5 and segs[:2] == ["ui-api", "object-info"] and segs[3] == "picklist-values" \
                    and method == "GET":
                return _json_response(200, self._picklist_values(version, self._sobject(segs[2]), segs[4]))
            if segs[:2] == ["jobs", "query"]:
                return self._bulk_query(method, version, segs[2:], params, body)
            if segs[:2] == ["jobs", "ingest"]:
                return self._bulk_ingest(method, version, segs[2:], body)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    # -- REST: limits, describe, records -----------------------------------------------------

    def _limits(self) -> dict[str, Any]:
        jobs = len(self._query_jobs)
        return {
            "DailyApiRequests": {"Max": self.daily_api_limit, "Remaining": max(0, self.api_remaining)},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": 10_000 - jobs},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000 - len(self._ingest_jobs)},
            "DataStorageMB": {"Max": 5_000, "Remaining": 5_000},
        }

    def _describe(self, version: str, sobj: SObject) -> dict[str, Any]:
        compound = {part: f.name for f in sobj.fields.values() for part in f.compound_of}
        return {
            "name": sobj.name,
            "label": _label_of(sobj.name),
            "keyPrefix": sobj.key_prefix,
            "custom": sobj.name.endswith("__c"),
            "createable": True,
            "updateable": True,
            "deletable": True,
            "queryable": True,
            "mergeable": sobj.name in _MERGEABLE,
            "fields": [f.describe(compound.get(f.name)) for f in sobj.fields.values()],
            # Record Types: one entry per record type the user may use, plus the Master type (describe, "Record Type
            # Infos" in the REST API Developer Guide's sObject Describe)
            "recordTypeInfos": [
                {"available": True, "defaultRecordTypeMapping": i == 0, "developerName": name.replace(" ", "_"),
                 "master": False, "name": name, "recordTypeId": rt_id,
                 "urls": {"layout": f"/services/data/v{version}/sobjects/{sobj.name}/describe/layouts/{rt_id}"}}
                for i, (rt_id, name) in enumerate(self.record_types.get(sobj.name, []))
            ] + [{"available": True, "defaultRecordTypeMapping": sobj.name not in self.record_types,
                  "developerName": "Master", "master": True, "name": "Master", "recordTypeId": "012000000000000AAA",
                  "urls": {}}],
            "urls": {"sobject": f"/services/data/v{version}/sobjects/{sobj.name}",
                     "describe": f"/services/data/v{version}/sobjects/{sobj.name}/describe",
                     "rowTemplate": f"/services/data/v{version}/sobjects/{sobj.name}/{{ID}}"},
        }

    def _allowed_values(self, sobj: SObject, record_type_id: str | None) -> dict[str, list[str]]:
        """Picklist field -> the values the record type allows (the field's values unless the type names it)."""
        out = {f.name: list(f.picklist) for f in sobj.fields.values() if f.type in {"picklist", "multipicklist"}}
        name = next((n for rt_id, n in self.record_types.get(sobj.name, [])
                     if record_type_id and rt_id[:15] == record_type_id[:15]), None)
        for fname, values in self.record_type_picklists.get(sobj.name, {}).get(name or "", {}).items():
            if fname in out:
                out[fname] = [v for v in out[fname] if v in values] or list(values)
        return out

    def _picklist_values(self, version: str, sobj: SObject, record_type_id: str) -> dict[str, Any]:
        """UI API ``GET /ui-api/object-info/{object}/picklist-values/{recordTypeId}`` (User Interface API Developer
        Guide, "Get Values for All Picklist Fields of a Record Type"): the Picklist Values collection of each picklist
        field for that record type; the Master record type (``012000000000000AAA``) allows every value."""
        known = {rt_id[:15] for rt_id, _ in self.record_types.get(sobj.name, [])} | {"012000000000000"}
        if record_type_id[:15] not in known:
            raise ApiError(404, "NOT_FOUND", f"The requested resource does not exist: record type {record_type_id}")
        base = f"/services/data/v{version}/ui-api/object-info/{sobj.name}/picklist-values/{record_type_id}"
        return {"eTag": secrets.token_hex(8), "picklistFieldValues": {
            fname: {"controllerValues": {}, "defaultValue": None, "eTag": secrets.token_hex(8),
                    "url": f"{base}/{fname}",
                    "values": [{"attributes": None, "label": v, "validFor": [], "value": v} for v in values]}
            for fname, values in self._allowed_values(sobj, record_type_id).items()}}

    def _check_record_type_values(self, sobj: SObject, row: Row, changes: Row) -> None:
        """A restricted picklist refuses a value its record's type does not allow."""
        if "RecordTypeId" not in sobj.fields or sobj.name not in self.record_type_picklists:
            return
        allowed = self._allowed_values(sobj, changes.get("RecordTypeId") or row.get("RecordTypeId"))
        for fname, value in changes.items():
            f = sobj.fields.get(fname)
            if f is None or not f.restricted or value is None or fname not in allowed:
                continue
            if any(v not in allowed[fname] for v in value.split(";")):
                raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                  f"{f.label or _label_of(f.name)}: bad value for restricted picklist field: {value}",
                                  [f.name])

    def _render(self, version: str, sobj: SObject, row: Row, fields: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": sobj.name,
                                              "url": f"/services/data/v{version}/sobjects/{sobj.name}/{row['Id']}"}}
        for name in fields:
            f = sobj.fields[name]
            out[name] = _json_value(f, row.get(name), row)
        return out

    def _one_record(self, method: str, version: str, obj: str, record_id: str, params: dict[str, str],
                    body: bytes) -> _Response:
        sobj = self._sobject(obj)
        row = sobj.lookup(record_id)
        if row is None or not sobj.live(row):
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if method == "GET":
            names = [sobj.field(n.strip()).name for n in params["fields"].split(",")] if params.get("fields") \
                else list(sobj.fields)
            return _json_response(200, self._render(version, sobj, row, names))
        if method == "PATCH":
            try:
                changes = self._validate_changes(sobj, _json_body(body), creating=False)
            except RecordError as err:
                raise ApiError(400, err.code, err.message, err.fields) from None
            row.update(changes)
            self._touch(row)
            return _Response(204)
        if method == "DELETE":
            row["IsDeleted"] = "true"
            self._touch(row)
            return _Response(204)
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE")

    def _create_one(self, version: str, obj: str, payload: Any) -> _Response:
        sobj = self._sobject(obj)
        try:
            new_id = self._insert(sobj, payload)
        except RecordError as err:
            raise ApiError(400, err.code, err.message, err.fields) from None
        return _json_response(201, {"id": new_id, "success": True, "errors": []})

    def _validate_changes(self, sobj: SObject, values: Mapping[str, Any], creating: bool) -> Row:
        changes: Row = {}
        for key, value in values.items():
            if key in {"attributes", "id", "Id"}:
                continue
            f = sobj.field(key) if key.lower() in sobj.lower else None
            if f is None:
                raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {sobj.name}", [key])
            allowed = f.createable if creating else f.updateable
            if not allowed:
                raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                                  f"Unable to create/update fields: {f.name}. Please check the security settings of "
                                  "this field and verify that it is read/write for your profile or permission set.",
                                  [f.name])
            canon = canonical_value(f, value)
            if canon is None and not f.nillable:
                raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f.name}]", [f.name])
            changes[f.name] = canon
        if creating:
            # a checkbox is never required on create: describe gives it defaultedOnCreate (false)
            missing = [f.name for f in sobj.fields.values()
                       if not f.nillable and f.createable and f.type != "boolean" and changes.get(f.name) is None]
            if missing:
                raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                                  missing)
        return changes

    def _insert(self, sobj: SObject, values: Mapping[str, Any], changes: Row | None = None) -> str:
        if changes is None:
            changes = self._validate_changes(sobj, values, creating=True)
        record_id = sobj.next_id()
        while record_id in sobj.rows:
            record_id = sobj.next_id()
        stamp = _fmt_rest_datetime(self._tick())
        row: Row = {name: None for name in sobj.fields if sobj.fields[name].type != "address"}
        row.update(changes)
        row.update({"Id": record_id, "IsDeleted": "false", "CreatedDate": stamp, "LastModifiedDate": stamp,
                    "SystemModstamp": stamp, "CreatedById": self.user_id, "LastModifiedById": self.user_id})
        if "IsConverted" in sobj.fields:
            row["IsConverted"] = row.get("IsConverted") or "false"
        sobj.rows[record_id] = row
        sobj.order.append(record_id)
        return record_id

    # -- REST: query -------------------------------------------------------------------------

    def _select(self, text: str, include_deleted: bool = False) -> tuple[SoqlQuery, SObject, list[str], list[str]]:
        """Run a SOQL statement: (query, sObject, selected API field names, matching ids in order)."""
        if not text.strip():
            raise _malformed("query is empty")
        query = parse_soql(text)
        try:
            sobj = self._sobject(query.obj)
        except ApiError:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{query.obj}' is not supported. If you are attempting "
                           "to use a custom object, be sure to append the '__c' after the entity name.") from None
        fields = [sobj.field(name).name for name in query.fields]
        predicate = compile_where(query.where, sobj) if query.where is not None else None
        ids = [i for i in sobj.order
               if (include_deleted or sobj.live(sobj.rows[i])) and (predicate is None or predicate(sobj.rows[i]))]
        for fname, desc, nulls_last in reversed(query.order):
            f = sobj.field(fname)
            present = [i for i in ids if sobj.rows[i].get(f.name) is not None]
            absent = [i for i in ids if sobj.rows[i].get(f.name) is None]
            present.sort(key=lambda i: _sort_key(f, sobj.rows[i][f.name]), reverse=desc)
            ids = present + absent if nulls_last else absent + present
        ids = ids[query.offset :]
        if query.limit is not None:
            ids = ids[: query.limit]
        return query, sobj, fields, ids

    def _query(self, version: str, text: str, batch: int, include_deleted: bool = False) -> dict[str, Any]:
        query, sobj, fields, ids = self._select(text, include_deleted)
        if query.count:
            return {"totalSize": len(ids), "done": True, "records": []}
        if query.aggregates or query.group_by:
            rows = _aggregate(query, sobj, ids)
            return {"totalSize": len(rows), "done": True, "records": rows}
        locator = self._next_serial("01g")
        self._cursors[locator] = _Cursor(sobj.name, ids, fields, batch)
        return self._page(version, locator, 0)

    def _page(self, version: str, locator: str, offset: int) -> dict[str, Any]:
        cursor = self._cursors[locator]
        sobj = self._objects[cursor.obj]
        chunk = cursor.ids[offset : offset + cursor.batch]
        end = offset + len(chunk)
        page: dict[str, Any] = {"totalSize": len(cursor.ids), "done": end >= len(cursor.ids),
                                "records": [self._render(version, sobj, sobj.rows[i], cursor.fields) for i in chunk]}
        if end < len(cursor.ids):
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        else:
            self._cursors.pop(locator, None)  # a finished cursor is gone, as in Salesforce
        return page

    def _query_more(self, version: str, token: str, headers: Mapping[str, str]) -> dict[str, Any]:
        locator, _, offset = token.rpartition("-")
        if locator not in self._cursors or not offset.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        if "Sforce-Query-Options" in headers:
            self._cursors[locator].batch = _batch_size(headers["Sforce-Query-Options"], self.max_query_batch)
        return self._page(version, locator, int(offset))

    # -- sObject Collections -----------------------------------------------------------------

    def _collections(self, method: str, version: str, rest: list[str], params: dict[str, str],
                     body: bytes, headers: Mapping[str, str] | None = None) -> _Response:
        if rest:  # retrieve: /composite/sobjects/{obj}
            sobj = self._sobject(rest[0])
            if method == "GET":
                ids = [i for i in params.get("ids", "").split(",") if i]
                names = [n for n in params.get("fields", "").split(",") if n]
            elif method == "POST":
                payload = _json_body(body)
                ids, names = list(payload.get("ids") or []), list(payload.get("fields") or [])
            else:
                raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,POST")
            if not names:
                raise ApiError(400, "MISSING_ARGUMENT", "fields parameter is required")
            if len(ids) > COLLECTION_RETRIEVE_MAX:
                raise ApiError(400, "EXCEEDED_ID_LIMIT", f"Maximum number of ids is {COLLECTION_RETRIEVE_MAX}")
            fields = [sobj.field(n.strip()).name for n in names]
            out: list[Any] = []
            for record_id in ids:
                row = sobj.lookup(record_id)
                out.append(self._render(version, sobj, row, fields) if row and sobj.live(row) else None)
            return _json_response(200, out)

        if method == "DELETE":
            ids = [i for i in params.get("ids", "").split(",") if i]
            all_or_none = params.get("allOrNone", "false").lower() == "true"
            if len(ids) > COLLECTION_WRITE_MAX:
                raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records "
                               "into this call")
            plans: list[tuple[str, Any]] = []
            seen: set[str] = set()
            for record_id in ids:
                try:
                    _no_duplicate(record_id, seen)
                    plans.append((record_id, self._plan_delete(record_id)))
                except RecordError as err:
                    plans.append((record_id, err))
            return _json_response(200, self._commit(plans, all_or_none, lambda target: self._apply_delete(target)))

        payload = _json_body(body)
        records = payload.get("records") or []
        all_or_none = bool(payload.get("allOrNone", False))
        if len(records) > COLLECTION_WRITE_MAX:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                           "this call")
        fault = self._take_fault(f"/services/data/v{version}/composite/sobjects", {"partial_failure"})
        allow_save = _header_flags((headers or {}).get("Sforce-Duplicate-Rule-Header", "")).get("allowsave") == "true"
        plans = []
        target: Any
        seen = set()
        for index, rec in enumerate(records):
            rid = str(rec.get("id") or rec.get("Id") or "")
            try:
                if rid:
                    _no_duplicate(rid, seen)
                obj = (rec.get("attributes") or {}).get("type")
                if not obj:
                    raise RecordError("INVALID_TYPE", "Must specify a type in the attributes of each record")
                sobj = self._sobject(obj)
                if fault is not None and _fault_hits(fault, index, rid):
                    raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                      "Record blocked by validation rule Steward_Review_Required", [])
                if method == "PATCH":
                    target = self._plan_update(sobj, rid, rec)
                elif method == "POST":
                    if rid:
                        raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
                    target = (sobj, self._validate_changes(sobj, rec, creating=True))
                else:
                    raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
                changed = target[2] if method == "PATCH" else None
                after = {**target[1], **target[2]} if method == "PATCH" else target[1]
                self._check_duplicates(version, sobj, after, rid or None, allow_save, changed)
                plans.append((rid, target))
            except RecordError as err:
                plans.append((rid, err))
            except ApiError as err:
                plans.append((rid, RecordError(err.code, err.message, err.fields)))
        apply = self._apply_update if method == "PATCH" else self._apply_insert
        return _json_response(200, self._commit(plans, all_or_none, apply))

    def _check_duplicates(self, version: str, sobj: SObject, row: Row, record_id: str | None,
                          allow_save: bool, changed: Mapping[str, Any] | None = None) -> None:
        """Run the object's active duplicate rules on a save: an "alert" rule fails it unless the request allows
        saving (``Sforce-Duplicate-Rule-Header: allowSave=true``), a "block" rule always does. An edit (``changed``:
        the fields it sets) runs a rule only when it changes a field the rule compares."""
        for rule in self.duplicate_rules:
            if rule.obj.lower() != sobj.name.lower():
                continue
            if changed is not None and not rule.compares(
                    n for n, v in changed.items() if (self._existing_value(sobj, record_id, n) or None) != v):
                continue
            ids = rule.matches(sobj, row, normalize_id(record_id) if record_id else None)
            if ids and (rule.action == "block" or not allow_save):
                raise rule.error(sobj.name, version, ids)

    def _existing_value(self, sobj: SObject, record_id: str | None, name: str) -> str | None:
        row = sobj.lookup(record_id) if record_id else None
        return row.get(name) if row else None

    def _commit(self, plans: list[tuple[str, Any]], all_or_none: bool,
                apply: Callable[[Any], str]) -> list[dict[str, Any]]:
        """Apply validated writes; with allOrNone one failure rolls every record back."""
        failed = any(isinstance(p, RecordError) for _, p in plans)
        results: list[dict[str, Any]] = []
        for rid, plan in plans:
            if isinstance(plan, RecordError):
                results.append({"success": False, "errors": [plan.as_json()]})
            elif all_or_none and failed:
                results.append({"id": rid or None, "success": False, "errors": [{
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the request was using "
                               "AllOrNone header", "fields": []}]})
            else:
                results.append({"id": apply(plan), "success": True, "errors": []})
        return results

    def _plan_update(self, sobj: SObject, record_id: str, values: Mapping[str, Any]) -> tuple[SObject, Row, Row]:
        row = self._existing(sobj, record_id)
        if row.get("IsConverted") == "true":
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        changes = self._validate_changes(sobj, values, creating=False)
        self._check_record_type_values(sobj, row, changes)
        return sobj, row, changes

    def _existing(self, sobj: SObject, record_id: str) -> Row:
        if not record_id or not _ID_RE.match(record_id):
            raise RecordError("MALFORMED_ID", f"{sobj.name} ID: id value of incorrect type: {record_id}", ["Id"])
        row = sobj.lookup(record_id)
        if row is None:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if not sobj.live(row):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        return row

    def _apply_update(self, target: tuple[SObject, Row, Row]) -> str:
        _, row, changes = target
        row.update(changes)
        self._touch(row)
        return str(row["Id"])

    def _apply_insert(self, target: tuple[SObject, Row]) -> str:
        sobj, changes = target
        return self._insert(sobj, {}, changes)

    def _plan_delete(self, record_id: str) -> tuple[SObject, Row]:
        prefix = normalize_id(record_id)[:3]
        for sobj in self._objects.values():
            if sobj.key_prefix == prefix or sobj.lookup(record_id) is not None:
                return sobj, self._existing(sobj, record_id)
        if not _ID_RE.match(record_id):
            raise RecordError("MALFORMED_ID", f"invalid id: {record_id}", ["Id"])
        raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])

    def _apply_delete(self, target: tuple[SObject, Row]) -> str:
        _, row = target
        row["IsDeleted"] = "true"
        self._touch(row)
        return str(row["Id"])

    # -- Bulk API 2.0 ------------------------------------------------------------------------

    def _job_info(self, version: str, job: _QueryJob | _IngestJob) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": job.id, "operation": job.operation, "object": job.obj, "createdById": self.user_id,
            "createdDate": job.created, "systemModstamp": job.created, "state": job.state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(version),
            "lineEnding": "LF", "columnDelimiter": "COMMA", "retries": 0, "totalProcessingTime": 0,
        }
        if isinstance(job, _QueryJob):
            info["jobType"] = "V2Query"
            info["numberRecordsProcessed"] = len(job.rows) if job.state == "JobComplete" else 0
        else:
            info["jobType"] = "V2Ingest"
            info["contentUrl"] = f"services/data/v{version}/jobs/ingest/{job.id}/batches"
            info["numberRecordsProcessed"] = job.processed
            info["numberRecordsFailed"] = len(job.failed)
            if job.state == "Failed" and job.error_message:
                info["errorMessage"] = job.error_message
            info["lineEnding"] = job.line_ending
            if job.external_id:
                info["externalIdFieldName"] = job.external_id
        return info

    def _bulk_query(self, method: str, version: str, rest: list[str], params: dict[str, str],
                    body: bytes) -> _Response:
        if not rest and method == "POST":
            payload = _json_body(body)
            operation = payload.get("operation", "query")
            if operation not in {"query", "queryAll"}:
                raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
            query, sobj, fields, ids = self._select(str(payload.get("query", "")), operation == "queryAll")
            if query.count:
                raise ApiError(400, "INVALIDJOB", "Aggregate queries are not supported by Bulk API 2.0")
            compound = [n for n in fields if sobj.fields[n].type == "address"]
            if compound:
                raise ApiError(400, "INVALIDJOB", f"Compound fields are not supported by Bulk API 2.0: {compound[0]}")
            rows = [[_csv_value(sobj.fields[n], sobj.rows[i].get(n)) for n in fields] for i in ids]
            created = _QueryJob(self._next_serial("750"), sobj.name, query=str(payload["query"]),
                                operation=operation, header=fields, rows=rows,
                                created=_fmt_rest_datetime(self._tick()), polls_left=self.bulk_polls_in_progress)
            self._query_jobs[created.id] = created
            return _json_response(200, self._job_info(version, created))
        if not rest:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        job = self._query_jobs.get(rest[0])
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rest) == 1 and method == "GET":
            if job.state in {"UploadComplete", "InProgress"}:
                if job.polls_left > 0:
                    job.polls_left -= 1
                    job.state = "InProgress"
                else:
                    job.state = "JobComplete"
            return _json_response(200, self._job_info(version, job))
        if len(rest) == 1 and method == "PATCH":
            job.state = str(_json_body(body).get("state", job.state))
            return _json_response(200, self._job_info(version, job))
        if len(rest) == 1 and method == "DELETE":
            del self._query_jobs[job.id]
            return _Response(204)
        if rest[1:] == ["results"] and method == "GET":
            if job.state != "JobComplete":
                raise ApiError(400, "INVALIDJOB", "Job is not complete")
            start = int(base64.b64decode(params["locator"] + "==").decode()) if params.get("locator") else 0
            size = int(params.get("maxRecords") or BULK_RESULTS_DEFAULT)
            chunk = job.rows[start : start + size]
            end = start + len(chunk)
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writerow(job.header)
            writer.writerows(chunk)
            locator = base64.b64encode(str(end).encode()).decode().rstrip("=") if end < len(job.rows) else "null"
            return _Response(200, buf.getvalue().encode("utf-8"), "text/csv",
                             {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(chunk))})
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _bulk_ingest(self, method: str, version: str, rest: list[str], body: bytes) -> _Response:
        if not rest and method == "POST":
            payload = _json_body(body)
            operation = payload.get("operation")
            if operation not in {"insert", "update", "delete", "hardDelete", "upsert"}:
                raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
            sobj = self._sobject(str(payload.get("object", "")))
            delimiters = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
            ingest = _IngestJob(self._next_serial("750"), sobj.name, operation, _fmt_rest_datetime(self._tick()),
                                delimiters.get(str(payload.get("columnDelimiter", "COMMA")), ","),
                                str(payload.get("lineEnding", "LF")), payload.get("externalIdFieldName"),
                                polls_left=self.bulk_polls_in_progress)
            self._ingest_jobs[ingest.id] = ingest
            return _json_response(200, self._job_info(version, ingest))
        if not rest:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        job = self._ingest_jobs.get(rest[0])
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        tail = rest[1:]
        if tail == ["batches"] and method == "PUT":
            if job.state != "Open":
                raise ApiError(400, "INVALIDJOB", "Job is not open for data upload")
            job.data.append(body.decode("utf-8-sig"))
            return _Response(201)
        if not tail and method == "PATCH":
            state = str(_json_body(body).get("state", ""))
            if state == "UploadComplete" and job.state == "Open":
                job.state = "UploadComplete"
                self._process_ingest(version, job)
            elif state == "Aborted":
                if job.state in {"Open", "UploadComplete", "InProgress"}:
                    job.state = "Aborted"
            else:
                raise ApiError(400, "INVALIDJOB", f"Cannot change job state to {state}")
            return _json_response(200, self._job_info(version, job))
        if not tail and method == "GET":
            if job.state in {"UploadComplete", "InProgress"}:
                if job.polls_left > 0:
                    job.polls_left -= 1
                    job.state = "InProgress"
                else:
                    job.state = "Failed" if job.error_message else "JobComplete"
            return _json_response(200, self._job_info(version, job))
        if not tail and method == "DELETE":
            del self._ingest_jobs[job.id]
            return _Response(204)
        if len(tail) == 1 and method == "GET":
            kind = tail[0].lower()
            header = list(job.header)
            if kind == "successfulresults":
                return _csv_response(["sf__Id", "sf__Created", *header], job.successful)
            if kind == "failedresults":
                return _csv_response(["sf__Id", "sf__Error", *header], job.failed)
            if kind == "unprocessedrecords":
                return _csv_response(header, job.unprocessed)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _process_ingest(self, version: str, job: _IngestJob) -> None:
        """Apply an uploaded ingest job at once (the real service takes seconds to minutes)."""
        sobj = self._objects[job.obj]
        rows: list[list[str]] = []
        for chunk in job.data:
            reader = csv.reader(io.StringIO(chunk), delimiter=job.delimiter)
            chunk_rows = list(reader)
            if not chunk_rows:
                continue
            if not job.header:
                job.header = chunk_rows[0]
            rows.extend(chunk_rows[1:])
        fault = self._take_fault(f"/services/data/v{version}/jobs/ingest/{job.id}", {"partial_failure"})
        stop = self._take_fault(f"/services/data/v{version}/jobs/ingest/{job.id}", {"job_failed"})
        id_col = next((i for i, h in enumerate(job.header) if h.lower() == "id"), None)
        for index, values in enumerate(rows):
            if stop is not None and index >= len(rows) // 2:
                # Bulk API 2.0: a job that fails after its internal retries keeps what it processed;
                # the rest is listed by unprocessedrecords and the job ends "Failed".
                job.unprocessed.append(values)
                job.error_message = "InternalServerError : retried 10 times"
                continue
            record = dict(zip(job.header, values, strict=False))
            rid = values[id_col] if id_col is not None and id_col < len(values) else ""
            try:
                if fault is not None and _fault_hits(fault, index, rid):
                    raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                      "Record blocked by validation rule Steward_Review_Required", [])
                if job.operation == "update":
                    # Bulk CSV: empty cell = leave as is, #N/A = set to null.
                    changes = {k: (None if v == "#N/A" else v) for k, v in record.items()
                               if k.lower() != "id" and v != ""}
                    target = self._plan_update(sobj, rid, changes)
                    # Bulk API 2.0 takes no Duplicate Rule Header: allowSave keeps its default, false
                    self._check_duplicates(version, sobj, {**target[1], **target[2]}, rid, False, target[2])
                    new_id, created = self._apply_update(target), False
                elif job.operation == "insert":
                    fields = {k: (None if v in {"", "#N/A"} else v) for k, v in record.items()}
                    checked = self._validate_changes(sobj, fields, creating=True)
                    self._check_duplicates(version, sobj, checked, None, False)
                    new_id, created = self._insert(sobj, {}, checked), True
                elif job.operation in {"delete", "hardDelete"}:
                    new_id, created = self._apply_delete((sobj, self._existing(sobj, rid))), False
                else:
                    raise RecordError("INVALIDJOB", f"operation {job.operation} is not emulated")
                job.successful.append([new_id, "true" if created else "false", *values])
            except RecordError as err:
                text = f"{err.code}:{err.message}:{','.join(err.fields)} --"
                job.failed.append([rid, text, *values])
            except ApiError as err:
                job.failed.append([rid, f"{err.code}:{err.message}: --", *values])
            job.processed += 1

    # -- OAuth and SOAP ----------------------------------------------------------------------

    def _oauth_token(self, body: bytes) -> _Response:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")

        def deny(error: str, description: str) -> _Response:
            return _json_response(400, {"error": error, "error_description": description})

        if grant == "password":
            if form.get("client_id") != self.consumer_key or form.get("client_secret") != self.consumer_secret:
                return deny("invalid_client_id", "client identifier invalid")
            if form.get("username") != self.username or form.get("password") not in {
                    self.password, self.password + self.security_token}:
                return deny("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            if form.get("client_id") != self.consumer_key or form.get("client_secret") != self.consumer_secret:
                return deny("invalid_client", "invalid client credentials")
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = self._check_jwt(form.get("assertion", ""))
            if problem:
                return deny("invalid_grant", problem)
        else:
            return deny("unsupported_grant_type", "grant type not supported")
        sid = self._issue_session()
        return _json_response(200, {
            "access_token": sid, "instance_url": self.instance_url,
            "id": f"{self.login_url}/id/{self.org_id}/{self.user_id}", "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)), "scope": "api",
        })

    def _check_jwt(self, assertion: str) -> str | None:
        """Why a JWT bearer assertion is refused, or None when it is acceptable."""
        import jwt  # PyJWT, a dependency of simple-salesforce

        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return "invalid assertion"
        issuer = claims.get("iss")
        if issuer not in self._jwt_keys:
            return "invalid client credentials"
        key = self._jwt_keys[issuer]
        if key is not None:
            try:
                jwt.decode(assertion, key, algorithms=["RS256"], options={"verify_aud": False})
            except jwt.PyJWTError:
                return "invalid signature"
        if claims.get("sub") != self.username:
            return "user hasn't approved this consumer"
        if claims.get("aud") not in JWT_AUDIENCES:
            return "audience is invalid"  # aud names the login server, never a My Domain
        try:
            if float(claims.get("exp", 0)) < time.time():
                return "expired authorization code"
        except (TypeError, ValueError):
            return "invalid assertion"
        return None

    def _soap_login(self, body: bytes) -> _Response:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return _soap_fault("soapenv:Client", "Element type is malformed", "INVALID_LOGIN")
        username = password = ""
        for el in root.iter():
            if _local(el.tag) == "username":
                username = el.text or ""
            elif _local(el.tag) == "password":
                password = el.text or ""
        if username != self.username or password not in {self.password + self.security_token, self.password}:
            return _soap_fault("sf:INVALID_LOGIN",
                               "INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
                               "INVALID_LOGIN")
        sid = self._issue_session()
        server_url = f"{self.instance_url}/services/Soap/u/{self.api_version}/{self.org_id[:15]}"
        result = (f"<metadataServerUrl>{self.instance_url}/services/Soap/m/{self.api_version}/{self.org_id[:15]}"
                  f"</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
                  f"<serverUrl>{server_url}</serverUrl><sessionId>{sid}</sessionId><userId>{self.user_id}</userId>"
                  f"<userInfo><organizationId>{self.org_id}</organizationId><userName>{xml_escape(self.username)}"
                  f"</userName></userInfo>")
        return _soap_ok(f"<loginResponse><result>{result}</result></loginResponse>")

    def _soap(self, body: bytes) -> _Response:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as err:
            return _soap_fault("soapenv:Client", f"Element type is malformed: {err}", "INVALID_XML")
        op_el = _soap_body_child(root)
        if op_el is None or _local(op_el.tag) != "merge":
            name = _local(op_el.tag) if op_el is not None else "?"
            return _soap_fault("sf:INVALID_OPERATION", f"INVALID_OPERATION: {name} is not emulated", "INVALID_OPERATION")
        requests_ = [c for c in op_el if _local(c.tag) == "request"]
        if len(requests_) > 200:
            return _soap_fault("sf:EXCEEDED_ID_LIMIT", "EXCEEDED_ID_LIMIT: merge allows at most 200 requests",
                               "EXCEEDED_ID_LIMIT")
        with self._lock:
            fault = self._take_fault("/services/Soap/u/merge", {"partial_failure"})
            if self._ref_stamp != self._last_stamp:
                self._ref_index = None  # a record changed since the last merge call: scan again
            try:
                results = [self._merge_one(req, fault is not None and _fault_hits(fault, i, ""))
                           for i, req in enumerate(requests_)]
            except BaseException:
                self._ref_index = None
                raise
            self._ref_stamp = self._last_stamp  # the index holds every change this call made
        return _soap_ok(f"<mergeResponse>{''.join(results)}</mergeResponse>")

    def _merge_one(self, request: ET.Element, blocked: bool) -> str:
        master_el = next((c for c in request if _local(c.tag) == "masterRecord"), None)
        loser_ids = [(c.text or "").strip() for c in request if _local(c.tag) == "recordToMergeIds"]
        master_id = ""
        try:
            if master_el is None:
                raise RecordError("REQUIRED_FIELD_MISSING", "masterRecord is required")
            obj = ""
            values: dict[str, Any] = {}
            to_null: list[str] = []
            for child in master_el:
                name = _local(child.tag)
                if name == "type":
                    obj = (child.text or "").strip()
                elif name == "Id":
                    master_id = (child.text or "").strip()
                elif name == "fieldsToNull":
                    to_null.append((child.text or "").strip())
                else:
                    values[name] = child.text or ""
            try:
                sobj = self._sobject(obj)
            except ApiError:
                raise RecordError("INVALID_TYPE", f"sObject type '{obj}' is not supported") from None
            if sobj.name not in _MERGEABLE:
                raise RecordError("INVALID_TYPE", f"Cannot merge records of type {sobj.name}")
            if not loser_ids:
                raise RecordError("REQUIRED_FIELD_MISSING", "recordToMergeIds is required")
            if len(loser_ids) > MERGE_MAX_LOSERS:
                raise RecordError("LIMIT_EXCEEDED", "A merge request can merge at most 2 records into the master")
            master = self._existing(sobj, master_id)
            losers = [self._existing(sobj, rid) for rid in loser_ids]
            if any(normalize_id(rid) == master["Id"] for rid in loser_ids):
                raise RecordError("INVALID_ID_FIELD", "The master record cannot also be a record to merge")
            if blocked:
                raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                  "Merge blocked by validation rule Steward_Review_Required")
            changes = self._validate_changes(sobj, values, creating=False)
            for name in to_null:
                f = sobj.field(name)
                if not f.updateable:
                    raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {f.name}",
                                      [f.name])
                if not f.nillable:
                    raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{f.name}]", [f.name])
                changes[f.name] = None
        except (RecordError, ApiError) as err:
            code, message = err.code, err.message
            fields = "".join(f"<fields>{xml_escape(f)}</fields>" for f in getattr(err, "fields", []))
            return (f"<result><errors>{fields}<message>{xml_escape(message)}</message><statusCode>{code}</statusCode>"
                    f"</errors><id xsi:nil=\"true\"/><success>false</success></result>")
        master.update(changes)
        self._touch(master)
        if self._ref_index is not None:  # a lookup the merge wrote on the master
            for name, value in changes.items():
                if value and sobj.fields[name].type == "reference" and str(value)[:3] in self._ref_prefixes:
                    self._ref_index.setdefault(normalize_id(str(value)), []).append((sobj, str(master["Id"]), name))
        for loser in losers:
            loser["IsDeleted"] = "true"
            loser["MasterRecordId"] = master["Id"]
            self._touch(loser)
        related = self._reparent({str(loser["Id"]) for loser in losers}, str(master["Id"]))
        merged = "".join(f"<mergedRecordIds>{loser['Id']}</mergedRecordIds>" for loser in losers)
        moved = "".join(f"<updatedRelatedIds>{rid}</updatedRelatedIds>" for rid in related)
        return f"<result><id>{master['Id']}</id>{merged}{moved}<success>true</success></result>"

    def _reparent(self, loser_ids: set[str], master_id: str) -> list[str]:
        """A merge moves the merged-away records' related records (a lookup such as Contact.AccountId,
        Opportunity.AccountId, Case.AccountId / ContactId) to the master; their ids, as MergeResult's
        updatedRelatedIds (SOAP API Developer Guide, "merge()")."""
        prefixes = {rid[:3] for rid in loser_ids}
        if self._ref_index is None or not prefixes <= self._ref_prefixes:
            self._ref_index, self._ref_prefixes = self._reference_index(prefixes), prefixes
        index = self._ref_index
        moved: list[str] = []
        seen: set[str] = set()
        for loser in sorted(loser_ids):
            for sobj, rid, name in index.pop(loser, []):
                row = sobj.rows[rid]
                if not sobj.live(row) or normalize_id(str(row.get(name) or "")) != loser:
                    continue  # deleted, or changed since the index was built
                row[name] = master_id
                index.setdefault(master_id, []).append((sobj, rid, name))
                if rid not in seen:
                    seen.add(rid)
                    self._touch(row)
                    moved.append(rid)
        return moved

    def _reference_index(self, prefixes: set[str]) -> dict[str, list[tuple[SObject, str, str]]]:
        """Every updateable lookup value (Contact.AccountId, Case.ContactId …) that points to an object of the
        merged records' key ``prefixes`` (an id's first three characters name its object: 001 Account, 003
        Contact) → the rows and fields holding it (see ``_ref_index``)."""
        index: dict[str, list[tuple[SObject, str, str]]] = {}
        for sobj in self._objects.values():
            refs = [f.name for f in sobj.fields.values() if f.type == "reference" and f.updateable]
            if not refs:
                continue
            for rid in sobj.order:
                row = sobj.rows[rid]
                for name in refs:
                    value = row.get(name)
                    if value and str(value)[:3] in prefixes:
                        index.setdefault(normalize_id(str(value)), []).append((sobj, rid, name))
        return index


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _aggregate(query: SoqlQuery, sobj: SObject, ids: Sequence[str]) -> list[dict[str, Any]]:
    """``SELECT f, COUNT(Id) [alias] FROM … GROUP BY f``: one AggregateResult per group; an unnamed aggregate is
    ``expr0``, ``expr1`` … (SOQL and SOSL Reference, "GROUP BY" and "Using Aliases with GROUP BY")."""
    group_fields = [sobj.field(name).name for name in query.group_by]
    selected = [sobj.field(name).name for name in query.fields]
    if any(name not in group_fields for name in selected):
        raise _malformed("field must be grouped or aggregated")
    groups: dict[tuple[str | None, ...], list[str]] = {}
    for rid in ids:
        groups.setdefault(tuple(sobj.rows[rid].get(f) for f in group_fields), []).append(rid)
    out = []
    for key, members in groups.items():
        rec: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        rec.update({f: v for f, v in zip(group_fields, key, strict=True) if f in selected})
        for i, (func, fname, alias) in enumerate(query.aggregates):
            f = sobj.field(fname).name if fname else None
            if func != "COUNT":
                raise _malformed(f"aggregate {func} is not supported by the emulator")
            rec[alias or f"expr{i}"] = sum(1 for rid in members if f is None or sobj.rows[rid].get(f) is not None)
        out.append(rec)
    return out


def _no_duplicate(record_id: str, seen: set[str]) -> None:
    key = normalize_id(record_id)
    if key in seen:
        raise RecordError("DUPLICATE_VALUE", f"duplicate id in list: {record_id}", ["Id"])
    seen.add(key)


def _fault_hits(fault: _Fault, index: int, record_id: str) -> bool:
    if fault.fail_ids is not None:
        return bool(record_id) and normalize_id(record_id) in fault.fail_ids
    return index % 2 == 1


def _header_flags(header: str) -> dict[str, str]:
    """``allowSave=true; runAsCurrentUser=false`` as {"allowsave": "true", ...} (names lower-cased)."""
    out = {}
    for part in re.split(r"[;,]", header):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip().lower()
    return out


def _batch_size(header: str, maximum: int) -> int:
    m = re.search(r"batchSize\s*=\s*(\d+)", header)
    if not m:
        return maximum
    return max(QUERY_BATCH_MIN, min(int(m.group(1)), maximum))


def _json_body(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character in JSON body: {err}") from None


def _csv_response(header: list[str], rows: list[list[str]]) -> _Response:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return _Response(200, buf.getvalue().encode("utf-8"), "text/csv")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _soap_body_child(root: ET.Element) -> ET.Element | None:
    body = next((el for el in root if _local(el.tag) == "Body"), None)
    if body is None:
        return None
    return next(iter(body), None)


def _soap_operation(body: bytes) -> str:
    try:
        child = _soap_body_child(ET.fromstring(body))
    except ET.ParseError:
        return ""
    return _local(child.tag) if child is not None else ""


def _soap_session_id(body: bytes) -> str | None:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        if _local(el.tag) == "sessionId":
            return (el.text or "").strip()
    return None


def _soap_envelope(inner: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
            f'xmlns="{PARTNER_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:fault.partner'
            f'.soap.sforce.com"><soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>').encode()


def _soap_ok(inner: str) -> _Response:
    return _Response(200, _soap_envelope(inner), "text/xml;charset=UTF-8")


def _soap_fault(code: str, message: str, exception_code: str) -> _Response:
    inner = (f"<soapenv:Fault><faultcode>{code}</faultcode><faultstring>{xml_escape(message)}</faultstring><detail>"
             f'<sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>{exception_code}'
             f"</sf:exceptionCode><sf:exceptionMessage>{xml_escape(message.split(': ', 1)[-1])}</sf:exceptionMessage>"
             f"</sf:UnexpectedErrorFault></detail></soapenv:Fault>")
    return _Response(500, _soap_envelope(inner), "text/xml;charset=UTF-8")


# ---------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------


class _Server(KeepAliveServer):
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 emulator: SalesforceEmulator, ssl_context: ssl.SSLContext | None) -> None:
        self.emulator = emulator
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def wrap_socket(self, sock: socket.socket) -> Any:
        if self.ssl_context is None:
            return sock
        # Handshake later, in the worker thread, so a slow client cannot stall accept().
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # dropped connections and failed handshakes are expected in fault tests


class _Handler(EmulatorHandler):  # keep-alive: one TLS handshake per client connection, not per request
    server_version = "SFDC"
    timeout = 60

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: _Server = self.server  # type: ignore[assignment]
        response = server.emulator.handle(self.command, self.path, dict(self.headers.items()), body)
        if response.drop:
            time.sleep(response.delay)  # after logging, so the log shows requests in arrival order
            self.close_connection = True
            return
        self.send_response(response.status)
        if response.body or response.status not in (204,):
            self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
