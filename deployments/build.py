"""craflow's deployments, built from the flows' module entry points.

`release_deployment` is triggered by `craflow.release.requested`; `sweep_deployment` runs
on a cron schedule in a time zone; `sweep_product_deployment` checks one chunk of a
fanned-out sweep (run by the sweep, never scheduled); `incident_deployment` is the hourly
Art. 14 clock (UTC). All use module-path entry points
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
INCIDENT_TAGS = ["craflow", "incident"]
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


def sweep_product_deployment(settings: DeploySettings) -> RunnerDeployment:
    """One chunk of a fanned-out sweep; the sweep creates its runs (`run_deployment`)."""
    from flows.sweep import sweep_product_flow

    return cast(
        RunnerDeployment,
        sweep_product_flow.to_deployment(
            name=settings.sweep_product_name,
            description="Rescan one product's versions for a fanned-out sweep.",
            tags=SWEEP_TAGS,
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )


def incident_deployment(settings: DeploySettings) -> RunnerDeployment:
    """The hourly Art. 14 reporting clock (cron in UTC)."""
    from flows.incident import incident_clock_flow

    return cast(
        RunnerDeployment,
        incident_clock_flow.to_deployment(
            name=settings.incident_name,
            description="Art. 14 clock: due and overdue reports of open incident cases.",
            tags=INCIDENT_TAGS,
            schedule=Cron(settings.incident_cron, timezone="UTC"),
            entrypoint_type=EntrypointType.MODULE_PATH,
        ),
    )


def all_deployments(settings: DeploySettings) -> list[RunnerDeployment]:
    """Every deployment: release, sweep, the sweep's chunk runs, the incident clock."""
    return [
        release_deployment(settings),
        sweep_deployment(settings),
        sweep_product_deployment(settings),
        incident_deployment(settings),
    ]


def serve_all(settings: DeploySettings) -> None:
    """Serve every deployment from this process until interrupted (schedules and triggers live)."""
    serve(*all_deployments(settings), limit=settings.serve_limit)


def deploy_all(settings: DeploySettings) -> list[str]:
    """Register every deployment with the work pool; returns their ids."""
    ids = deploy(
        *all_deployments(settings),
        work_pool_name=settings.work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return [str(deployment_id) for deployment_id in cast(list[object], ids)]
