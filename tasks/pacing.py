"""Rate buckets shared by every worker: a `Pacer` backed by Prefect global concurrency limits.

The client's own token buckets pace one process. Several workers sharing one API
key need one budget: each contract bucket (read, write, upload, auth) becomes a
Prefect global concurrency limit with `limit` = the bucket's size and a slot decay
of `limit / window` per second, created (or corrected) when the flow starts, and
every request takes one slot with `rate_limit(name, strict=True)` so a missing
limit is an error instead of a silent free-for-all. FACTS.md: Prefect's
`rate_limit` delivers about 55-65 % of the configured rate.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import rate_limit

from config.api import RateLimitSettings

_WINDOWS_SECONDS: dict[str, float] = {"read": 60.0, "write": 60.0, "upload": 3600.0, "auth": 60.0}


@dataclass(frozen=True)
class LimitSpec:
    """One Prefect global concurrency limit standing for one API rate bucket."""

    name: str
    limit: int
    slot_decay_per_second: float


def limit_specs(rates: RateLimitSettings, prefix: str) -> dict[str, LimitSpec]:
    """The limit of every contract bucket, named `{prefix}-{bucket}`."""
    sizes = {
        "read": rates.read_per_minute,
        "write": rates.write_per_minute,
        "upload": rates.upload_per_hour,
        "auth": rates.auth_per_minute,
    }
    return {
        bucket: LimitSpec(
            name=f"{prefix}-{bucket}",
            limit=size,
            slot_decay_per_second=size * rates.window_scale / _WINDOWS_SECONDS[bucket],
        )
        for bucket, size in sizes.items()
    }


def ensure_limits(specs: Mapping[str, LimitSpec]) -> None:
    """Create each limit if missing, or correct its size and decay (not atomic; idempotent)."""
    with get_client(sync_client=True) as client:
        for spec in specs.values():
            client.upsert_global_concurrency_limit_by_name(
                spec.name, spec.limit, slot_decay_per_second=spec.slot_decay_per_second
            )


class PrefectPacer:
    """A client `Pacer` that takes one slot of the bucket's Prefect limit per request."""

    def __init__(self, specs: Mapping[str, LimitSpec], *, timeout_seconds: float) -> None:
        self._names = {bucket: spec.name for bucket, spec in specs.items()}
        self._timeout = timeout_seconds

    @classmethod
    def create(
        cls, rates: RateLimitSettings, *, prefix: str, timeout_seconds: float
    ) -> "PrefectPacer":
        """Create or correct the limits on the Prefect server, then pace through them."""
        specs = limit_specs(rates, prefix)
        ensure_limits(specs)
        return cls(specs, timeout_seconds=timeout_seconds)

    def acquire(self, bucket: str) -> None:
        rate_limit(self._names[bucket], occupy=1, timeout_seconds=self._timeout, strict=True)

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        """Prefect limits cannot learn from the server's headers; the client's 429 handling does."""
        return None
