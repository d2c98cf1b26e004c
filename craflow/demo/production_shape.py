"""With `craflow demo --ui`: register what production has, so the UI shows its shape.

The Secret block with the API key, the work pool, the event-triggered release deployment
and the nightly sweep deployment (registered paused: the sandbox is gone once the demo
ends, and no worker runs in the demo's pool). Built by the same functions as
`craflow setup` and `craflow deploy`. Import only after the demo's environment is applied.
"""

import asyncio
from dataclasses import dataclass

from pydantic import SecretStr

from config.deploy import DeploySettings
from deployments.build import release_deployment, sweep_deployment
from deployments.setup import run_setup
from deployments.triggers import RELEASE_REQUESTED


@dataclass(frozen=True)
class ProductionShape:
    """What was registered on the demo's Prefect server, for the report."""

    secret_block: str
    work_pool: str
    release_deployment: str
    sweep_deployment: str
    sweep_schedule: str

    def lines(self) -> list[str]:
        return [
            f"  deployments   {self.release_deployment} (runs on {RELEASE_REQUESTED}), "
            f"{self.sweep_deployment} ({self.sweep_schedule}, paused) in work pool "
            f"{self.work_pool} (no worker: `craflow serve` or a worker would run them)",
            f"  Secret block  {self.secret_block} (the sandbox's API key)",
        ]


def register_production_shape(
    *, api_key: SecretStr, block_name: str, settings: DeploySettings
) -> ProductionShape:
    """Create the Secret block and work pool, register both deployments (sweep paused)."""
    asyncio.run(
        run_setup(
            block_name=block_name,
            api_key=api_key,
            pool_name=settings.work_pool,
            pool_type=settings.work_pool_type,
        )
    )
    release = release_deployment(settings)
    release.apply(work_pool_name=settings.work_pool)
    sweep = sweep_deployment(settings)
    sweep.paused = True
    sweep.apply(work_pool_name=settings.work_pool)
    return ProductionShape(
        secret_block=block_name,
        work_pool=settings.work_pool,
        release_deployment=release.full_name,
        sweep_deployment=sweep.full_name,
        sweep_schedule=f"cron {settings.sweep_cron} {settings.sweep_timezone}",
    )
