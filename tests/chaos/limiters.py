"""Four kinds of server-side rate limiter, in injected time: the shapes craflow must survive.

Each `admit(now)` answers `(allowed, headers)`: the headers a real limiter of that kind
sends (on success and on 429). Used by the virtual-time unit tests and by
`benchmarks/limiters.py`, which puts them in front of the sandbox.

- `FixedWindow`: `limit` per aligned window, `X-RateLimit-*` headers, `Retry-After` on 429.
- `SlidingWindow`: `limit` in any window (a log), headers, `Retry-After` on 429.
- `LeakyBucket`: nginx `limit_req` without `burst=`: one request per `1/rate` s, nothing
  else; no headers at all, 429 without `Retry-After`.
- `Gcra`: generic cell rate (redis-cell, Envoy) with a small burst, remaining + Retry-After.
"""

import math
import threading
from dataclasses import dataclass, field

Headers = dict[str, str]


@dataclass
class FixedWindow:
    limit: int
    window: float
    start: float = 0.0
    count: int = 0
    index: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    kind: str = "fixed-window"

    def rate(self) -> float:
        return self.limit / self.window

    def admit(self, now: float) -> tuple[bool, Headers]:
        with self.lock:
            index = math.floor((now - self.start) / self.window)
            window_end = self.start + (index + 1) * self.window
            if self.index != index:
                self.index = index
                self.count = 0
            reset = str(math.ceil(window_end))
            if self.count >= self.limit:
                wait = str(max(1, math.ceil(window_end - now)))
                return False, {
                    "Retry-After": wait,
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                }
            self.count += 1
            return True, {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.limit - self.count),
                "X-RateLimit-Reset": reset,
            }


@dataclass
class SlidingWindow:
    limit: int
    window: float
    log: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    kind: str = "sliding-window"

    def rate(self) -> float:
        return self.limit / self.window

    def admit(self, now: float) -> tuple[bool, Headers]:
        with self.lock:
            self.log = [t for t in self.log if t > now - self.window]
            if len(self.log) >= self.limit:
                wait = self.log[0] + self.window - now
                return False, {"Retry-After": str(max(1, math.ceil(wait)))}
            self.log.append(now)
            return True, {"X-RateLimit-Remaining": str(self.limit - len(self.log))}


@dataclass
class LeakyBucket:
    per_second: float
    next_free: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    kind: str = "token-bucket-no-burst"

    def rate(self) -> float:
        return self.per_second

    def admit(self, now: float) -> tuple[bool, Headers]:
        with self.lock:
            if now < self.next_free - 1e-3:  # nginx counts in milliseconds
                return False, {}
            self.next_free = max(now, self.next_free) + 1.0 / self.per_second
            return True, {}


@dataclass
class Gcra:
    per_second: float
    burst: int = 3
    tat: float = -math.inf  # theoretical arrival time
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    kind: str = "gcra-small-burst"

    def rate(self) -> float:
        return self.per_second

    def admit(self, now: float) -> tuple[bool, Headers]:
        with self.lock:
            interval = 1.0 / self.per_second
            tat = max(self.tat, now)
            allow_at = tat - self.burst * interval
            if now < allow_at:
                return False, {
                    "Retry-After": str(max(1, math.ceil(allow_at - now))),
                    "X-RateLimit-Remaining": "0",
                }
            self.tat = tat + interval
            left = math.floor((now - (self.tat - (self.burst + 1) * interval)) / interval)
            return True, {"X-RateLimit-Remaining": str(max(0, left))}


Limiter = FixedWindow | SlidingWindow | LeakyBucket | Gcra


def make_limiter(kind: str, per_minute: int, *, start: float = 0.0) -> Limiter:
    """A limiter of *kind* allowing *per_minute* on average."""
    if kind == "fixed-window":
        return FixedWindow(per_minute, 60.0, start=start)
    if kind == "sliding-window":
        return SlidingWindow(per_minute, 60.0)
    if kind == "token-bucket-no-burst":
        return LeakyBucket(per_minute / 60.0)
    if kind == "gcra-small-burst":
        return Gcra(per_minute / 60.0, burst=3)
    raise ValueError(f"unknown limiter kind {kind!r}")


KINDS = ("fixed-window", "sliding-window", "token-bucket-no-burst", "gcra-small-burst")
