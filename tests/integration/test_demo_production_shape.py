"""`craflow demo --ui` registers the production shape: Secret block, work pool, the
release deployment with its event trigger, the nightly sweep paused (issue 15, item 7)."""

import pytest
from pydantic import SecretStr

from config.deploy import DeploySettings


@pytest.mark.integration
def test_the_demo_registers_the_trigger_the_paused_sweep_and_the_secret(
    prefect_harness: None,
) -> None:
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client

    from craflow.demo.production_shape import register_production_shape
    from deployments.build import RELEASE_TRIGGER_NAME

    settings = DeploySettings(
        release_name="demo-shape-release", sweep_name="demo-shape-sweep", work_pool="demo-shape"
    )
    shape = register_production_shape(
        api_key=SecretStr("cra_demo_shape_key"), block_name="demo-shape-key", settings=settings
    )

    assert shape.release_deployment == "release/demo-shape-release"
    assert "paused" in " ".join(shape.lines())
    assert "cra_demo_shape_key" not in " ".join(shape.lines())
    assert Secret.load("demo-shape-key").get() == "cra_demo_shape_key"
    with get_client(sync_client=True) as client:
        release = client.read_deployment_by_name("release/demo-shape-release")
        sweep = client.read_deployment_by_name("sweep/demo-shape-sweep")
        automations = client.read_automations()
    assert release.paused is False
    assert release.work_pool_name == "demo-shape"
    assert sweep.paused is True
    assert [s.schedule.cron for s in sweep.schedules] == [settings.sweep_cron]  # type: ignore[union-attr]
    triggers = [
        a
        for a in automations
        if a.name == RELEASE_TRIGGER_NAME
        and any(getattr(act, "deployment_id", None) == release.id for act in a.actions)
    ]
    assert len(triggers) == 1
