"""A shared, burst-free GCRA in Redis: every request reserves the next free slot.

Per bucket one Redis key holds the "theoretical arrival time" (TAT, microseconds of the
Redis server's clock). `acquire` runs one Lua script that reads Redis' `TIME`, takes the
slot `max(TAT, now)`, moves the TAT one interval on and returns how long to wait for that
slot; the caller sleeps that long and sends. Because the script is atomic and every
process reads the same clock, N processes together never send two requests of a bucket
closer than one interval (the interval is the configured rate divided by `headroom`),
with no polling and no retry storms. A process that dies after reserving wastes one slot.

`observe` turns a server's "nothing left until T" (`X-RateLimit-Remaining: 0` with a
reset, or `Retry-After`) into a hold: the shared TAT moves to T for every process.

`throttled` (the client calls it on every 429: `AdaptivePacer`) adapts the shared pace
like the local pacer does (craflow/api/smooth.py), stored in Redis so a 429 seen by any
process slows every process: a 429 without `Retry-After` first widens the shared jitter
allowance (+2 ms, doubling, up to a cap); one with `Retry-After` (or at the cap) cuts the
pace to `decrease` x, which recovers by `recover_per_second` of the rate per second (to
95 % of the pace of the 429, then 1 %/s), never above the configured rate. What was
learned expires from Redis after `memory_seconds` without a 429.

While the server has not told of room (`X-RateLimit-Remaining` >= 1 within the last
minute: a window or a GCRA with burst), each send is also confirmed just before it goes
against the last real send of any process (`:sent` key), so a process that woke late
for its slot delays the next send instead of bunching with it: a limiter without burst
refuses that. It costs one more Redis call per request.

When Redis fails, the budget warns once and paces through the per-process `fallback`.
"""

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import redis

from craflow.api.ratelimit import AdaptivePacer, Pacer, reset_at
from craflow.budget import scripts

logger = logging.getLogger("craflow.budget")

_MICROS = 1_000_000
_MAX_CONFIRMS = 20  # a bound on re-checks before a send (each waits one spacing at most)
_SLACK_SECONDS = 60.0  # a server that told of room is trusted to have it this long


@dataclass(frozen=True)
class Adaptation:
    """How the shared pace adapts to 429s (the local pacer's settings, `CRAFLOW_RATE_*`)."""

    decrease: float = 0.8
    recover_per_second: float = 0.05
    jitter_seconds: float = 0.002
    max_jitter_seconds: float = 0.05
    memory_seconds: float = 3600.0


class RedisBudget:
    """A `Pacer` sharing one burst-free schedule per bucket through Redis."""

    def __init__(
        self,
        client: "redis.Redis",
        *,
        key_prefix: str,
        intervals: Mapping[str, float],
        fallback: Pacer,
        hold_cap_seconds: float = 300.0,
        adapt: "Adaptation | None" = None,
        confirm_sends: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if any(seconds <= 0 for seconds in intervals.values()):
            raise ValueError("every bucket needs a positive interval")
        self._client = client
        self._prefix = key_prefix
        self._intervals = {bucket: round(s * _MICROS) for bucket, s in intervals.items()}
        self._fallback = fallback
        self._hold_cap = hold_cap_seconds
        self._clock = clock
        self._sleep = sleep
        self._adapt = adapt or Adaptation()
        self._reserve = client.register_script(scripts.RESERVE)
        self._hold = client.register_script(scripts.HOLD)
        self._throttled = client.register_script(scripts.THROTTLED)
        self._confirm = client.register_script(scripts.CONFIRM)
        self._confirm_sends = confirm_sends
        self._slack_until: dict[str, float] = {}  # bucket -> until when the server has room
        self._mine = threading.local()  # per thread: the slot of its last request per bucket
        self.degraded = False

    def _shared_args(self, bucket: str) -> list[float]:
        interval = self._intervals[bucket]
        jitter = round(min(self._adapt.jitter_seconds * _MICROS, interval / 2))
        return [interval, jitter, self._adapt.recover_per_second]

    def key(self, bucket: str) -> str:
        """The Redis key of a bucket's schedule."""
        return f"{self._prefix}:{bucket}"

    def acquire(self, bucket: str) -> None:
        if self.degraded:
            self._fallback.acquire(bucket)
            return
        try:
            wait, slot = self._reserve(
                keys=[self.key(bucket), self.key(bucket) + ":pace"],
                args=self._shared_args(bucket),
            )
        except redis.RedisError as error:
            self._degrade(error)
            self._fallback.acquire(bucket)
            return
        slots = getattr(self._mine, "slots", None)
        if slots is None:
            slots = self._mine.slots = {}
        slots[bucket] = int(slot)
        if int(wait) > 0:
            self._sleep(int(wait) / _MICROS)
        if self._confirm_sends and self._clock() >= self._slack_until.get(bucket, float("-inf")):
            self._confirm_send(bucket)

    def _confirm_send(self, bucket: str) -> None:
        """Against a limiter without room: no send closer than one spacing to the last one.

        A process that wakes late for its slot sends close to the next process' slot; a
        limiter without burst refuses that. So, as the local pacer counts from the real
        send, each send is checked against the last real send of any process."""
        keys = [self.key(bucket) + ":sent", self.key(bucket) + ":pace"]
        for _ in range(_MAX_CONFIRMS):
            try:
                micros = int(self._confirm(keys=keys, args=self._shared_args(bucket)))
            except redis.RedisError as error:
                self._degrade(error)
                return
            if micros <= 0:
                return
            self._sleep(micros / _MICROS)

    def throttled(self, bucket: str, retry_after: float | None) -> None:
        """A 429 on *bucket*: adapt the shared pace for every process (see the module)."""
        if self.degraded:
            if isinstance(self._fallback, AdaptivePacer):
                self._fallback.throttled(bucket, retry_after)
            return
        interval = self._intervals[bucket]
        wait = -1 if retry_after is None else round(min(retry_after, self._hold_cap) * _MICROS)
        sent = getattr(self._mine, "slots", {}).get(bucket, -1)
        max_jitter = round(min(self._adapt.max_jitter_seconds * _MICROS, interval / 2))
        try:
            pace = self._throttled(
                keys=[self.key(bucket), self.key(bucket) + ":pace"],
                args=[
                    *self._shared_args(bucket),
                    wait,
                    sent,
                    max_jitter,
                    self._adapt.decrease,
                    round(self._adapt.memory_seconds * 1000),
                ],
            )
        except redis.RedisError as error:
            self._degrade(error)
            return
        logger.info(
            "shared API budget: 429 on the %s bucket, shared pace now %.0f %% of the rate",
            bucket,
            int(pace) / _MICROS * 100,
        )

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        self._fallback.observe(bucket, headers)
        lowered = {name.lower(): value for name, value in headers.items()}
        remaining = lowered.get("x-ratelimit-remaining", "").strip()
        if remaining.isdigit() and int(remaining) >= 1:  # a window or a burst: room to catch up
            self._slack_until[bucket] = self._clock() + _SLACK_SECONDS
        if self.degraded:
            return
        hold = self._hold_seconds(headers)
        if hold is None or hold <= 0:
            return
        try:
            self._hold(keys=[self.key(bucket)], args=[round(min(hold, self._hold_cap) * _MICROS)])
        except redis.RedisError as error:
            self._degrade(error)

    def _hold_seconds(self, headers: Mapping[str, str]) -> float | None:
        """Seconds the server asked everyone to wait, or None when it asked nothing."""
        lowered = {name.lower(): value for name, value in headers.items()}
        now = self._clock()
        retry_after = lowered.get("retry-after")
        if retry_after is not None:
            return _retry_after_seconds(retry_after, now=now)
        if lowered.get("x-ratelimit-remaining", "").strip() == "0":
            reset = reset_at(lowered.get("x-ratelimit-reset"), now=now)
            return None if reset is None else reset - now
        return None

    def _degrade(self, error: Exception) -> None:
        self.degraded = True
        logger.warning(
            "shared API budget: Redis unreachable (%s); pacing this process alone from now on",
            type(error).__name__,
        )


def _retry_after_seconds(value: str, *, now: float) -> float | None:
    """Seconds of a Retry-After value (delta-seconds or an HTTP date), or None."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            return parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError):
            return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
