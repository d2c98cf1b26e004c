"""`craflow setup`: the Secret block, the work pool and the rate-limit buckets, idempotently.

Running it twice changes nothing the second time (every step says "kept"); running it
with new settings updates what differs. The API key is never printed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
    WorkPoolCreate,
)
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.workers.utilities import get_default_base_job_template_for_infrastructure_type
from pydantic import SecretStr

from tasks.pacing import LimitSpec

Outcome = Literal["created", "updated", "kept", "skipped"]


@dataclass(frozen=True)
class SetupStep:
    """What one setup step did, for the command's report."""

    what: str
    name: str
    outcome: Outcome


async def ensure_api_key_block(name: str, api_key: SecretStr | None) -> SetupStep:
    """Create or update the Secret block when a key is given; keep an existing block otherwise."""
    existing: object | None
    try:
        block: Secret[str] = await Secret.aload(name)
        existing = block.get()
    except ValueError:
        existing = None
    if api_key is None:
        return SetupStep("secret block", name, "kept" if existing is not None else "skipped")
    value = api_key.get_secret_value()
    if existing == value:
        return SetupStep("secret block", name, "kept")
    await Secret(value=value).asave(name, overwrite=True)
    return SetupStep("secret block", name, "created" if existing is None else "updated")


async def ensure_work_pool(name: str, pool_type: str) -> SetupStep:
    """Create the work pool with its type's default job template unless it exists."""
    template = await get_default_base_job_template_for_infrastructure_type(pool_type)
    create = WorkPoolCreate(name=name, type=pool_type, base_job_template=template or {})
    async with get_client() as client:
        try:
            await client.create_work_pool(create)
        except ObjectAlreadyExists:
            return SetupStep("work pool", name, "kept")
    return SetupStep("work pool", name, "created")


async def ensure_rate_limit(spec: LimitSpec) -> SetupStep:
    """Create the global concurrency limit, or correct its size and refill rate if they differ."""
    async with get_client() as client:
        try:
            current = await client.read_global_concurrency_limit_by_name(spec.name)
        except ObjectNotFound:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=spec.name,
                    limit=spec.limit,
                    slot_decay_per_second=spec.slot_decay_per_second,
                )
            )
            return SetupStep("rate limit", spec.name, "created")
        decay_gap = abs((current.slot_decay_per_second or 0.0) - spec.slot_decay_per_second)
        if current.limit == spec.limit and decay_gap < 1e-9:
            return SetupStep("rate limit", spec.name, "kept")
        await client.update_global_concurrency_limit(
            spec.name,
            GlobalConcurrencyLimitUpdate(
                limit=spec.limit, slot_decay_per_second=spec.slot_decay_per_second
            ),
        )
    return SetupStep("rate limit", spec.name, "updated")


async def run_setup(
    *,
    block_name: str,
    api_key: SecretStr | None,
    pool_name: str,
    pool_type: str,
    limits: Iterable[LimitSpec],
) -> list[SetupStep]:
    """Every setup step, in order."""
    steps = [
        await ensure_api_key_block(block_name, api_key),
        await ensure_work_pool(pool_name, pool_type),
    ]
    steps.extend([await ensure_rate_limit(spec) for spec in limits])
    return steps
