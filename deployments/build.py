"""The release and sweep deployments, built from the flows' module entry points.

`release_deployment` is triggered by `craflow.release.requested`; `sweep_deployment` runs
on a cron schedule in a time zone. Both use module-path entry points
(`flows.release.release_flow`), so any process with craflow installed can load them:
`craflow serve` runs them itself, a worker of the work pool runs them after
`craflow deploy`.
"""

from typing import cast

from prefect import deploy, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from config.deploy import DeploySettings
from deployments.triggers import (
    PRODUCT_RESOURCE_PREFIX,
    RELEASE_EVENT_PARAMETERS,
    RELEASE_REQUESTED,
)

RELEASE_TAGS = ["craflow", "release"]
SWEEP_TAGS = ["craflow", "sweep"]
RELEASE_TRIGGER_NAME = "craflow-release-requested"


def release_trigger() -> DeploymentEventTrigger:
    """Run the release flow once per `craflow.release.requested` event on a product."""
    return DeploymentEventTrigger(
        name=RELEASE_TRIGGER_NAME,
        description="Run the release flow for the product and version named in the event.",
        expect={RELEASE_REQUESTED},
        match={"prefect.resource.id": f"{PRODUCT_RESOURCE_PREFIX}*"},
        parameters=dict(RELEASE_EVENT_PARAMETERS),
    )


def release_deployment(settings: DeploySettings) -> RunnerDeployment:
    """The event-triggered release deployment."""
    from flows.release import release_flow

    return cast(
        RunnerDeployment,
        release_flow.to_deployment(
            name=settings.release_name,
            description="Gate, promote and archive a product version when a release is requested.",
            tags=RELEASE_TAGS,
            triggers=[release_trigger()],
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )


def sweep_deployment(settings: DeploySettings) -> RunnerDeployment:
    """The scheduled portfolio sweep deployment."""
    from flows.sweep import sweep_flow

    return cast(
        RunnerDeployment,
        sweep_flow.to_deployment(
            name=settings.sweep_name,
            description="Rescan every released or approved version and report what changed.",
            tags=SWEEP_TAGS,
            schedule=Cron(settings.sweep_cron, timezone=settings.sweep_timezone),
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )


def all_deployments(settings: DeploySettings) -> list[RunnerDeployment]:
    """Both deployments, release first."""
    return [release_deployment(settings), sweep_deployment(settings)]


def serve_all(settings: DeploySettings) -> None:
    """Serve both deployments from this process until interrupted (schedules and triggers live)."""
    serve(*all_deployments(settings), limit=settings.serve_limit)


def deploy_all(settings: DeploySettings) -> list[str]:
    """Register both deployments with the work pool; returns their ids."""
    ids = deploy(
        *all_deployments(settings),
        work_pool_name=settings.work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return [str(deployment_id) for deployment_id in cast(list[object], ids)]
