"""A smooth, adaptive pace for one rate-limit bucket: safe against every common limiter.

A server may count requests in a fixed window, a sliding window, a token/leaky bucket
without burst (nginx `limit_req`) or a GCRA with a small burst. The one pace that none
of them refuses is an even spacing at the published rate: one request every
`window / limit` seconds, never two closer together, never a burst after an idle spell.
`SmoothBucket` hands out such slots (reserved under a lock, so concurrent threads queue
instead of racing), with a small safety margin for network jitter.

It learns from the server:

- `X-RateLimit-Remaining` / `X-RateLimit-Reset`: nothing left → no request before the
  reset; few left → spread them over the time until the reset (other clients may share
  the key).
- a 429 (`throttled`): no request before its `Retry-After` (or two intervals without
  one), and the pace drops to `decrease` times its current value (at most once a second,
  so one burst of 429s from concurrent requests counts once). The pace then recovers
  linearly, `recover_per_second` of the configured rate per second, and never exceeds
  the configured rate.

The clock and sleep are injected, so tests run in virtual time.
"""

import threading
import time
from collections.abc import Callable

_MIN_FRACTION = 0.05
_CUT_SPACING_SECONDS = 1.0  # 429s closer together than this are one signal


class SmoothBucket:
    """Even spacing at `limit / window`, adapted down on 429 and back up over time."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = 0.03,
        decrease: float = 0.7,
        recover_per_second: float = 0.05,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a smooth bucket needs limit >= 1 and a positive window")
        if not 0 <= margin < 1 or not 0 < decrease < 1 or recover_per_second <= 0:
            raise ValueError("a smooth bucket needs 0 <= margin < 1, 0 < decrease < 1, recovery")
        self.limit = limit
        self.window_seconds = window_seconds
        self.base_interval = window_seconds / limit * (1.0 + margin)
        self._clock = clock
        self._sleep = sleep
        self._decrease = decrease
        self._recover = recover_per_second
        self._lock = threading.Lock()
        self._next: float | None = None  # the earliest time the next slot may start
        self._hold_until = float("-inf")
        self._cut_fraction = 1.0  # the pace right after the last cut, as a fraction
        self._cut_at = float("-inf")

    def fraction(self, now: float | None = None) -> float:
        """The pace now, as a fraction of the configured rate (1.0 = full rate)."""
        now = self._clock() if now is None else now
        recovered = self._cut_fraction + self._recover * max(0.0, now - self._cut_at)
        return min(1.0, recovered)

    def interval(self, now: float | None = None) -> float:
        """Seconds between two requests now."""
        return self.base_interval / self.fraction(now)

    def acquire(self) -> float:
        """Reserve the next slot and sleep until it; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._hold_until, self._next if self._next is not None else now)
            self._next = slot + self.interval(slot)
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def observe(self, remaining: int | None, reset: float | None) -> None:
        """Learn the server's count: `remaining` requests until Unix time `reset`."""
        if remaining is None or reset is None or remaining < 0:
            return
        with self._lock:
            now = self._clock()
            until = min(reset, now + self.window_seconds)  # never trust more than one window
            if until <= now:
                return
            if remaining == 0:
                self._hold_until = max(self._hold_until, until)
                return
            spread = (until - now) / (remaining + 1)  # the last one lands before the reset
            if spread > self.interval(now):
                self._next = max(self._next if self._next is not None else now, now + spread)

    def throttled(self, retry_after: float | None) -> None:
        """A 429: hold until `retry_after` seconds from now and slow down."""
        with self._lock:
            now = self._clock()
            interval = self.interval(now)
            wait = retry_after if retry_after is not None else 2.0 * interval
            self._hold_until = max(self._hold_until, now + wait)
            if now - self._cut_at >= max(interval, _CUT_SPACING_SECONDS):
                self._cut_fraction = max(_MIN_FRACTION, self.fraction(now) * self._decrease)
                self._cut_at = now
