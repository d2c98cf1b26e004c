"""Choose the pacer of a run from settings: the shared Redis budget or per-process pacing.

"Running under a worker" means the process was started for a flow run by a Prefect
worker or runner: those set `PREFECT__FLOW_RUN_ID` in the flow run's environment
(prefect/workers/base.py `_base_flow_run_environment`). A flow called in-process by
`craflow release` does not have it, so the CLI paces alone unless told otherwise.
"""

import hashlib
import logging
import os
from collections.abc import Callable, Mapping

import redis

from config.api import API_PREFIX, ApiSettings, RateLimitSettings
from config.budget import BudgetSettings
from craflow.api.ratelimit import AUTH, READ, UPLOAD, WRITE, BucketPacer, NoPacing, Pacer
from craflow.budget.gcra import Adaptation, RedisBudget

logger = logging.getLogger("craflow.budget")

WORKER_ENV = "PREFECT__FLOW_RUN_ID"


def under_worker(environ: Mapping[str, str] = os.environ) -> bool:
    """True when a Prefect worker (or runner) started this process for a flow run."""
    return bool(environ.get(WORKER_ENV, "").strip())


def fingerprint(url: str, credential: str) -> str:
    """A stable, non-reversible name of (API URL, credential); never the credential itself."""
    base = url.strip().rstrip("/")
    base = base.removesuffix(API_PREFIX).rstrip("/").lower()
    digest = hashlib.sha256(f"{base}\n{credential}".encode()).hexdigest()
    return digest[:24]


def intervals(rates: RateLimitSettings, headroom: float) -> dict[str, float]:
    """Seconds between two requests of each bucket at `headroom` x the configured rate."""
    minute, hour = 60.0 / rates.window_scale, 3600.0 / rates.window_scale
    return {
        READ: minute / rates.read_per_minute / headroom,
        WRITE: minute / rates.write_per_minute / headroom,
        UPLOAD: hour / rates.upload_per_hour / headroom,
        AUTH: minute / rates.auth_per_minute / headroom,
    }


def _credential(api: ApiSettings) -> str:
    if api.api_key is not None:
        return api.api_key.get_secret_value()
    return api.email or ""


def _connect(budget: BudgetSettings) -> "redis.Redis":
    timeout = budget.connect_timeout_seconds
    return redis.Redis.from_url(
        budget.redis_url.get_secret_value(),
        socket_connect_timeout=timeout,
        socket_timeout=max(timeout, 5.0),
    )


def choose_pacer(
    api: ApiSettings,
    rates: RateLimitSettings,
    budget: BudgetSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    connect: Callable[[BudgetSettings], "redis.Redis"] = _connect,
) -> Pacer:
    """The pacer a run should use; warns and paces alone when the shared store is down."""
    if not rates.enabled:
        return NoPacing()
    local = BucketPacer(rates)
    shared = budget.mode == "shared" or (budget.mode == "auto" and under_worker(environ))
    if not shared:
        return local
    try:
        client = connect(budget)
        client.ping()
    except redis.RedisError as error:
        logger.warning(
            "shared API budget: Redis unreachable (%s); each process paces alone, so "
            "several workers together may exceed the API's rate",
            type(error).__name__,
        )
        return local
    prefix = f"{budget.key_prefix}:{fingerprint(api.url, _credential(api))}"
    return RedisBudget(
        client,
        key_prefix=prefix,
        intervals=intervals(rates, budget.headroom),
        fallback=local,
        hold_cap_seconds=budget.hold_cap_seconds,
        adapt=adaptation(rates, budget),
    )


def adaptation(rates: RateLimitSettings, budget: BudgetSettings) -> Adaptation:
    """The shared pace adapts as the local one does (the `CRAFLOW_RATE_*` settings)."""
    return Adaptation(
        decrease=rates.decrease_factor,
        recover_per_second=rates.recover_per_second,
        jitter_seconds=min(rates.jitter_allowance_seconds, rates.max_jitter_allowance_seconds),
        max_jitter_seconds=rates.max_jitter_allowance_seconds,
        memory_seconds=budget.memory_seconds,
    )


def pacer_for_run(environ: Mapping[str, str] = os.environ) -> Pacer:
    """The pacer of a run, from the settings read now (call it when the run starts)."""
    return choose_pacer(ApiSettings(), RateLimitSettings(), BudgetSettings(), environ=environ)
