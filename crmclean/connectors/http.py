"""Retry a flaky remote call with bounded, jittered exponential backoff.

One small policy shared by the CRM connectors: the caller says which errors are worth
another try (``classify``) and how to sleep (injectable, so tests run instantly).

    result = call_with_retry(lambda: api.get(...), classify=my_classifier, max_attempts=5)

``classify(exc)`` returns ``None`` when the error is final (it is re-raised at once) or a
:class:`Retry` saying "try again", optionally with the server's ``Retry-After`` in seconds.
When the attempts run out the last error is re-raised unchanged, so the caller can turn it
into a message for the user.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BASE_DELAY = 1.0  # seconds before the first retry (before jitter)
DEFAULT_MAX_DELAY = 60.0  # no single wait longer than this, whatever the server says


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
