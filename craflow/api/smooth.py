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
  one), and the pace drops to `decrease` times its current value, only for a request
  sent after the last cut (one burst of 429s from concurrent requests counts once). The
  pace recovers by `recover_per_second` of the configured rate per second up to 95 % of
  the pace at which the 429 came, then by 1 % a second, never above the configured rate,
  so a server stricter than configured is learned in a few 429s. Each cut also widens
  the spacing for good by 2 % (at most 20 %): against a limiter without burst, the 429s
  left at the configured rate come from network jitter bunching arrivals, and only a
  wider spacing cures that.

The clock and sleep are injected, so tests run in virtual time.
"""

import threading
import time
from collections.abc import Callable

_MIN_FRACTION = 0.05
_WIDEN_STEP = 0.02  # each 429 signal also widens the spacing for good by this fraction
_MAX_WIDENING = 0.2
_CEILING_BELOW_429 = 0.95  # recover quickly only to just below where the last 429 came
_CEILING_DRIFT_PER_SECOND = 0.01  # ... and beyond it slowly: a stricter server is learned


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
        decrease: float = 0.8,
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
        self._mine = threading.local()
        self._next: float | None = None  # the earliest time the next slot may start
        self._hold_until = float("-inf")
        self._cut_fraction = 1.0  # the pace right after the last cut, as a fraction
        self._cut_at = float("-inf")
        self._ceiling = 1.0  # just below the pace of the last 429; drifts back up slowly
        self._widened = 0.0  # extra spacing learned from 429s (network jitter allowance)

    def fraction(self, now: float | None = None) -> float:
        """The pace now, as a fraction of the configured rate (1.0 = full rate)."""
        now = self._clock() if now is None else now
        since = max(0.0, now - self._cut_at)
        recovered = self._cut_fraction + self._recover * since
        ceiling = self._ceiling + _CEILING_DRIFT_PER_SECOND * since
        return min(1.0, recovered, ceiling)

    def interval(self, now: float | None = None) -> float:
        """Seconds between two requests now."""
        return self.base_interval * (1.0 + self._widened) / self.fraction(now)

    def acquire(self) -> float:
        """Reserve the next slot and sleep until it; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._hold_until, self._next if self._next is not None else now)
            self._next = slot + self.interval(slot)
        self._mine.slot = slot  # the thread's last request: its 429 is judged by it
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
            slot = getattr(self._mine, "slot", None)
            if slot is None or slot > self._cut_at:  # sent at the pace a 429 has not cut
                current = self.fraction(now)
                self._ceiling = max(_MIN_FRACTION, current * _CEILING_BELOW_429)
                self._cut_fraction = max(_MIN_FRACTION, current * self._decrease)
                self._cut_at = now
                self._widened = min(_MAX_WIDENING, self._widened + _WIDEN_STEP)
