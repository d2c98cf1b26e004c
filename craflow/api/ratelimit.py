"""Client-side pacing: the `Pacer` protocol, the contract's buckets, and the default pacer.

The default `BucketPacer` paces each bucket smoothly (`SmoothBucket` in smooth.py: no
burst, adapted down on 429 and back up). `TokenBucket` below is the older bursting bucket,
kept for callers that want it explicitly; the default no longer uses it.

Each `TokenBucket` starts full (`limit` tokens) and refills at `limit / window`, so a client
may burst up to the limit and then runs at the published rate. A bucket alone does not
match a server's fixed or sliding window (a full bucket after an idle spell plus its refill
can exceed one window), so every response's `X-RateLimit-Remaining` / `X-RateLimit-Reset`
is authoritative: while that count is fresh it alone decides (counted down locally, so
concurrent threads do not overshoot), and when it says nothing is left until T, `acquire`
waits until T. The local bucket decides only when the server has said nothing (no headers,
or its last reset has passed).

The clock and the sleep are injected so tests run in virtual time. `Pacer` is the small
protocol the client paces through; the sweep may implement it with Prefect's global
concurrency limits.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from config.api import RateLimitSettings
from craflow.api.smooth import SmoothBucket

logger = logging.getLogger("craflow.api")

READ, WRITE, UPLOAD, AUTH = "read", "write", "upload", "auth"
BUCKETS = (READ, WRITE, UPLOAD, AUTH)

_UPLOAD_PATHS = ("/sboms/ingest", "/ci/upload")
_AUTH_PATHS = ("/oidc/token",)
_TOLERANCE = 1e-6  # seconds
# An X-RateLimit-Reset below this cannot be a Unix time after 2001: read it as delta-seconds.
_EARLIEST_EPOCH = 1e9


def bucket_for(method: str, path: str) -> str:
    """The contract's rate-limit bucket of a request (`path` may include `/api/v1`)."""
    clean = path.split("?", 1)[0].rstrip("/")
    if clean.endswith(_UPLOAD_PATHS):
        return UPLOAD
    if "/auth/" in clean + "/" or clean.endswith(_AUTH_PATHS):
        return AUTH
    if method.upper() in {"GET", "HEAD"}:
        return READ
    return WRITE


def reset_at(value: str | None, *, now: float) -> float | None:
    """The Unix time an `X-RateLimit-Reset` value names (delta-seconds accepted), or None."""
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return number if number >= _EARLIEST_EPOCH else now + number


class Pacer(Protocol):
    """Paces requests per bucket before they are sent and learns from the answers."""

    def acquire(self, bucket: str) -> None: ...

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None: ...


class TokenBucket:
    """A thread-safe token bucket that also obeys the server's remaining/reset.

    Kept as a "theoretical arrival time" (GCRA): the bucket holds `limit` tokens and one
    returns every `window / limit` seconds. Times relative to the bucket's creation, compared
    with a microsecond of tolerance, keep it exact with Unix-time clocks (float steps ~0.2 us).
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a token bucket needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_seconds = window_seconds
        self._interval = window_seconds / limit
        self._burst = window_seconds - self._interval  # lets `limit` requests through at once
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._origin = clock()  # times below are kept relative to it: small floats stay exact
        self._arrival = 0.0  # when the bucket is full again
        self._server_remaining: int | None = None
        self._server_reset: float | None = None  # when to stop waiting (capped)
        self._server_window: float | None = None  # the reset as the server sent it
        self._sent_unseen = 0  # sent while the server's count was unknown

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                wait = self._take_or_wait(self._clock())
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def observe(self, remaining: int | None, reset: float | None) -> None:
        """Learn the server's view: `remaining` requests until Unix time `reset`."""
        if remaining is None or reset is None or remaining < 0:
            return
        with self._lock:
            now = self._clock()
            if reset <= now + _TOLERANCE:
                return
            known = self._server_window  # windows are told apart by the reset the server sent
            if known is not None and reset < known - _TOLERANCE:
                return  # an answer from a window already over
            if known is not None and abs(reset - known) <= _TOLERANCE:
                current = self._server_remaining
                self._server_remaining = remaining if current is None else min(current, remaining)
            else:
                # a new window: the requests sent since the count was unknown, other than
                # the one answered, may reach the server after it
                self._server_remaining = max(0, remaining - max(0, self._sent_unseen - 1))
                self._server_window = reset
                self._server_reset = min(reset, now + self.window_seconds)  # never trust more
                self._sent_unseen = 0

    def _take_or_wait(self, now: float) -> float:
        remaining, reset = self._server_remaining, self._server_reset
        if reset is not None and now >= reset - _TOLERANCE:
            self._server_remaining = self._server_reset = self._server_window = None
        elif reset is not None and remaining is not None:
            # the server's count is fresh: it alone decides until its window resets
            if remaining <= 0:
                return reset - now
            self._server_remaining = remaining - 1
            return 0.0
        elapsed = now - self._origin
        arrival = max(self._arrival, elapsed)
        early = arrival - self._burst - elapsed
        if early > _TOLERANCE:
            return early
        self._arrival = arrival + self._interval
        self._sent_unseen += 1
        return 0.0


@runtime_checkable
class AdaptivePacer(Pacer, Protocol):
    """A `Pacer` that also hears about every 429 (the client calls `throttled` when it exists)."""

    def throttled(self, bucket: str, retry_after: float | None) -> None: ...


@runtime_checkable
class SendAwarePacer(Pacer, Protocol):
    """A `Pacer` that also hears when a request it let through is written to the socket
    (the client calls `sent` from httpcore's trace of that moment)."""

    def sent(self, bucket: str) -> None: ...


class BucketPacer:
    """The client's default `Pacer`: one `SmoothBucket` per contract bucket (see smooth.py)."""

    def __init__(
        self,
        settings: RateLimitSettings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        scale = settings.window_scale
        self._clock = clock
        self._log_above = settings.log_wait_above_seconds
        sizes = {
            READ: (settings.read_per_minute, 60.0),
            WRITE: (settings.write_per_minute, 60.0),
            UPLOAD: (settings.upload_per_hour, 3600.0),
            AUTH: (settings.auth_per_minute, 60.0),
        }
        self.buckets: dict[str, SmoothBucket] = {
            name: SmoothBucket(
                limit,
                window / scale,
                clock=clock,
                sleep=sleep,
                margin=settings.safety_margin,
                decrease=settings.decrease_factor,
                recover_per_second=settings.recover_per_second,
                jitter_seconds=min(
                    settings.jitter_allowance_seconds, settings.max_jitter_allowance_seconds
                ),
                max_jitter_seconds=settings.max_jitter_allowance_seconds,
            )
            for name, (limit, window) in sizes.items()
        }

    def acquire(self, bucket: str) -> None:
        waited = self.buckets[bucket].acquire()
        if waited > 0:
            level = logging.INFO if waited >= self._log_above else logging.DEBUG
            logger.log(level, "rate limit: waited %.2f s for the %s bucket", waited, bucket)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        remaining_text = headers.get("x-ratelimit-remaining")
        try:
            remaining = int(remaining_text.strip()) if remaining_text is not None else None
        except ValueError:
            remaining = None
        reset = reset_at(headers.get("x-ratelimit-reset"), now=self._clock())
        self.buckets[bucket].observe(remaining, reset)

    def sent(self, bucket: str) -> None:
        self.buckets[bucket].sent()

    def throttled(self, bucket: str, retry_after: float | None) -> None:
        self.buckets[bucket].throttled(retry_after)
        logger.info(
            "rate limit: 429 on the %s bucket, pace now %.0f %% of the configured rate",
            bucket,
            100 * self.buckets[bucket].fraction(),
        )


class NoPacing:
    """A `Pacer` that never waits (rate limiting disabled)."""

    def acquire(self, bucket: str) -> None:
        return None

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        return None
