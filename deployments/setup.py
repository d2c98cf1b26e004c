"""`craflow setup`: the Secret block, the work pool and the crash automation, idempotently.

Running it twice changes nothing the second time (every step says "kept"); running it
with new settings updates what differs. The API key is never printed.
"""

from dataclasses import dataclass
from typing import Literal

from prefect.automations import Automation
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.workers.utilities import get_default_base_job_template_for_infrastructure_type
from pydantic import SecretStr

from deployments.automations import (
    ZOMBIE_AUTOMATION_NAME,
    ensure_zombie_automation,
    zombie_automation,
)

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


def _same(current: Automation, wanted: Automation) -> bool:
    """The same trigger and actions, ignoring the ids the server gave them."""
    return bool(
        current.trigger.model_dump(exclude={"id"}) == wanted.trigger.model_dump(exclude={"id"})
        and [a.model_dump() for a in current.actions] == [a.model_dump() for a in wanted.actions]
    )


async def ensure_crash_automation(within_seconds: int) -> SetupStep:
    """The automation that marks a dead worker's runs Crashed (deployments/automations.py)."""
    try:
        current = await Automation.aread(name=ZOMBIE_AUTOMATION_NAME)
    except ValueError:
        current = None
    wanted = zombie_automation(within_seconds)
    if current is not None and _same(current, wanted):
        return SetupStep("automation", ZOMBIE_AUTOMATION_NAME, "kept")
    await ensure_zombie_automation(within_seconds)
    outcome: Outcome = "created" if current is None else "updated"
    return SetupStep("automation", ZOMBIE_AUTOMATION_NAME, outcome)


async def run_setup(
    *,
    block_name: str,
    api_key: SecretStr | None,
    pool_name: str,
    pool_type: str,
    crash_after_seconds: int = 600,
) -> list[SetupStep]:
    """Every setup step, in order."""
    return [
        await ensure_api_key_block(block_name, api_key),
        await ensure_work_pool(pool_name, pool_type),
        await ensure_crash_automation(crash_after_seconds),
    ]
