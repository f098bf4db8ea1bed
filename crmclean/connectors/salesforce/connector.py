"""Salesforce connector: read, fetch and write one sObject through simple-salesforce.

Every call goes through the real simple-salesforce library (REST query/queryMore, sObject
Collections via ``restful``, Bulk API 2.0 via its bulk2 client); only the SOAP ``merge`` call,
which simple-salesforce does not wrap, is posted by hand on the same ``requests`` session.

Credentials (environment variables, or the same keys in ``options.credentials_file`` — YAML,
JSON or ``.env`` style; keys may omit the ``SALESFORCE_`` prefix; the file wins over the env):

* a session: ``SALESFORCE_INSTANCE_URL`` + ``SALESFORCE_SESSION_ID``
  (cannot be renewed: when it expires the run stops with a clear message);
* username/password: ``SALESFORCE_USERNAME`` + ``SALESFORCE_PASSWORD`` (+ ``SALESFORCE_SECURITY_TOKEN``
  unless the org trusts your IP); with ``SALESFORCE_CONSUMER_KEY`` + ``SALESFORCE_CONSUMER_SECRET``
  the OAuth password grant is used instead of SOAP login;
* JWT bearer: ``SALESFORCE_CONSUMER_KEY`` + ``SALESFORCE_PRIVATE_KEY_FILE`` + ``SALESFORCE_USERNAME``.
* OAuth client credentials: ``SALESFORCE_CONSUMER_KEY`` + ``SALESFORCE_CONSUMER_SECRET`` (no username), with
  ``SALESFORCE_DOMAIN`` set to the org's My Domain.

Optional: ``SALESFORCE_DOMAIN`` (``login``, ``test`` for sandboxes, or a My Domain as simple-salesforce takes it:
``acme.my`` for https://acme.my.salesforce.com), ``SALESFORCE_JWT_AUDIENCE`` (the JWT ``aud``: the login server,
https://login.salesforce.com or https://test.salesforce.com, chosen from the domain when absent),
``SALESFORCE_LOGIN_URL`` (full https URL of the login server, e.g. an emulator),
``SALESFORCE_API_VERSION`` (default 59.0), ``SALESFORCE_CA_BUNDLE`` (PEM file of extra trusted CAs),
``SALESFORCE_TIMEOUT`` (seconds per HTTP request, default 120).

Limits: transient failures (429, 503, REQUEST_LIMIT_EXCEEDED, timeouts) are retried with jittered
backoff honouring Retry-After; an expired session is renewed once per call when the credentials
allow a login; the run never spends more than ``options.api_share`` of the org's DailyApiRequests.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlsplit
from xml.sax.saxutils import escape as xml_escape

import polars as pl
import requests
from simple_salesforce import Salesforce, SFType
from simple_salesforce.bulk2 import Operation, _Bulk2Client
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.login import SalesforceLogin, token_login

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
    Retry,
    TransientConnectorError,
    call_with_retry,
    parse_retry_after,
    read_credentials_file,
)
from crmclean.errors import ConnectorError, UsageError

T = TypeVar("T")

DEFAULT_API_VERSION = "59.0"
DEFAULT_TIMEOUT = 120.0
BULK_READ_THRESHOLD = 10_000  # bulk=auto: Bulk API 2.0 above this many matching records
BULK_WRITE_THRESHOLD = 10_000  # bulk=auto: Bulk API 2.0 ingest above this many updates
REST_QUERY_BATCH = 2000  # the most Salesforce returns per REST query page
COLLECTION_WRITE_MAX = 200  # sObject Collections create/update/delete
COLLECTION_RETRIEVE_MAX = 2000  # sObject Collections retrieve
BULK_RESULTS_PAGE = 50_000  # rows per Bulk API 2.0 results download (one DataFrame each)
BULK_JOB_MAX_RECORDS = 100_000  # rows per ingest job (keeps each CSV upload far below 100 MB)
MERGE_LOSERS_PER_CALL = 2  # SOAP merge: a master and at most two records to merge into it
COMPOUND_TYPES = frozenset({"address", "location", "base64"})  # not selectable by Bulk, not flat values
TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "TOO_MANY_REQUESTS"})
SESSION_CODES = frozenset({"INVALID_SESSION_ID"})
_OBJECT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_UTC_SUFFIX = re.compile(r"(?:\+0000|\+00:00)$")

_CREDENTIAL_KEYS = (
    "INSTANCE_URL", "SESSION_ID", "USERNAME", "PASSWORD", "SECURITY_TOKEN", "DOMAIN", "CONSUMER_KEY",
    "CONSUMER_SECRET", "PRIVATE_KEY_FILE", "LOGIN_URL", "API_VERSION", "CA_BUNDLE", "TIMEOUT", "JWT_AUDIENCE",
)


# ---------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesforceCredentials:
    """What the connector may log in with; secrets are kept out of repr()."""

    instance_url: str | None = None
    session_id: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    domain: str = "login"
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)
    private_key_file: str | None = None
    jwt_audience: str | None = None  # JWT "aud": the login server (login/test), not the token host
    login_url: str | None = None
    api_version: str = DEFAULT_API_VERSION
    ca_bundle: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def login_flow(self) -> str | None:
        """"jwt", "oauth_password", "client_credentials", "soap_password", or None when only a session is known."""
        if self.username and self.consumer_key and self.private_key_file:
            return "jwt"
        if self.username and self.password and self.consumer_key and self.consumer_secret:
            return "oauth_password"
        if self.consumer_key and self.consumer_secret and not self.password:
            return "client_credentials"  # the connected app's run-as user; no SOAP login (gone from API 65.0)
        if self.username and self.password:
            return "soap_password"
        return None

    @property
    def has_session(self) -> bool:
        return bool(self.instance_url and self.session_id)

    def secrets(self) -> list[str]:
        return [s for s in (self.session_id, self.password, self.security_token, self.consumer_secret) if s]


def load_credentials(options: ConnectorOptions, env: Mapping[str, str] | None = None) -> SalesforceCredentials:
    """Merge the credentials file (if any) over the environment; raise ConnectorError if unusable."""
    values: dict[str, str] = {}
    source = os.environ if env is None else env
    for key in _CREDENTIAL_KEYS:
        value = source.get(f"SALESFORCE_{key}")
        if value:
            values[key] = value
    if options.credentials_file:
        values.update(_read_credentials_file(Path(options.credentials_file)))

    def url(key: str) -> str | None:
        value = values.get(key)
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith("https://"):
            raise ConnectorError(f"SALESFORCE_{key} must be an https:// URL (Salesforce only speaks HTTPS)")
        return value

    try:
        timeout = float(values.get("TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        raise ConnectorError("SALESFORCE_TIMEOUT must be a number of seconds") from None
    creds = SalesforceCredentials(
        instance_url=url("INSTANCE_URL"),
        session_id=values.get("SESSION_ID"),
        username=values.get("USERNAME"),
        password=values.get("PASSWORD"),
        security_token=values.get("SECURITY_TOKEN"),
        domain=values.get("DOMAIN", "login"),
        consumer_key=values.get("CONSUMER_KEY"),
        consumer_secret=values.get("CONSUMER_SECRET"),
        private_key_file=values.get("PRIVATE_KEY_FILE"),
        jwt_audience=url("JWT_AUDIENCE"),
        login_url=url("LOGIN_URL"),
        api_version=values.get("API_VERSION", DEFAULT_API_VERSION).lstrip("vV"),
        ca_bundle=values.get("CA_BUNDLE"),
        timeout=timeout,
    )
    if creds.session_id and not creds.instance_url and creds.login_flow is None:
        raise ConnectorError("SALESFORCE_SESSION_ID is set but SALESFORCE_INSTANCE_URL is not; set both")
    if not creds.has_session and creds.login_flow is None:
        partial_hint = ""
        if creds.username and not creds.password and not creds.private_key_file:
            partial_hint = " (SALESFORCE_USERNAME is set: add SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN)"
        raise ConnectorError(
            "no Salesforce credentials: set SALESFORCE_INSTANCE_URL and SALESFORCE_SESSION_ID, or "
            "SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, or SALESFORCE_CONSUMER_KEY, "
            "SALESFORCE_PRIVATE_KEY_FILE and SALESFORCE_USERNAME (or name a credentials file)" + partial_hint
        )
    if creds.private_key_file and not Path(creds.private_key_file).is_file():
        raise ConnectorError(f"SALESFORCE_PRIVATE_KEY_FILE {creds.private_key_file}: no such file")
    if creds.ca_bundle and not Path(creds.ca_bundle).is_file():
        raise ConnectorError(f"SALESFORCE_CA_BUNDLE {creds.ca_bundle}: no such file")
    return creds


def _read_credentials_file(path: Path) -> dict[str, str]:
    """SALESFORCE_* keys of a credentials file (see :func:`crmclean.connectors.http.read_credentials_file`)."""
    out: dict[str, str] = {}
    for key, value in read_credentials_file(path, "salesforce").items():
        name = key.strip().upper().replace("-", "_").removeprefix("SALESFORCE_")
        if name in _CREDENTIAL_KEYS:
            out[name] = str(value)
    return out


# ---------------------------------------------------------------------------------------------
# HTTP session: counting, timeouts, API budget
# ---------------------------------------------------------------------------------------------


class BudgetExhausted(ConnectorError):
    """The run used its share of the org's daily API requests."""


_API_USAGE_RE = re.compile(r"(?:^|[\s,;])api-usage=(\d+)/(\d+)")


class _MeteredSession(requests.Session):
    """A requests session that counts requests, applies a default timeout and enforces the budget.

    simple-salesforce sends everything through the session we hand it, so this one place sees
    every request: queries, bulk jobs, logins and our own SOAP posts — and every answer's
    ``Sforce-Limit-Info: api-usage=used/max``, the org's usage including other clients', which
    moves the budget during the whole run (REST API Developer Guide, "Limit Info Header").
    """

    def __init__(self, timeout: float, ca_bundle: str | None) -> None:
        super().__init__()
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self.request_count = 0  # every HTTP request, logins included
        self.api_calls = 0  # requests that count against the org's API limit (after the budget is known)
        self.budget: int | None = None
        self.budget_message = ""
        self.share = 0.5  # api_share: the part of the org's daily requests this run may use
        self.start_used: int | None = None  # the org's usage when the budget was set
        self.org_used: int | None = None  # the org's usage as the last Sforce-Limit-Info said
        self.org_max: int | None = None
        self.last_retry_after: str | None = None

    def set_budget(self, maximum: int, remaining: int) -> int:
        """Cap this run at ``share`` of the daily maximum, at most what is left; the org's usage from then on
        (ours and other clients') counts against it."""
        budget = min(int(maximum * self.share), remaining)
        self.budget = budget
        self.api_calls = 0
        self.start_used = maximum - remaining
        self.budget_message = (
            f"stopped: this run used its Salesforce API budget of {budget} requests (api_share {self.share:g} of the "
            f"org's {maximum} daily API requests; {remaining} were left when it started); rerun later "
            "(`crmclean apply --resume RUN_ID` continues) or raise --api-share"
        )
        return budget

    def _check_budget(self) -> None:
        if self.budget is None:
            return
        if self.api_calls >= self.budget:
            raise BudgetExhausted(self.budget_message)
        if self.org_used is not None and self.start_used is not None \
                and self.org_used >= self.start_used + self.budget:
            others = max(0, self.org_used - self.start_used - self.api_calls)
            raise BudgetExhausted(
                f"stopped: the org has used {self.org_used} of its {self.org_max} daily API requests "
                f"(Sforce-Limit-Info), {others} of them by other clients during this run: that uses up this run's "
                f"Salesforce API budget of {self.budget} requests (api_share {self.share:g}); rerun later (`crmclean apply --resume RUN_ID` "
                "continues) or raise --api-share"
            )

    def observe(self, headers: Mapping[str, str]) -> None:
        """Follow ``Sforce-Limit-Info: api-usage=used/max``; the first one sets the budget when none is known."""
        m = _API_USAGE_RE.search(headers.get("Sforce-Limit-Info") or "")
        if m is None:
            return
        used, maximum = int(m.group(1)), int(m.group(2))
        self.org_used, self.org_max = used, maximum
        if self.budget is None and maximum > 0:
            self.set_budget(maximum, max(0, maximum - used))
            self.api_calls = 1  # the request that brought the header

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        headers = kwargs.get("headers") or {}
        is_login = "/services/oauth2/" in str(url) or headers.get("SOAPAction") == "login"
        if not is_login and self.budget is not None:
            self._check_budget()
            self.api_calls += 1
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_bundle:
            # Per request: requests lets REQUESTS_CA_BUNDLE override a session-level verify.
            kwargs.setdefault("verify", self.ca_bundle)
        self.request_count += 1
        self.last_retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self.last_retry_after = response.headers.get("Retry-After")
        if not is_login:
            self.observe(response.headers)
        return response


@dataclass(frozen=True)
class _MergeResult:
    success: bool
    errors: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# The connector
# ---------------------------------------------------------------------------------------------


class SalesforceConnector:
    """One sObject of a Salesforce org as a crmclean source and write target."""

    kind = "salesforce"
    id_field = "Id"
    max_batch = COLLECTION_WRITE_MAX
    capabilities = frozenset({"update", "merge", "create", "delete"})

    def __init__(
        self,
        obj: str,
        options: ConnectorOptions | None = None,
        *,
        env: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        timeout: float | None = None,
    ) -> None:
        if not _OBJECT_RE.match(obj):
            raise UsageError(f"salesforce:{obj}: not a Salesforce object name (e.g. salesforce:Contact)")
        self.options = options or ConnectorOptions()
        if self.options.bulk not in {"auto", "always", "never"}:
            raise UsageError(f"--bulk must be auto, always or never, not {self.options.bulk!r}")
        if not 0 < self.options.api_share <= 1:
            raise UsageError(f"--api-share must be above 0 and at most 1, not {self.options.api_share}")
        self.obj = obj
        self.spec = f"salesforce:{obj}"
        self.sleep = sleep  # injectable: tests make backoff instant
        self.max_attempts = max_attempts
        self.base_delay = 1.0
        self.max_delay = 60.0
        self.batch_size = REST_QUERY_BATCH
        self.bulk_threshold = BULK_READ_THRESHOLD
        self.bulk_write_threshold = BULK_WRITE_THRESHOLD
        self.bulk_page_size = BULK_RESULTS_PAGE
        self.bulk_poll_seconds = 2.0
        self.progress: Callable[[int, int], None] | None = None  # set by the caller: progress(done, total)
        self.retry_count = 0
        self.last_read_mode: str | None = None  # "rest" or "bulk", for reports and tests
        self._creds = load_credentials(self.options, env)
        self._http = _MeteredSession(timeout or self._creds.timeout, self._creds.ca_bundle)
        self._sf: Salesforce | None = None
        self._describe_cache: dict[str, Any] | None = None
        self._retried = False

    def __repr__(self) -> str:
        host = urlsplit(self._creds.instance_url or self._creds.login_url or "").netloc or self._creds.domain
        return f"SalesforceConnector({self.spec!r}, auth={self._creds.login_flow or 'session'}, host={host!r})"

    @property
    def request_count(self) -> int:
        """HTTP requests made so far (logins and limit checks included)."""
        return self._http.request_count

    # -- connection, retries, errors ---------------------------------------------------------

    def _client(self) -> Salesforce:
        if self._sf is None:
            if self._creds.has_session:
                self._sf = Salesforce(instance_url=self._creds.instance_url, session_id=self._creds.session_id,
                                      session=self._http, version=self._creds.api_version)
            else:
                self._login()
            self._read_budget()
        assert self._sf is not None
        return self._sf

    def _login(self) -> None:
        """Log in with the configured flow and point a fresh simple-salesforce client at the org."""
        c = self._creds
        flow = c.login_flow
        if flow is None:
            raise ConnectorError("the Salesforce session expired or is invalid (INVALID_SESSION_ID); export a fresh "
                                 "SALESFORCE_SESSION_ID, or set SALESFORCE_USERNAME/SALESFORCE_PASSWORD/"
                                 "SALESFORCE_SECURITY_TOKEN so crmclean can log in again")
        try:
            session_id, instance = call_with_retry(
                partial(self._login_once, flow), classify=self._classify_login, max_attempts=self.max_attempts,
                sleep=self.sleep, base_delay=self.base_delay, max_delay=self.max_delay,
            )
        except SalesforceAuthenticationFailed as err:
            detail = self._scrub(f"{err.code}: {err.auth_message}" if err.code else err.auth_message)
            raise ConnectorError(f"Salesforce login failed for {c.username} ({flow}): {detail}") from None
        except requests.RequestException as err:
            where = c.login_url or f"https://{c.domain}.salesforce.com"
            raise ConnectorError(f"cannot reach the Salesforce login server {where} ({type(err).__name__})") from None
        self._sf = Salesforce(instance=instance, session_id=session_id, session=self._http, version=c.api_version)

    def _login_once(self, flow: str) -> tuple[str, str]:
        c = self._creds
        base = c.login_url or f"https://{c.domain}.salesforce.com"
        if flow == "client_credentials":
            # OAuth 2.0 client credentials: only from the org's My Domain (SALESFORCE_DOMAIN=acme.my)
            assert c.consumer_key is not None
            data = {"grant_type": "client_credentials", "client_id": c.consumer_key,
                    "client_secret": c.consumer_secret}
            return token_login(f"{base}/services/oauth2/token", data, c.domain, c.consumer_key, None, None,
                               self._http)
        assert c.username is not None
        if flow == "jwt":
            assert c.consumer_key and c.private_key_file
            if not c.login_url and c.domain in ("login", "test") and not c.jwt_audience:
                return SalesforceLogin(username=c.username, consumer_key=c.consumer_key,
                                       privatekey_file=c.private_key_file, domain=c.domain, session=self._http,
                                       sf_version=c.api_version)
            import jwt  # PyJWT, a dependency of simple-salesforce

            try:
                key = Path(c.private_key_file).read_bytes()
            except OSError as err:
                raise ConnectorError(f"cannot read SALESFORCE_PRIVATE_KEY_FILE {c.private_key_file}: "
                                     f"{err.strerror}") from None
            # the token may come from a My Domain host, but "aud" names the login server
            sandbox = c.domain == "test" or ".sandbox." in f".{c.domain}."
            audience = c.jwt_audience or ("https://test.salesforce.com" if sandbox else "https://login.salesforce.com")
            claims = {"iss": c.consumer_key, "sub": c.username, "aud": audience, "exp": int(time.time()) + 180}
            assertion = jwt.encode(claims, key, algorithm="RS256")
            return token_login(f"{base}/services/oauth2/token",
                               {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
                               c.domain, c.consumer_key, None, None, self._http)
        if flow == "oauth_password":
            assert c.consumer_key and c.password is not None
            data = {"grant_type": "password", "client_id": c.consumer_key, "client_secret": c.consumer_secret,
                    "username": c.username, "password": c.password + (c.security_token or "")}
            return token_login(f"{base}/services/oauth2/token", data, c.domain, c.consumer_key, None, None,
                               self._http)
        return SalesforceLogin(username=c.username, password=c.password, security_token=c.security_token or "",
                               domain=c.domain, sf_version=c.api_version, session=self._http,
                               scratch_url=c.login_url)

    def _classify_login(self, exc: BaseException) -> Retry | None:
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return Retry(reason="timeout")
        if isinstance(exc, SalesforceAuthenticationFailed) and exc.code in {429, 502, 503, 504}:
            return Retry(reason=str(exc.code))
        return None

    def _read_budget(self) -> None:
        """Read DailyApiRequests once and cap this run at ``api_share`` of the daily maximum; from then on every
        answer's ``Sforce-Limit-Info`` moves the org's usage (see :class:`_MeteredSession`)."""
        self._http.share = self.options.api_share
        self._http.budget = None
        try:
            limits = self._call("limits", lambda sf: sf.limits())
            daily = (limits or {}).get("DailyApiRequests") or {}
            maximum, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
        except ConnectorError as err:
            if "INSUFFICIENT_ACCESS" not in str(err) and "403" not in str(err):
                raise
            # /limits needs "View Setup and Configuration", which least-privilege integration users lack:
            # the budget then comes from the Sforce-Limit-Info header of an ordinary request.
            logging.getLogger(__name__).info("Salesforce /limits refused (%s); reading the budget from Sforce-Limit-Info", err)
            self._call("limits", lambda sf: sf.restful("sobjects", method="GET"))
            if self._http.budget is None or self._http.org_max is None:
                return  # budget unknown; Salesforce's own REQUEST_LIMIT_EXCEEDED will stop us
            maximum = self._http.org_max
            remaining = max(0, maximum - (self._http.org_used or 0))
        if maximum <= 0:
            return  # the org did not say; Salesforce's own REQUEST_LIMIT_EXCEEDED will stop us
        budget = self._http.set_budget(maximum, remaining)
        if budget <= 0:
            raise BudgetExhausted(
                f"the Salesforce org has {remaining} of its {maximum} daily API requests left, so a run limited to "
                f"api_share {self.options.api_share:g} cannot start; try again after the 24-hour window rolls over"
            )

    def _classify(self, exc: BaseException, *, idempotent: bool) -> Retry | None:
        if isinstance(exc, ConnectorError):
            return None
        if isinstance(exc, requests.ConnectTimeout):
            return Retry(reason="timeout")  # never reached the server: always safe to resend
        if isinstance(exc, requests.Timeout | requests.ConnectionError):
            # A read timeout may hide a write that did happen: only resend what is safe to repeat.
            return Retry(reason="timeout") if idempotent else None
        if isinstance(exc, SalesforceError):
            code = _error_code(exc.content)
            if not idempotent and exc.status in {502, 504}:
                return None  # a gateway error may come after the write landed: resending could duplicate it
            if exc.status in {429, 502, 503, 504} or code in TRANSIENT_CODES:
                return Retry(after=parse_retry_after(self._http.last_retry_after), reason=code or str(exc.status))
        return None

    def _note_retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        self.retry_count += 1
        self._retried = True

    def _call(self, what: str, fn: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """Run one API step with retries, one re-login on an expired session, and plain-language errors."""
        relogged = False
        while True:
            try:
                return call_with_retry(
                    partial(fn, self._client()), classify=partial(self._classify, idempotent=idempotent),
                    max_attempts=self.max_attempts, sleep=self.sleep, base_delay=self.base_delay,
                    max_delay=self.max_delay, on_retry=self._note_retry,
                )
            except ConnectorError:
                raise
            except SalesforceExpiredSession:
                if relogged:
                    raise ConnectorError("Salesforce rejected a freshly issued session (INVALID_SESSION_ID); "
                                         "check the user's API access and IP restrictions") from None
                self._login()  # without login credentials this raises "export a fresh session id"
                relogged = True
            except SalesforceResourceNotFound as err:
                raise ConnectorError(f"Salesforce {what} failed: {self._explain(err)}") from None
            except SalesforceError as err:
                code = _error_code(err.content)
                if code in TRANSIENT_CODES or err.status in {429, 502, 503, 504}:
                    error = ConnectorError if code == "REQUEST_LIMIT_EXCEEDED" else TransientConnectorError
                    raise error(
                        f"Salesforce kept refusing the {what} request ({code or err.status}) after "
                        f"{self.max_attempts} attempts; the org is over a limit or unavailable, try again later"
                    ) from None
                raise ConnectorError(f"Salesforce {what} failed: {self._explain(err)}") from None
            except SalesforceOperationError as err:
                raise ConnectorError(f"Salesforce bulk job failed during {what}: {self._scrub(str(err))}") from None
            except requests.RequestException as err:
                raise TransientConnectorError(
                    f"Salesforce did not answer the {what} request ({type(err).__name__}) after {self.max_attempts} "
                    "attempts; check the network or try later"
                ) from None

    def _explain(self, err: SalesforceError) -> str:
        content = err.content
        if isinstance(content, list) and content and isinstance(content[0], dict):
            item = content[0]
            text = f"{item.get('errorCode', err.status)}: {item.get('message', '')}".strip()
        elif isinstance(content, bytes | str):
            text = f"HTTP {err.status}: {(content.decode() if isinstance(content, bytes) else content)[:200]}"
        else:
            text = f"HTTP {err.status}"
        return self._scrub(" ".join(text.split()))

    def _scrub(self, text: str) -> str:
        for secret in self._creds.secrets():
            text = text.replace(secret, "***")
        if self._sf is not None and self._sf.session_id:
            text = text.replace(self._sf.session_id, "***")
        return text

    # -- metadata ----------------------------------------------------------------------------

    def _describe(self) -> dict[str, Any]:
        if self._describe_cache is None:
            def describe(sf: Salesforce) -> Any:
                return SFType(self.obj, sf.session_id, sf.sf_instance, sf_version=sf.sf_version, session=sf.session,
                              salesforce=sf).describe()

            try:
                self._describe_cache = self._call("describe", describe)
            except ConnectorError as err:
                if "NOT_FOUND" in str(err):
                    raise ConnectorError(f"Salesforce has no object named {self.obj!r}, or this user cannot see "
                                         "it") from None
                raise
        return self._describe_cache

    def _field_meta(self) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self._describe().get("fields", [])}

    def describe(self) -> list[FieldInfo]:
        out = []
        for f in self._describe().get("fields", []):
            ftype = str(f.get("type", "string"))
            required = (not f.get("nillable", True) and bool(f.get("createable")) and not f.get("defaultedOnCreate")
                        and ftype != "boolean")
            out.append(FieldInfo(
                name=f["name"], label=f.get("label"), type=ftype, updateable=bool(f.get("updateable")),
                required=required,
                picklist=tuple(p["value"] for p in f.get("picklistValues") or [] if p.get("active", True)),
            ))
        return out

    def _resolve_fields(self, requested: Sequence[str] | None) -> list[str]:
        """Canonical API names to select: ``Id`` first, then the requested or all flat fields."""
        meta = self._field_meta()
        if not requested:
            names = [n for n, f in meta.items() if f.get("type") not in COMPOUND_TYPES]
        else:
            lower = {n.lower(): n for n in meta}
            names = []
            for name in requested:
                api = lower.get(name.strip().lower())
                if api is None:
                    raise UsageError(f"{self.spec} has no field {name.strip()!r}")
                names.append(api)
        return ["Id", *[n for n in dict.fromkeys(names) if n != "Id"]]

    # -- reading -----------------------------------------------------------------------------

    def _where(self, where: str | None) -> str | None:
        """The filter to read with: records crmclean must not write are left out unless the filter names the field
        (``DEFAULT_EXCLUSIONS``): converted leads, and Person Accounts when an Account is read.

        A converted lead cannot be updated or merged (CANNOT_UPDATE_CONVERTED_LEAD); a person account is a contact
        and an account in one, and Salesforce refuses to merge it with a business account: reading them would plan
        writes that fail record by record. ``--where "IsPersonAccount = true"`` reads (and deduplicates) person
        accounts among themselves.
        """
        field = DEFAULT_EXCLUSIONS.get(self.obj)
        if field and field in self._field_meta() and not (where and re.search(rf"\b{field}\b", where, re.IGNORECASE)):
            return f"{field} = false AND ({where})" if where else f"{field} = false"
        return where

    def read_pages(self, fields: Sequence[str] | None = None, where: str | None = None) -> Iterator[pl.DataFrame]:
        names = self._resolve_fields(fields or self.options.fields)
        where = self._where(where if where is not None else self.options.where)
        soql = f"SELECT {', '.join(names)} FROM {self.obj}" + (f" WHERE {where}" if where else "")
        mode = self.options.bulk
        if mode == "auto":
            mode = "always" if self.count(where) > self.bulk_threshold else "never"
        if mode == "never" and _query_uri_bytes(soql) > URI_SAFE_BYTES:
            # a REST query carries the SOQL in the GET URI, which Salesforce refuses past 16,384 bytes
            # (414/431, about 540 fields); a Bulk 2.0 query job takes it in a POST body instead
            logging.getLogger(__name__).info("Salesforce: %d fields do not fit in a query URI; reading by Bulk 2.0",
                                             len(names))
            mode = "always"
        self.last_read_mode = "bulk" if mode == "always" else "rest"
        if mode == "always":
            yield from self._bulk_pages(soql, names)
        else:
            yield from self._rest_pages(soql, names)

    def count(self, where: str | None = None) -> int:
        """Records matching ``where`` (SELECT COUNT())."""
        where = self._where(where)
        soql = f"SELECT COUNT() FROM {self.obj}" + (f" WHERE {where}" if where else "")
        return int(self._call("count", lambda sf: sf.query(soql))["totalSize"])

    def _rest_pages(self, soql: str, names: list[str]) -> Iterator[pl.DataFrame]:
        headers = {"Sforce-Query-Options": f"batchSize={self.batch_size}"}
        page = self._call("query", lambda sf: sf.query(soql, headers=headers))
        total, done = int(page.get("totalSize", 0)), 0
        types = self._types(names)
        if total == 0:
            yield _empty_frame(names)
        while True:
            records = page.get("records") or []
            if records:
                done += len(records)
                yield _frame([[_text(r.get(n), types[n]) for n in names] for r in records], names)
                if self.progress is not None:
                    self.progress(done, total)
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._call("query", partial(_query_more, url=next_url, headers=headers))

    def _bulk_client(self, sf: Salesforce) -> _Bulk2Client:
        # The step-level client of simple-salesforce's Bulk 2.0 support: calling each step ourselves
        # lets every HTTP request be retried on its own and results be streamed page by page.
        headers = {"Content-Type": "application/json", "Authorization": "Bearer " + sf.session_id,
                   "X-PrettyPrint": "1"}
        return _Bulk2Client(self.obj, sf.bulk2_url, headers, sf.session)

    def _bulk_results(self, sf: Salesforce, job_id: str, locator: str) -> dict[str, Any]:
        return dict(self._bulk_client(sf).get_query_results(job_id, locator, self.bulk_page_size))

    def _ingest_results(self, sf: Salesforce, job_id: str, kind: str) -> str:
        return self._bulk_client(sf).get_ingest_results(job_id, kind)

    def _wait_for_job(self, job_id: str, is_query: bool, what: str) -> dict[str, Any]:
        """Poll until the job finishes; a query job that did not complete is an error.

        An ingest job that ends ``Failed`` or ``Aborted`` is returned like a complete one: it may have
        written part of its rows, which only its successful/failed/unprocessed results tell.
        """
        delay = self.bulk_poll_seconds
        while True:
            info = self._call(what, lambda sf: self._bulk_client(sf).get_job(job_id, is_query))
            state = info.get("state")
            if state == "JobComplete" or (not is_query and state in {"Failed", "Aborted"}):
                return dict(info)
            if state in {"Failed", "Aborted"}:
                reason = self._scrub(str(info.get("errorMessage") or state))
                raise ConnectorError(f"Salesforce bulk job {job_id} for {what} ended {state}: {reason}")
            self.sleep(delay)
            delay = min(delay * 1.5, 30.0)

    def _bulk_pages(self, soql: str, names: list[str]) -> Iterator[pl.DataFrame]:
        job = self._call("bulk query", lambda sf: self._bulk_client(sf).create_job(Operation.query, soql))
        job_id = str(job["id"])
        info = self._wait_for_job(job_id, True, "bulk query")
        total, done = int(info.get("numberRecordsProcessed") or 0), 0
        types = self._types(names)
        locator = ""
        while True:
            result = self._call("bulk query results", partial(self._bulk_results, job_id=job_id, locator=locator))
            frame = _csv_frame(str(result.get("records") or ""), names, types)
            done += frame.height
            if frame.height or total == 0:
                yield frame
            if self.progress is not None and frame.height:
                self.progress(done, total)
            locator = str(result.get("locator") or "")
            if not locator:
                return

    def _types(self, names: Sequence[str]) -> dict[str, str]:
        meta = self._field_meta()
        return {n: str(meta.get(n, {}).get("type", "string")) for n in names}

    def fetch(self, ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, Record]:
        names = self._resolve_fields(fields or self.options.fields)
        meta = self._field_meta()
        for stamp in ("LastModifiedDate", "SystemModstamp"):
            if stamp in meta and stamp not in names:
                names.append(stamp)  # version_of needs it to detect drift
        types = self._types(names)
        unique = list(dict.fromkeys(i for i in ids if i))
        out: dict[str, Record] = {}
        for start in range(0, len(unique), COLLECTION_RETRIEVE_MAX):
            chunk = unique[start : start + COLLECTION_RETRIEVE_MAX]
            # POST, not GET: 2000 ids do not fit in a URL.
            result = self._call("fetch", partial(_restful, path=f"composite/sobjects/{self.obj}", method="POST",
                                                 json={"ids": chunk, "fields": names})) or []
            for asked, rec in zip(chunk, result, strict=False):
                if rec:
                    out[asked] = {n: _text(rec.get(n), types[n]) for n in names}
        return out

    def version_of(self, record: Mapping[str, Value]) -> str:
        for stamp in ("LastModifiedDate", "SystemModstamp"):
            value = record.get(stamp)
            if value:
                return _UTC_SUFFIX.sub("Z", value)
        return values_hash(record)

    # -- writing -----------------------------------------------------------------------------

    def _api_values(self, values: Mapping[str, Value]) -> dict[str, Any]:
        """Field values as JSON Salesforce accepts: canonical names, real booleans and numbers."""
        meta = self._field_meta()
        lower = {n.lower(): n for n in meta}
        out: dict[str, Any] = {}
        for key, value in values.items():
            name = lower.get(key.lower(), key)
            out[name] = _api_value(value, str(meta.get(name, {}).get("type", "string")))
        return out

    def _write_headers(self, allow_save: bool = False) -> dict[str, str]:
        """Headers of a REST create/update: with the steward's opt-in (``duplicate_rule_allow_save``) or
        ``allow_save`` a record an active duplicate rule only alerts on is saved (Duplicate Rule Header, REST API
        Developer Guide: allowSave defaults to false, so without the header an org's standard duplicate rules,
        "Allow" with an alert, refuse it); a rule that blocks still refuses it, record by record
        (DUPLICATES_DETECTED)."""
        if allow_save or self.options.duplicate_rule_allow_save:
            return {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
        return {}

    def update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        """Per-record outcomes; a request that cannot be sent marks its records failed, later ones skipped."""
        if not updates:
            return []
        bulk = self.options.bulk == "always" or (
            self.options.bulk == "auto" and len(updates) > self.bulk_write_threshold)
        if bulk and not self.options.duplicate_rule_allow_save:
            # Bulk API 2.0 takes no Duplicate Rule Header (Bulk API 2.0 Developer Guide, "Headers"): with the
            # steward's allowSave opt-in every update goes through sObject Collections, which carry it
            return self._bulk_update(updates)
        outcomes: list[WriteOutcome] = []
        for start in range(0, len(updates), COLLECTION_WRITE_MAX):
            chunk = updates[start : start + COLLECTION_WRITE_MAX]
            payload = {"allOrNone": False, "records": [
                {"attributes": {"type": self.obj}, "id": u.record_id, **self._api_values(u.values)} for u in chunk]}
            try:
                result = self._call("update", partial(_restful, path="composite/sobjects", method="PATCH",
                                                      json=payload, headers=self._write_headers())) or []
            except ConnectorError as err:
                outcomes.extend(WriteOutcome(u.record_id, "failed", str(err)) for u in chunk)
                outcomes.extend(_skipped([u.record_id for u in updates[start + len(chunk):]], err))
                return outcomes
            outcomes.extend(_collection_outcomes([u.record_id for u in chunk], result))
        return outcomes

    def _bulk_update(self, updates: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = []
        for start in range(0, len(updates), BULK_JOB_MAX_RECORDS):
            chunk = updates[start : start + BULK_JOB_MAX_RECORDS]
            try:
                outcomes.extend(self._bulk_update_job(chunk))
            except ConnectorError as err:
                outcomes.extend(WriteOutcome(u.record_id, "failed", str(err)) for u in chunk)
                outcomes.extend(_skipped([u.record_id for u in updates[start + len(chunk):]], err))
                return outcomes
        return outcomes

    def _bulk_update_job(self, chunk: Sequence[FieldUpdate]) -> list[WriteOutcome]:
        meta = self._field_meta()
        lower = {n.lower(): n for n in meta}
        columns = list(dict.fromkeys(lower.get(k.lower(), k) for u in chunk for k in u.values))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["Id", *columns])
        for u in chunk:
            given = {lower.get(k.lower(), k): v for k, v in u.values.items()}
            # Bulk CSV: an empty cell leaves a field as is, "#N/A" empties it.
            writer.writerow([u.record_id, *[("#N/A" if given[c] in (None, "") else given[c]) if c in given else ""
                                            for c in columns]])
        data = buf.getvalue()
        job = self._call("bulk update", lambda sf: self._bulk_client(sf).create_job(Operation.update))
        job_id = str(job["id"])
        self._call("bulk update", lambda sf: self._bulk_client(sf).upload_job_data(job_id, data))
        self._call("bulk update", lambda sf: self._bulk_client(sf).close_job(job_id))
        info = self._wait_for_job(job_id, False, "bulk update")
        stopped = ""
        if info.get("state") != "JobComplete":
            reason = self._scrub(str(info.get("errorMessage") or info.get("state")))
            stopped = f"the bulk job {job_id} ended {info.get('state')} ({reason}) before this record"
        by_id: dict[str, WriteOutcome] = {}
        for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
            text = self._call("bulk update results", partial(self._ingest_results, job_id=job_id, kind=kind))
            for row in csv.DictReader(io.StringIO(text)):
                rid = row.get("Id") or row.get("sf__Id") or ""
                if kind == "successfulResults":
                    by_id[rid] = WriteOutcome(rid, "ok")
                elif kind == "failedResults":
                    by_id[rid] = WriteOutcome(rid, "failed", _bulk_error(row.get("sf__Error", "")))
                else:
                    by_id[rid] = WriteOutcome(rid, "skipped", "not processed: " + (
                        stopped or "the bulk job stopped before this record"))
        return [by_id.get(u.record_id) or _by_prefix(by_id, u.record_id)
                or WriteOutcome(u.record_id, "failed", "Salesforce returned no result") for u in chunk]

    def merge(self, request: MergeRequest) -> list[WriteOutcome]:
        """Merge the losers into the master, two per SOAP call; outcomes for the master then each loser."""
        losers = [i for i in dict.fromkeys(request.loser_ids) if i and i != request.master_id]
        if not losers:
            if request.values:
                return self.update([FieldUpdate(request.master_id, request.values)])[:1]
            return [WriteOutcome(request.master_id, "ok")]
        values = self._api_values(request.values)
        loser_outcomes: dict[str, WriteOutcome] = {}
        master_error: str | None = None
        for start in range(0, len(losers), MERGE_LOSERS_PER_CALL):
            step = losers[start : start + MERGE_LOSERS_PER_CALL]
            if master_error is not None:
                for rid in step:
                    loser_outcomes[rid] = WriteOutcome(rid, "skipped", "not merged: an earlier merge step failed")
                continue
            self._retried = False
            try:
                result = self._call("merge", partial(self._soap_merge, master_id=request.master_id, losers=step,
                                                     values=values))
                if not result.success and self._retried and "ENTITY_IS_DELETED" in result.codes and \
                        self._merge_landed(request.master_id, step):
                    result = _MergeResult(True)  # a retried call found the first attempt had already merged
            except ConnectorError as err:
                result = _MergeResult(False, (str(err),))
            if result.success:
                for rid in step:
                    loser_outcomes[rid] = WriteOutcome(rid, "ok")
            else:
                master_error = "; ".join(result.errors) or "merge failed"
                for rid in step:
                    loser_outcomes[rid] = WriteOutcome(rid, "failed", master_error)
        master = WriteOutcome(request.master_id, "ok" if master_error is None else "failed", master_error)
        return [master, *[loser_outcomes[rid] for rid in losers]]

    def merge_preview(self, merges: Sequence[MergeRequest]) -> dict[str, dict[str, int]]:
        """For each merge (by master id), how many child records of each kind the merge re-parents from the
        merged-away records to the master: one aggregate query per child object and batch of ids
        (``SELECT AccountId, COUNT(Id) FROM Contact WHERE AccountId IN (…) GROUP BY AccountId``). A child object
        this user cannot see is left out."""
        relations = CHILD_RELATIONS.get(self.obj, ())
        owner = {rid[:15]: m.master_id for m in merges for rid in m.loser_ids if rid}
        out: dict[str, dict[str, int]] = {m.master_id: {} for m in merges}
        losers = sorted(dict.fromkeys(rid for m in merges for rid in m.loser_ids if rid))
        for child, ref in relations:
            try:
                for start in range(0, len(losers), PREVIEW_IDS_PER_QUERY):
                    ids = ", ".join("'" + rid.replace("'", "") + "'"
                                    for rid in losers[start : start + PREVIEW_IDS_PER_QUERY])
                    soql = f"SELECT {ref}, COUNT(Id) total FROM {child} WHERE {ref} IN ({ids}) GROUP BY {ref}"
                    rows = self._call("merge preview", partial(_query, soql=soql)).get("records") or []
                    for row in rows:
                        master = owner.get(str(row.get(ref) or "")[:15])
                        if master is not None:
                            out[master][child] = out[master].get(child, 0) + int(row.get("total") or 0)
            except ConnectorError as err:
                if not any(code in str(err) for code in ("INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND")):
                    raise
                logging.getLogger(__name__).info("merge preview leaves out %s: %s", child, err)
                continue
            for counts in out.values():
                counts.setdefault(child, 0)
        return out

    def merge_blockers(self, merges: Sequence[MergeRequest]) -> dict[str, str]:
        """Merges crmclean will not plan, by master id, with the reason: records of different record types (each
        type has its own picklists, page layouts and processes: which one wins is a business decision), and a
        person account with a business account (Salesforce refuses that merge)."""
        meta = self._field_meta()
        fields = [f for f in ("RecordTypeId", "IsPersonAccount") if f in meta]
        if not fields or not merges:
            return {}
        records = self.fetch([rid for m in merges for rid in (m.master_id, *m.loser_ids)], fields)
        names = self._record_type_names()
        out: dict[str, str] = {}
        for m in merges:
            group = [records[rid] for rid in (m.master_id, *m.loser_ids) if rid in records]
            kinds = {str(r.get("IsPersonAccount") or "false") for r in group}
            types = list(dict.fromkeys(str(r.get("RecordTypeId") or "") for r in group))
            if len(kinds) > 1:
                out[m.master_id] = ("a person account and a business account cannot be merged (Salesforce refuses "
                                    "it); merge them by hand if they are one customer")
            elif len(types) > 1:
                shown = ", ".join(names.get(t[:15]) or t or "none" for t in types)
                out[m.master_id] = (f"the records have different record types ({shown}); crmclean never merges "
                                    "across record types: change one record's type first if they are one customer")
        return out

    def _record_type_names(self) -> dict[str, str]:
        """Record type id (15 characters) → its label, from describe's ``recordTypeInfos``."""
        return {str(info.get("recordTypeId") or "")[:15]: str(info.get("name") or info.get("developerName"))
                for info in self._describe().get("recordTypeInfos") or []}

    def invalid_values(self, updates: Sequence[FieldUpdate]) -> dict[tuple[str, str], str]:
        """Planned picklist values the record's record type does not allow, by (record id, field), with the reason.
        Only an object with record types is asked: the records' ``RecordTypeId`` is read, then each type's values
        once (User Interface API, "Get Values for All Picklist Fields of a Record Type":
        ``GET /ui-api/object-info/{object}/picklist-values/{recordTypeId}``). Fails closed: a type whose values
        cannot be read keeps its records' picklist updates out, with the reason."""
        meta = self._field_meta()
        lower = {n.lower(): n for n in meta}
        picklists = {n for n, f in meta.items() if f.get("type") in {"picklist", "multipicklist"}}
        wanted = [(u.record_id, lower.get(k.lower(), k), v) for u in updates for k, v in u.values.items()
                  if lower.get(k.lower(), k) in picklists and v not in (None, "")]
        if "RecordTypeId" not in meta or not wanted:
            return {}
        types = {rid: str(rec.get("RecordTypeId") or "")
                 for rid, rec in self.fetch(list(dict.fromkeys(r for r, _, _ in wanted)), ["RecordTypeId"]).items()}
        names = self._record_type_names()
        allowed: dict[str, dict[str, set[str]] | str] = {}
        out: dict[tuple[str, str], str] = {}
        for rid, name, value in wanted:
            rt = types.get(rid) or "012000000000000AAA"  # no record type: the Master type's values
            if rt not in allowed:
                try:
                    answer = self._call("picklist values", partial(
                        _restful, path=f"ui-api/object-info/{self.obj}/picklist-values/{rt}", method="GET")) or {}
                    allowed[rt] = {f: {str(v.get("value")) for v in (info or {}).get("values") or []}
                                   for f, info in (answer.get("picklistFieldValues") or {}).items()}
                except ConnectorError as err:
                    allowed[rt] = f"could not read the picklist values of record type {names.get(rt[:15], rt)}: {err}"
            values = allowed[rt]
            if isinstance(values, str):
                out[(rid, name)] = values
            elif name in values and any(v not in values[name] for v in str(value).split(";")):
                out[(rid, name)] = (f"{value!r} is not a value of {name} for record type "
                                    f"{names.get(rt[:15], rt)}; kept as is")
        return out

    def _soap_merge(self, sf: Salesforce, master_id: str, losers: Sequence[str], values: Mapping[str, Any]) \
            -> _MergeResult:
        """One SOAP ``merge`` call (simple-salesforce has no wrapper for it), on simple-salesforce's session."""
        url = f"https://{sf.sf_instance}/services/Soap/u/{sf.sf_version}"
        field_xml = []
        for name, value in values.items():
            if value is None:
                field_xml.append(f"<o:fieldsToNull>{xml_escape(name)}</o:fieldsToNull>")
            else:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                field_xml.append(f"<o:{name}>{xml_escape(text)}</o:{name}>")
        envelope = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:p="urn:partner.soap.sforce.com" xmlns:o="urn:sobject.partner.soap.sforce.com">'
            f"<soapenv:Header><p:SessionHeader><p:sessionId>{xml_escape(sf.session_id)}</p:sessionId>"
            "</p:SessionHeader></soapenv:Header>"
            "<soapenv:Body><p:merge><p:request><p:masterRecord>"
            f"<o:type>{xml_escape(self.obj)}</o:type><o:Id>{xml_escape(master_id)}</o:Id>{''.join(field_xml)}"
            "</p:masterRecord>"
            + "".join(f"<p:recordToMergeIds>{xml_escape(rid)}</p:recordToMergeIds>" for rid in losers)
            + "</p:request></p:merge></soapenv:Body></soapenv:Envelope>"
        )
        response = sf.session.post(url, data=envelope.encode("utf-8"),
                                   headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "merge"})
        return _parse_merge_response(url, response)

    def _merge_landed(self, master_id: str, losers: Sequence[str]) -> bool:
        id_list = ", ".join("'" + rid.replace("'", "\\'") + "'" for rid in losers)
        soql = f"SELECT Id, MasterRecordId, IsDeleted FROM {self.obj} WHERE Id IN ({id_list})"
        rows = self._call("merge check", lambda sf: sf.query_all(soql, include_deleted=True)).get("records", [])
        master18 = master_id[:15]
        return len(rows) == len(losers) and all(
            r.get("IsDeleted") and str(r.get("MasterRecordId") or "")[:15] == master18 for r in rows)

    def create(self, records: Sequence[Record]) -> list[WriteOutcome]:
        """Re-create records (rollback of merges); system and read-only fields are left out. A re-created
        merged-away record duplicates its master by construction (that is why it was merged), so the request sends
        ``allowSave=true``: the org's alerting duplicate rules (the standard rules are) let the restore through;
        a blocking rule still refuses it, record by record."""
        if not records:
            return []
        meta = self._field_meta()
        lower = {n.lower(): n for n in meta}
        createable = {n for n, f in meta.items() if f.get("createable")}
        outcomes: list[WriteOutcome] = []
        keys = [str(r.get(self.id_field) or f"new-{i}") for i, r in enumerate(records)]
        for start in range(0, len(records), COLLECTION_WRITE_MAX):
            chunk = records[start : start + COLLECTION_WRITE_MAX]
            chunk_keys = keys[start : start + COLLECTION_WRITE_MAX]
            payload_records = []
            for rec in chunk:
                kept = {lower[k.lower()]: v for k, v in rec.items()
                        if k.lower() in lower and lower[k.lower()] in createable and v not in (None, "")}
                payload_records.append({"attributes": {"type": self.obj}, **self._api_values(kept)})
            payload = {"allOrNone": False, "records": payload_records}
            started = datetime.now(UTC)
            try:
                result = self._call("create", partial(_restful, path="composite/sobjects", method="POST",
                                                      json=payload, headers=self._write_headers(allow_save=True)),
                                    idempotent=False) or []
            except TransientConnectorError as err:
                # a gateway error or a timeout may come after the records were created: look before reporting,
                # never send again (the engine's resume asks find_created once more before any new attempt)
                outcomes.extend(self._landed_creates(chunk_keys, chunk, started, err))
                continue
            except ConnectorError as err:
                outcomes.extend(WriteOutcome(k, "failed", str(err)) for k in chunk_keys)
                outcomes.extend(_skipped(keys[start + len(chunk):], err))
                return outcomes
            for key, item in zip(chunk_keys, _pad(result, len(chunk_keys)), strict=True):
                if item and item.get("success"):
                    outcomes.append(WriteOutcome(key, "ok", new_id=item.get("id")))
                else:
                    outcomes.append(WriteOutcome(key, "failed", _errors_text(item)))
        return outcomes

    def find_created(self, values: Mapping[str, Value], since: datetime) -> list[str]:
        """Ids of live records created at or after ``since`` (UTC, less a clock-skew margin) that hold every
        non-empty createable value of ``values``: a create whose reply was lost is found instead of made twice."""
        return [rid for rid, _ in self._created_since([values], since)[0]]

    def _created_since(self, wanted: Sequence[Mapping[str, Value]], since: datetime) \
            -> list[list[tuple[str, Record]]]:
        """For each of ``wanted``, the records created since ``since`` holding its values (one SOQL query)."""
        meta = self._field_meta()
        lower = {n.lower(): n for n in meta}
        checks: list[dict[str, str]] = []
        for values in wanted:
            checks.append({lower[k.lower()]: str(v) for k, v in values.items()
                           if v not in (None, "") and k.lower() in lower and meta[lower[k.lower()]].get("createable")
                           and meta[lower[k.lower()]].get("type") not in COMPOUND_TYPES})
        names = ["Id", *dict.fromkeys(n for c in checks for n in c if n != "Id")]
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        moment = (since.astimezone(UTC) - CREATE_CLOCK_SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
        soql = f"SELECT {', '.join(names)} FROM {self.obj} WHERE CreatedDate >= {moment} ORDER BY CreatedDate"
        rows = self._call("create check", lambda sf: sf.query_all(soql)).get("records") or []
        types = self._types(names)
        recent = [{n: _text(r.get(n), types[n]) for n in names} for r in rows]
        return [[(str(rec["Id"]), rec) for rec in recent
                 if check and all(rec.get(n) is not None and _api_value(rec.get(n), types[n])
                                  == _api_value(v, types[n]) for n, v in check.items())]
                for check in checks]

    def _landed_creates(self, keys: Sequence[str], chunk: Sequence[Record], started: datetime,
                        err: ConnectorError) -> list[WriteOutcome]:
        """After a create whose reply was lost: ``ok`` with the new id for each record found created since the
        attempt, ``failed`` for the others (never resent here)."""
        try:
            found = self._created_since(chunk, started)
        except ConnectorError as check_err:
            return [WriteOutcome(k, "failed", f"{err}; whether it was created is unknown ({check_err}): check for a "
                                              "copy before re-creating it") for k in keys]
        claimed: set[str] = set()
        out = []
        for key, copies in zip(keys, found, strict=True):
            new_id, note = landed_create([rid for rid, _ in copies if rid not in claimed],
                                         f"the reply was lost ({err})")
            if new_id is not None:
                claimed.add(new_id)
                out.append(WriteOutcome(key, "ok", note, new_id=new_id))
            else:
                out.append(WriteOutcome(key, "failed", note or str(err)))
        return out

    def delete(self, ids: Sequence[str]) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = [WriteOutcome(str(i or ""), "failed", "no record id given") for i in ids if not i]
        ids = [i for i in ids if i]
        for start in range(0, len(ids), COLLECTION_WRITE_MAX):
            chunk = list(ids[start : start + COLLECTION_WRITE_MAX])
            params = {"ids": ",".join(chunk), "allOrNone": "false"}
            try:
                result = self._call("delete", partial(_restful, path="composite/sobjects", method="DELETE",
                                                      params=params)) or []
            except ConnectorError as err:
                outcomes.extend(WriteOutcome(i, "failed", str(err)) for i in chunk)
                outcomes.extend(_skipped(list(ids[start + len(chunk):]), err))
                return outcomes
            for rid, item in zip(chunk, _pad(result, len(chunk)), strict=True):
                codes = {e.get("statusCode") for e in (item or {}).get("errors") or []}
                if item and (item.get("success") or codes == {"ENTITY_IS_DELETED"}):
                    outcomes.append(WriteOutcome(rid, "ok"))  # already gone is what a delete wants
                else:
                    outcomes.append(WriteOutcome(rid, "failed", _errors_text(item)))
        return outcomes

    def close(self) -> None:
        self._http.close()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


# records left out of a read unless --where names the field (see SalesforceConnector._where)
DEFAULT_EXCLUSIONS = {"Lead": "IsConverted", "Account": "IsPersonAccount"}
# merge re-parents these child records of the merged-away records to the master (merge() in the SOAP API guide)
CHILD_RELATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "Account": (("Contact", "AccountId"), ("Opportunity", "AccountId"), ("Case", "AccountId")),
    "Contact": (("Case", "ContactId"), ("Opportunity", "ContactId")),
}
PREVIEW_IDS_PER_QUERY = 200  # ids in one IN list: keeps the query URI far below 16,384 bytes
URI_SAFE_BYTES = 16_384 - 512  # Salesforce's request-URI limit, less room for the host and version path


def _query_uri_bytes(soql: str) -> int:
    """Bytes of the GET URI a REST query for ``soql`` needs (the SOQL percent-encoded in ``q=``)."""
    return len("/services/data/v99.0/query/?q=") + len(quote_plus(soql))


def _restful(sf: Salesforce, path: str, method: str, **kwargs: Any) -> Any:
    return sf.restful(path, method=method, **kwargs)


def _query(sf: Salesforce, soql: str) -> Any:
    return sf.query(soql)


def _query_more(sf: Salesforce, url: str, headers: dict[str, str]) -> Any:
    return sf.query_more(url, identifier_is_url=True, headers=headers)


def _error_code(content: Any) -> str | None:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        code = content[0].get("errorCode")
        return str(code) if code else None
    if isinstance(content, dict):
        code = content.get("errorCode") or content.get("error")
        return str(code) if code else None
    return None


def _text(value: Any, ftype: str = "string") -> str | None:
    """A JSON value from Salesforce as the text crmclean pages hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    if ftype == "datetime":
        # REST says +0000, Bulk CSV says Z: one spelling, so version stamps compare equal.
        text = _UTC_SUFFIX.sub("Z", text)
    return text


def _api_value(value: Value, ftype: str) -> Any:
    if value is None or value == "":
        return None
    if ftype == "boolean" and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    if ftype == "int" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if ftype in {"double", "currency", "percent"}:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _frame(rows: list[list[str | None]], names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={n: pl.String for n in names}, orient="row")


def _empty_frame(names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={n: pl.String for n in names})


def _csv_frame(text: str, names: list[str], types: Mapping[str, str]) -> pl.DataFrame:
    if not text.strip():
        return _empty_frame(names)
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    # The header follows the SELECT list; take our canonical spelling of each name.
    frame = frame.rename(dict(zip(frame.columns, names, strict=False)))
    exprs = []
    for n in names:
        col = pl.when(pl.col(n) == "").then(None).otherwise(pl.col(n))  # Bulk CSV has no null: "" is empty
        if types.get(n) == "datetime":
            col = col.str.replace(r"(?:\+0000|\+00:00)$", "Z")
        exprs.append(col.alias(n))
    return frame.select(exprs)


def _errors_text(item: Mapping[str, Any] | None) -> str:
    if not item:
        return "Salesforce returned no result for this record"
    parts = []
    for err in item.get("errors") or []:
        text = f"{err.get('statusCode', 'ERROR')}: {err.get('message', '')}".strip()
        if err.get("fields"):
            text += f" [{', '.join(err['fields'])}]"
        if isinstance(err.get("duplicateResult"), Mapping):
            text += _duplicate_text(err["duplicateResult"])
        parts.append(text)
    return "; ".join(parts) or "Salesforce reported a failure without a message"


def _duplicate_text(result: Mapping[str, Any]) -> str:
    """A DuplicateError's duplicateResult as words: the duplicate rule, its matching rules and the records matched."""
    matched: list[str] = []
    rules: list[str] = []
    for match in result.get("matchResults") or []:
        if match.get("rule"):
            rules.append(str(match["rule"]))
        for rec in match.get("matchRecords") or []:
            rid = (rec.get("record") or {}).get("Id")
            if rid:
                matched.append(str(rid))
    text = f" (duplicate rule {result.get('duplicateRule') or '?'}"
    if rules:
        text += f", matching rule {', '.join(dict.fromkeys(rules))}"
    if matched:
        text += f"; matches {', '.join(matched[:5])}" + (f" and {len(matched) - 5} more" if len(matched) > 5 else "")
    text += ")"
    if result.get("allowSave"):
        text += "; the rule only alerts: set source.duplicate_rule_allow_save: true in the rules file to save anyway"
    else:
        text += "; the rule blocks the save: merge the records or change the rule"
    return text


def _collection_outcomes(ids: Sequence[str], result: Sequence[Any]) -> list[WriteOutcome]:
    # Results come back in request order; failed items carry no id, so pair them by position.
    out = []
    for rid, item in zip(ids, _pad(result, len(ids)), strict=True):
        if item and item.get("success"):
            out.append(WriteOutcome(rid, "ok"))
        else:
            out.append(WriteOutcome(rid, "failed", _errors_text(item)))
    return out


def _by_prefix(by_id: Mapping[str, WriteOutcome], record_id: str) -> WriteOutcome | None:
    """A bulk result row may spell the id in 15 or 18 characters; match on the first 15."""
    key = record_id[:15]
    for rid, outcome in by_id.items():
        if rid[:15] == key:
            return WriteOutcome(record_id, outcome.status, outcome.error, new_id=outcome.new_id)
    return None


def _pad(result: Sequence[Any], n: int) -> list[Any]:
    items = list(result)[:n]
    return items + [None] * (n - len(items))


def _skipped(ids: Sequence[str], err: Exception) -> list[WriteOutcome]:
    return [WriteOutcome(rid, "skipped", f"not sent: {err}") for rid in ids]


def _bulk_error(text: str) -> str:
    # Bulk API 2.0 spells errors "CODE:message:fields --"
    text = text.strip().removesuffix("--").strip()
    code, _, rest = text.partition(":")
    message, _, flds = rest.rpartition(":") if rest.count(":") >= 1 else (rest, "", "")
    message = message or rest
    out = f"{code}: {message}".strip()
    if flds.strip():
        out += f" [{flds.strip()}]"
    return out


def _parse_merge_response(url: str, response: requests.Response) -> _MergeResult:
    import xml.etree.ElementTree as ET

    if response.status_code in {429, 502, 503, 504}:
        code = "TOO_MANY_REQUESTS" if response.status_code == 429 else "SERVER_UNAVAILABLE"
        content = [{"errorCode": code, "message": f"HTTP {response.status_code}"}]
        raise SalesforceGeneralError(url, response.status_code, "merge", content)  # type: ignore[arg-type]
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        raise SalesforceGeneralError(url, response.status_code, "merge",
                                     response.text[:200].encode()) from None

    def local(el: ET.Element) -> str:
        return el.tag.rsplit("}", 1)[-1]

    fault = next((el for el in root.iter() if local(el) == "Fault"), None)
    if fault is not None:
        faultstring = next((el.text or "" for el in fault.iter() if local(el) == "faultstring"), "")
        code = next((el.text or "" for el in fault.iter() if local(el) == "exceptionCode"), "")
        if not code:
            faultcode = next((el.text or "" for el in fault.iter() if local(el) == "faultcode"), "")
            code = faultcode.rsplit(":", 1)[-1]
        content = [{"errorCode": code, "message": faultstring}]
        if code in SESSION_CODES:
            raise SalesforceExpiredSession(url, 401, "merge", content)  # type: ignore[arg-type]
        if code == "REQUEST_LIMIT_EXCEEDED":
            raise SalesforceRefusedRequest(url, 403, "merge", content)  # type: ignore[arg-type]
        raise SalesforceGeneralError(url, response.status_code, "merge", content)  # type: ignore[arg-type]
    result = next((el for el in root.iter() if local(el) == "result"), None)
    if result is None:
        raise SalesforceGeneralError(url, response.status_code, "merge", b"no result in the merge response")
    success = next((el.text for el in result if local(el) == "success"), "false") == "true"
    errors, codes = [], []
    for err in (el for el in result if local(el) == "errors"):
        code = next((el.text or "" for el in err if local(el) == "statusCode"), "ERROR")
        message = next((el.text or "" for el in err if local(el) == "message"), "")
        flds = [el.text or "" for el in err if local(el) == "fields"]
        codes.append(code)
        errors.append(f"{code}: {message}" + (f" [{', '.join(flds)}]" if flds else ""))
    return _MergeResult(success, tuple(errors), tuple(codes))


__all__ = [
    "BULK_READ_THRESHOLD",
    "BULK_WRITE_THRESHOLD",
    "BudgetExhausted",
    "SalesforceConnector",
    "SalesforceCredentials",
    "load_credentials",
]
