"""What every HTTP connector shares: retries with backoff, the Retry-After parser, a rate budget, credentials files.

* :func:`call_with_retry` — retry a flaky remote call with bounded, jittered exponential backoff;
* :func:`parse_retry_after` — the one reading of a ``Retry-After`` header (seconds or an HTTP date);
* :class:`RequestBudget` — at most N requests in any rolling window, shared by threads;
* :func:`read_credentials_file` — keys of a YAML/JSON/``.env`` credentials file, never echoing a secret.

Retry policy: the caller says which errors are worth
another try (``classify``) and how to sleep (injectable, so tests run instantly).

    result = call_with_retry(lambda: api.get(...), classify=my_classifier, max_attempts=5)

``classify(exc)`` returns ``None`` when the error is final (it is re-raised at once) or a
:class:`Retry` saying "try again", optionally with the server's ``Retry-After`` in seconds.
When the attempts run out the last error is re-raised unchanged, so the caller can turn it
into a message for the user.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from crmclean.errors import ConnectorError, UsageError

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY = 1.0  # seconds before the first retry (before jitter)
DEFAULT_MAX_DELAY = 60.0  # no single wait longer than this, whatever the server says


class TransientConnectorError(ConnectorError):
    """A request that still failed after every retry, for a passing reason (rate limit, 5xx, timeout).

    The write path fails the batch it was reading or writing for and goes on with the next one; any other
    ConnectorError (credentials, permissions, a used-up daily budget) ends the run.
    """


@dataclass(frozen=True)
class Retry:
    """A classifier's verdict that an error is transient.

    ``after`` is the server's requested wait (Retry-After) in seconds, or None to use backoff.
    ``reason`` is a short label for logs and progress ("429", "timeout", ...).
    """

    after: float | None = None
    reason: str = ""


def backoff_delay(
    attempt: int,
    *,
    base: float = DEFAULT_BASE_DELAY,
    cap: float = DEFAULT_MAX_DELAY,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): "full jitter" backoff.

    Full jitter (a uniform draw below the exponential ceiling) spreads many clients that failed
    together, so they do not all come back in the same second and fail again.
    """
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    draw = (rng or random).uniform(0.0, ceiling)
    # Never zero: a server that just refused us deserves at least a tenth of the base delay.
    return max(draw, base / 10.0)


def call_with_retry(
    fn: Callable[[], T],
    *,
    classify: Callable[[BaseException], Retry | None],
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    base_delay: float = DEFAULT_BASE_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, ``classify`` calls an error final, or attempts run out.

    A server-given ``Retry.after`` is honoured (capped at ``max_delay``) and never shortened by
    jitter. ``on_retry(attempt, error, delay)`` is told about every retry before its sleep.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None or attempt >= max_attempts:
                raise
            if verdict.after is not None:
                delay = min(max(verdict.after, 0.0), max_delay)
            else:
                delay = backoff_delay(attempt, base=base_delay, cap=max_delay, rng=rng)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)


# ---------------------------------------------------------------------------------------------
# Retry-After


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a server asked us to wait: ``Retry-After: 120`` or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # HTTP-date form
        when = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    except ValueError:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# ---------------------------------------------------------------------------------------------
# Rate budget


class RequestBudget:
    """At most ``limit`` requests in any rolling ``interval`` seconds, shared by all threads.

    A sliding log, not a token bucket: a bucket refilling at limit/interval still lets 2 x limit requests
    through in one rolling window, which is exactly what HubSpot's TEN_SECONDLY_ROLLING policy refuses.
    The window is ``margin`` (a share of the interval) longer than the server's: we stamp a request before
    sending it, the server when it arrives, and without slack the 101st request can land a hair too early.
    """

    def __init__(self, limit: int, interval: float = 10.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, margin: float = 0.05) -> None:
        if limit < 1:
            raise UsageError(f"rate limit must be at least 1 request per {interval:g} s, got {limit}")
        self.limit = limit
        self.interval = interval
        self.margin = margin
        self.waited = 0.0  # seconds spent waiting for the budget (reported by benchmarks)
        self.daily_remaining: int | None = None  # HubSpot's X-HubSpot-RateLimit-Daily-Remaining, when sent
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one more request fits the budget, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                if now < self._blocked_until:
                    wait = self._blocked_until - now
                else:
                    window = self.interval * (1 + self.margin)
                    while self._sent and self._sent[0] <= now - window:
                        self._sent.popleft()
                    if len(self._sent) < self.limit:
                        self._sent.append(now)
                        return
                    wait = self._sent[0] + window - now
            wait = max(wait, 0.001)
            self.waited += wait
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """After a 429 nobody sends anything for ``seconds``."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt the server's budget when it is smaller than ours (X-HubSpot-RateLimit-Max / -Interval); remember
        the daily requests left (X-HubSpot-RateLimit-Daily-Remaining)."""
        daily = headers.get("X-HubSpot-RateLimit-Daily-Remaining")
        if daily is not None and str(daily).strip().isdigit():
            self.daily_remaining = int(str(daily).strip())
        try:
            server_max = int(headers.get("X-HubSpot-RateLimit-Max", "") or 0)
            interval_ms = int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "") or 0)
        except ValueError:
            return
        if 0 < server_max < self.limit:
            with self._lock:
                self.limit = server_max
                if interval_ms > 0:
                    self.interval = max(self.interval, interval_ms / 1000)


# ---------------------------------------------------------------------------------------------
# Credentials files


def read_credentials_file(path: Path, section: str, *, expected: str = "key: value pairs") -> dict[str, Any]:
    """The raw keys of a credentials file: JSON (``.json``), YAML (``.yaml``/``.yml``) or ``KEY=value`` lines.

    A top-level mapping named ``section`` (``salesforce:``, ``hubspot:``) is used when present, so one file
    can serve several connectors. Errors never quote the file: it holds secrets. Values are returned as
    parsed; the connector normalizes the key names it knows.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConnectorError(f"cannot read credentials file: {exc.strerror or exc}", path=str(path)) from None
    raw: Any
    suffix = path.suffix.lower()
    if suffix in (".json", ".yaml", ".yml"):
        try:
            raw = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError):
            # Never echo the parser's message: it quotes the offending line, which may hold a password.
            kind = "JSON" if suffix == ".json" else "YAML"
            raise ConnectorError(f"credentials file is not valid {kind}", path=str(path)) from None
        if raw is None:
            raw = {}
    else:
        raw = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            raw[key.strip()] = value.strip().strip("'\"")
    if isinstance(raw, Mapping) and isinstance(raw.get(section), Mapping):
        raw = raw[section]
    if not isinstance(raw, Mapping):
        raise ConnectorError(f"credentials file must hold {expected}", path=str(path))
    return {str(key): value for key, value in raw.items() if value is not None}
