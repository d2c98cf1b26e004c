"""When to repeat a request and how long to wait: three small pure functions.

- `retry_reason` decides whether an attempt's outcome is worth another attempt.
- `server_wait` reads how long the server asked us to wait (`Retry-After` as seconds
  or an HTTP date, else `X-RateLimit-Reset`), rejecting hostile values.
- `backoff_delay` is exponential backoff with full jitter, capped.

`retry_delay` combines the last two. The loop that uses them lives in `session.py`.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum

from config.api import RetrySettings
from craflow.api.ratelimit import reset_at


class Failure(Enum):
    """A failure without an HTTP answer, classified by what the server may have seen."""

    CONNECT = "connect error"  # never reached the server
    POOL_TIMEOUT = "pool timeout"  # never left the client
    READ_TIMEOUT = "read timeout"  # sent, no answer in time
    WRITE_TIMEOUT = "write timeout"  # partly sent
    CONNECTION_LOST = "connection lost"  # reset or closed mid-exchange


# What the server cannot have acted on: safe to repeat even a non-idempotent request.
_NOT_RECEIVED = frozenset({Failure.CONNECT, Failure.POOL_TIMEOUT})
_RETRY_STATUSES_ANY_REQUEST = frozenset({429, 503})
_RETRY_STATUSES_REPEATABLE = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    """What one attempt produced: an HTTP status, or a failure without an answer."""

    status: int | None = None
    failure: Failure | None = None

    def describe(self) -> str:
        if self.failure is not None:
            return self.failure.value
        return f"HTTP {self.status}"


def retry_reason(
    outcome: Outcome,
    *,
    repeatable: bool,
    attempt: int,
    max_attempts: int,
    idempotent: bool = False,
) -> str | None:
    """Return why another attempt is worth it, or None to stop and surface the outcome.

    `repeatable` says whether the request is safe to repeat (GET, PATCH of a state): those
    are repeated on 500 and 502/503/504 too. `idempotent` (a write carrying an
    Idempotency-Key) makes a 500 worth repeating as well.
    Requests that are not are repeated only when the server cannot have acted on them:
    a connect error or pool timeout, a 429, a 503. A 429 is back-pressure: the caller does
    not count it as an attempt, so it is repeated whatever `attempt` says.
    """
    if outcome.status == 429:
        return "HTTP 429"
    if attempt >= max_attempts:
        return None
    if outcome.failure is not None:
        if repeatable or outcome.failure in _NOT_RECEIVED:
            return outcome.failure.value
        return None
    statuses = _RETRY_STATUSES_REPEATABLE if repeatable else _RETRY_STATUSES_ANY_REQUEST
    if outcome.status in statuses or (outcome.status == 500 and idempotent):
        return f"HTTP {outcome.status}"
    return None


def _finite_non_negative(value: float) -> float | None:
    if math.isfinite(value) and value >= 0:
        return value
    return None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP date), or None.

    Negative, non-finite, malformed values and dates in the past give None.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return _finite_non_negative(float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return _finite_non_negative(when.timestamp() - now)


def parse_reset(value: str | None, *, now: float) -> float | None:
    """Seconds until an `X-RateLimit-Reset` (Unix seconds; small values read as delta-seconds)."""
    when = reset_at(value, now=now)
    return None if when is None else _finite_non_negative(when - now)


def server_wait(headers: Mapping[str, str], *, now: float, cap: float) -> float | None:
    """How long the server asked us to wait, capped; None if it said nothing usable.

    `Retry-After` wins over `X-RateLimit-Reset` when both are usable.
    """
    wait = parse_retry_after(headers.get("retry-after"), now=now)
    if wait is None:
        wait = parse_reset(headers.get("x-ratelimit-reset"), now=now)
    if wait is None:
        return None
    return min(wait, cap)


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: Callable[[], float]) -> float:
    """Full-jitter exponential backoff after attempt number `attempt` (1-based).

    The ceiling doubles per attempt from `base`, never above `cap`; the delay is a uniform
    fraction (`jitter()` in [0, 1)) of the ceiling.
    """
    exponent = min(max(attempt - 1, 0), 62)
    ceiling = min(cap, base * (2.0**exponent))
    fraction = min(max(jitter(), 0.0), 1.0)
    return ceiling * fraction


def retry_delay(
    outcome: Outcome,
    headers: Mapping[str, str],
    *,
    attempt: int,
    now: float,
    settings: RetrySettings,
    jitter: Callable[[], float],
) -> float:
    """The wait before the next attempt: what the server asked for, else backoff.

    A 429 honours `Retry-After`, else `X-RateLimit-Reset`; other statuses only `Retry-After`.
    """
    cap = settings.rate_limit_wait_cap_seconds
    asked: float | None = None
    if outcome.status == 429:
        asked = server_wait(headers, now=now, cap=cap)
    elif outcome.status is not None:  # a 503 may say when to come back; its reset is the bucket's
        after = parse_retry_after(headers.get("retry-after"), now=now)
        asked = None if after is None else min(after, cap)
    if asked is not None:
        return asked
    return backoff_delay(
        attempt,
        base=settings.backoff_base_seconds,
        cap=settings.backoff_cap_seconds,
        jitter=jitter,
    )
