"""Fixed-window rate limits per caller and bucket, with the published numbers.

`rate_scale` divides every window (60 makes "per minute" mean "per second").
"""

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from config.sandbox import SandboxSettings

UPLOAD_PATHS = frozenset({"/api/v1/sboms/ingest", "/api/v1/ci/upload"})
AUTH_PREFIXES = ("/api/v1/auth/", "/api/v1/oidc/token")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Bucket:
    name: str
    limit: int
    window_seconds: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix seconds when the bucket refills
    retry_after: int  # seconds, meaningful when not allowed


def buckets_from(settings: SandboxSettings) -> dict[str, Bucket]:
    """The four published buckets, and a twin of each counting 401s per client address."""
    scale = settings.rate_scale
    published = {
        "read": Bucket("read", settings.read_limit_per_minute, 60.0 / scale),
        "write": Bucket("write", settings.write_limit_per_minute, 60.0 / scale),
        "upload": Bucket("upload", settings.upload_limit_per_hour, 3600.0 / scale),
        "auth": Bucket("auth", settings.auth_limit_per_minute, 60.0 / scale),
    }
    twins = {
        f"unauthenticated-{name}": Bucket(f"unauthenticated-{name}", b.limit, b.window_seconds)
        for name, b in published.items()
    }
    return published | twins


def bucket_name(method: str, path: str) -> str:
    """Which bucket a request counts against."""
    if path.startswith(AUTH_PREFIXES):
        return "auth"
    if path.rstrip("/") in UPLOAD_PATHS and method == "POST":
        return "upload"
    return "write" if method.upper() in _WRITE_METHODS else "read"


class RateLimiter:
    def __init__(self, buckets: dict[str, Bucket], clock: Callable[[], float]) -> None:
        self._buckets = buckets
        self._clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, caller: str, bucket_key: str) -> Decision:
        """Count one request; say whether it may proceed and what the headers are."""
        return self._decide(caller, bucket_key, count_it=True)

    def peek(self, caller: str, bucket_key: str) -> Decision | None:
        """The decision *caller* would get now, without counting; None if never counted."""
        with self._lock:
            if (caller, bucket_key) not in self._windows:
                return None
        return self._decide(caller, bucket_key, count_it=False)

    def _decide(self, caller: str, bucket_key: str, *, count_it: bool) -> Decision:
        bucket = self._buckets[bucket_key]
        now = self._clock()
        with self._lock:
            start, count = self._windows.get((caller, bucket_key), (now, 0))
            if now >= start + bucket.window_seconds:
                start, count = now, 0
            allowed = count < bucket.limit
            if allowed and count_it:
                count += 1
            self._windows[(caller, bucket_key)] = (start, count)
        reset = start + bucket.window_seconds
        return Decision(
            allowed=allowed,
            limit=bucket.limit,
            remaining=max(bucket.limit - count, 0),
            reset_at=math.ceil(reset),
            retry_after=max(math.ceil(reset - now), 1),
        )
