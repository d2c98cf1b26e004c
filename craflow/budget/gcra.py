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

When Redis fails, the budget warns once and paces through the per-process `fallback`.
"""

import logging
import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

import redis

from craflow.api.ratelimit import Pacer, reset_at

logger = logging.getLogger("craflow.budget")

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tat, now)
local after = slot + tonumber(ARGV[1])
local ttl = math.ceil((after - now) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', ttl)
return slot - now
"""

_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = math.max(tat, now + tonumber(ARGV[1]))
local ttl = math.ceil((after - now) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', ttl)
return after - now
"""

_MICROS = 1_000_000


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
        self._reserve = client.register_script(_RESERVE)
        self._hold = client.register_script(_HOLD)
        self.degraded = False

    def key(self, bucket: str) -> str:
        """The Redis key of a bucket's schedule."""
        return f"{self._prefix}:{bucket}"

    def acquire(self, bucket: str) -> None:
        if self.degraded:
            self._fallback.acquire(bucket)
            return
        try:
            micros = int(self._reserve(keys=[self.key(bucket)], args=[self._intervals[bucket]]))
        except redis.RedisError as error:
            self._degrade(error)
            self._fallback.acquire(bucket)
            return
        if micros > 0:
            self._sleep(micros / _MICROS)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        self._fallback.observe(bucket, headers)
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
