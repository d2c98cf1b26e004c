"""The served deployments equal prefect.yaml's: names, entry points, tags, schedules."""

from pathlib import Path
from typing import Any

import yaml

from config.deploy import DeploySettings
from deployments.automations import HEARTBEAT, zombie_automation
from deployments.build import all_deployments

ROOT = Path(__file__).resolve().parents[3]


def _yaml_deployments() -> dict[str, dict[str, Any]]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return {d["name"]: d for d in loaded["deployments"]}


def test_every_served_deployment_is_in_prefect_yaml_with_the_same_shape() -> None:
    in_yaml = _yaml_deployments()
    served = all_deployments(DeploySettings())
    assert [d.name for d in served] == [
        "release-on-event",
        "nightly-sweep",
        "sweep-product",
        "incident-clock",
    ]
    for deployment in served:
        entry = in_yaml[deployment.name]
        module, function = str(deployment.entrypoint).rsplit(".", 1)
        assert entry["entrypoint"] == f"{module.replace('.', '/')}.py:{function}"
        assert entry["tags"] == deployment.tags
        assert entry["work_pool"]["name"] == DeploySettings().work_pool
        crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules or []]
        assert crons == [(s["cron"], s["timezone"]) for s in entry.get("schedules", [])]


def test_the_incident_clock_is_hourly_at_five_past_in_utc() -> None:
    clock = _yaml_deployments()["incident-clock"]
    assert clock["entrypoint"] == "flows/incident.py:incident_clock_flow"
    assert clock["schedules"] == [{"cron": "5 * * * *", "timezone": "UTC", "active": True}]
    assert clock["tags"] == ["craflow", "incident"]
    assert "schedules" not in _yaml_deployments()["sweep-product"]


def test_the_kubernetes_pool_example_is_defined() -> None:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    pool = loaded["definitions"]["work_pools"]["craflow_kubernetes"]
    assert pool["name"] == "craflow-k8s"
    assert "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" in pool["job_variables"]["env"]


def test_silent_runs_are_crashed_after_the_window() -> None:
    automation = zombie_automation(within_seconds=90)
    trigger = automation.trigger
    assert trigger.posture == "Proactive"
    assert trigger.after == {HEARTBEAT}
    assert HEARTBEAT in trigger.expect and "prefect.flow-run.Completed" in trigger.expect
    assert trigger.within.total_seconds() == 90
    assert automation.actions[0].type == "change-flow-run-state"
