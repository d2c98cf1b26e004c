"""A smooth, adaptive pace for one rate-limit bucket: safe against every common limiter.

A server may count requests in a fixed window, a sliding window, a token/leaky bucket
without burst (nginx `limit_req`) or a GCRA with a small burst. The one pace that none
of them refuses is an even spacing at the published rate: one request every
`window / limit` seconds, never two closer together, never a burst after an idle spell.

`SmoothBucket` lets one request through at a time, through a turnstile: the thread at
the turnstile sleeps until its slot, and the next slot is counted from the moment the
request was actually let go, not from when it was planned. A thread that wakes late
therefore delays the next request instead of bunching up with it, which is what a
limiter without burst refuses. Only while the server's `X-RateLimit-Remaining` says it
has room (>= 1 within the last window: a window or a GCRA with burst) is the next slot
counted from the plan, so a late wake-up is caught up instead of lost. In a slow bucket
(a spacing over `GRANT_MIN_INTERVAL`, 30 s: uploads at 50 an hour are 72 s apart) a
server that says it has room is believed: while its last `X-RateLimit-Remaining` was
at least 2 and its reset is ahead, a request goes at once and counts one down (one is
kept spare for a request another client has in flight). A limiter that sends no such
header (nginx) never grants anything, so it still gets the even pace. The spacing is
the configured interval times `1 + margin`, plus an absolute *jitter allowance*
(milliseconds) for the variance between leaving the pacer and reaching the server's
clock; while the server's last `X-RateLimit-Remaining` (within a window) was 2 or more,
it is exactly the configured interval (an early arrival cannot be refused then). The
next slot counts from the socket write when the client reports it (`sent`), not from
leaving the turnstile.

It learns from the server:

- `X-RateLimit-Remaining` / `X-RateLimit-Reset`: nothing left → no request before the
  reset; few left → spread them over the time until the reset (other clients may share
  the key).
- a 429 without `Retry-After` (the limiter says nothing, like nginx): most likely two
  arrivals came closer than the limiter's spacing through jitter, so the jitter
  allowance widens first (doubles, at least +2 ms, up to `max_jitter_seconds` or half an
  interval) and the
  pace is cut only once the allowance is at its cap.
- a 429 with `Retry-After` (or a headerless one at the cap): no request before it (one
  interval without one), and the pace drops to `decrease` times its current value. The
  pace recovers by `recover_per_second` of the configured rate per second up to 95 % of
  the pace at which the 429 came, then by 1 % a second, never above the configured rate,
  so a server stricter than configured is learned in a few 429s.

Only a request let through after the last adjustment can trigger the next one, so a
burst of 429s from requests in flight together counts once. The clock and sleep are
injected, so tests run in virtual time.
"""

import threading
import time
from collections.abc import Callable

_MIN_FRACTION = 0.05
_CEILING_BELOW_429 = 0.95  # recover quickly only to just below where the last 429 came
_CEILING_DRIFT_PER_SECOND = 0.01  # ... and beyond it slowly: a stricter server is learned
_JITTER_STEP = 0.002  # seconds: the smallest widening of the jitter allowance
_EPSILON = 1e-9
#: seconds: buckets spaced wider than this may spend the room the server says it has
GRANT_MIN_INTERVAL = 30.0


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
        jitter_seconds: float = 0.0,
        max_jitter_seconds: float = 0.05,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a smooth bucket needs limit >= 1 and a positive window")
        if not 0 <= margin < 1 or not 0 < decrease < 1 or recover_per_second <= 0:
            raise ValueError("a smooth bucket needs 0 <= margin < 1, 0 < decrease < 1, recovery")
        if not 0 <= jitter_seconds <= max_jitter_seconds:
            raise ValueError("a smooth bucket needs 0 <= jitter_seconds <= max_jitter_seconds")
        self.limit = limit
        self.window_seconds = window_seconds
        self.exact_interval = window_seconds / limit
        self.base_interval = self.exact_interval * (1.0 + margin)
        # never more than half an interval: beyond that a 429 means a stricter server
        self._max_jitter = min(max_jitter_seconds, 0.5 * self.base_interval)
        self.jitter_seconds = min(jitter_seconds, self._max_jitter)
        self._clock = clock
        self._sleep = sleep
        self._decrease = decrease
        self._recover = recover_per_second
        self._lock = threading.Lock()  # guards the state below (never held while sleeping)
        self._gate = threading.Lock()  # the turnstile: one thread waits for the next slot
        self._mine = threading.local()
        self._next: float | None = None  # the earliest time the next request may go
        self._hold_until = float("-inf")
        self._slack_until = float("-inf")  # until then a late request does not delay the next
        self._exact_until = float("-inf")  # until then the server has room: no margin needed
        self._cut_fraction = 1.0  # the pace right after the last cut, as a fraction
        self._cut_at = float("-inf")
        self._widened_at = float("-inf")
        self._ceiling = 1.0  # just below the pace of the last 429; drifts back up slowly
        self._granted = 0  # requests the server said it still takes (slow buckets only)
        self._granted_until = float("-inf")

    def fraction(self, now: float | None = None) -> float:
        """The pace now, as a fraction of the configured rate (1.0 = full rate)."""
        now = self._clock() if now is None else now
        since = max(0.0, now - self._cut_at)
        recovered = self._cut_fraction + self._recover * since
        ceiling = self._ceiling + _CEILING_DRIFT_PER_SECOND * since
        return min(1.0, recovered, ceiling)

    def interval(self, now: float | None = None) -> float:
        """Seconds between two requests now: with margin and jitter allowance, or exactly
        the configured spacing while the server says it has room for two more."""
        now = self._clock() if now is None else now
        if now < self._exact_until:
            return self.exact_interval / self.fraction(now)
        return self._margin_interval(now)

    def _margin_interval(self, now: float) -> float:
        return self.base_interval / self.fraction(now) + self.jitter_seconds

    def acquire(self) -> float:
        """Wait for the next slot (one thread at a time); return the seconds waited."""
        waited = 0.0
        with self._gate:
            while True:
                with self._lock:
                    now = self._clock()
                    slot = max(now, self._hold_until, now if self._next is None else self._next)
                    if slot > now + _EPSILON and self._spend_grant(now):
                        slot = now
                    if slot <= now + _EPSILON:
                        # counted from when it really goes, unless the server tells of slack
                        start = slot if now < self._slack_until else now
                        self._next = start + self.interval(now)
                        self._mine.let_go = now  # its 429, if any, is judged by this
                        return waited
                self._sleep(slot - now)  # re-checked after: a 429 meanwhile may hold longer
                waited += slot - now

    def sent(self) -> None:
        """A request this bucket let through has just been written to the socket: unless
        the server tells of slack, the next slot counts from now. A thread held up between
        the turnstile and the socket (the interpreter lock, a busy core: up to 6 ms
        measured) then delays the next request instead of arriving that much closer to it."""
        with self._lock:
            now = self._clock()
            if self._next is not None and now >= self._slack_until:
                self._next = max(self._next, now + self.interval(now))

    def _spend_grant(self, now: float) -> bool:
        """Take one request of the room the server told of (caller holds the lock)."""
        if now < self._hold_until or now >= self._granted_until or self._granted < 2:
            return False
        self._granted -= 1
        return True

    def observe(self, remaining: int | None, reset: float | None) -> None:
        """Learn the server's count: `remaining` requests until Unix time `reset`."""
        if remaining is None or remaining < 0:
            return
        with self._lock:
            now = self._clock()
            if remaining >= 1:  # the limiter counts and has room: a late slot may catch up
                self._slack_until = now + self.window_seconds
            # room for two more: an early arrival by some jitter cannot be refused, so the
            # spacing needs no margin (one is kept spare for a request still in flight)
            self._exact_until = now + self.window_seconds if remaining >= 2 else float("-inf")
            if reset is None:
                return
            until = min(reset, now + self.window_seconds)  # never trust more than one window
            if until <= now:
                return
            if self.base_interval > GRANT_MIN_INTERVAL:
                self._granted, self._granted_until = remaining, until
            if remaining == 0:
                self._hold_until = max(self._hold_until, until)
                return
            # the last one lands before the reset; counted from this thread's request (whose
            # answer this is), not from its answer: a reply's latency is no reason to wait.
            # Only a spread slower than the margin's pace counts (a reset rounded up to the
            # second is not "few left"; running out early just holds until the reset).
            sent = min(now, getattr(self._mine, "let_go", now))
            spread = (until - sent) / (remaining + 1)
            if spread > self._margin_interval(now):
                self._next = max(self._next if self._next is not None else now, sent + spread)

    def throttled(self, retry_after: float | None) -> None:
        """A 429: widen the jitter allowance, or hold `retry_after` seconds and slow down."""
        with self._lock:
            now = self._clock()
            sent = getattr(self._mine, "let_go", None)
            self._granted = 0  # whatever the server said before, it is full now
            self._exact_until = float("-inf")
            if retry_after is None:
                self._slack_until = float("-inf")  # a limiter that says nothing: no catch-up
            stale = sent is not None and sent <= self._widened_at  # sent before a widening
            if retry_after is None and (stale or self.jitter_seconds < self._max_jitter):
                self._hold_until = max(self._hold_until, now + self.interval(now))
                if not stale:
                    widened = max(2.0 * self.jitter_seconds, self.jitter_seconds + _JITTER_STEP)
                    self.jitter_seconds = min(self._max_jitter, widened)
                    self._widened_at = now
                return
            wait = retry_after if retry_after is not None else 2.0 * self.interval(now)
            self._hold_until = max(self._hold_until, now + wait)
            if sent is None or sent > self._cut_at:  # sent at the pace a 429 has not cut
                current = self.fraction(now)
                self._ceiling = max(_MIN_FRACTION, current * _CEILING_BELOW_429)
                self._cut_fraction = max(_MIN_FRACTION, current * self._decrease)
                self._cut_at = now
