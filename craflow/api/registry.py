"""One pacer per (API URL, API key) for the whole process.

Release, sweep, compare and export each open their own client, often several at once in
one process (a sweep runs many flow runs' tasks in threads). The server counts one budget
per API key, so the pacing must be one too: `shared_pacer` returns the same `BucketPacer`
(one `SmoothBucket` per contract bucket) for every client of one base URL and key. The key
itself is never stored, only a digest of it.
"""

import hashlib
import threading

from config.api import RateLimitSettings
from craflow.api.ratelimit import BucketPacer

_LOCK = threading.Lock()
_PACERS: dict[tuple[str, str], BucketPacer] = {}


def _digest(secret: str | None) -> str:
    return hashlib.sha256((secret or "").encode()).hexdigest()[:32]


def shared_pacer(api_base: str, secret: str | None, rates: RateLimitSettings) -> BucketPacer:
    """The process's pacer for *api_base* and the credential *secret* (created on first use).

    The first client's rates win; later clients of the same key share its buckets.
    """
    key = (api_base.rstrip("/"), _digest(secret))
    with _LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = BucketPacer(rates)
            _PACERS[key] = pacer
        return pacer


def forget_pacers() -> None:
    """Drop every shared pacer (tests, or a process that changes its limits)."""
    with _LOCK:
        _PACERS.clear()
