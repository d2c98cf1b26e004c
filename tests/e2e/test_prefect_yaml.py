"""`craflow setup` then `prefect deploy --all` against a real server: what gets stored."""

import subprocess
from pathlib import Path

import pytest

from deployments.triggers import RELEASE_REQUESTED
from tests.e2e.conftest import CRAFLOW, ROOT, PrefectApi, run_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def test_setup_is_idempotent_and_prefect_deploy_stores_schedule_and_trigger(
    client_env: dict[str, str], prefect_api: PrefectApi, tmp_path: Path
) -> None:
    env = {**client_env, "CRA_EVIDENCE_API_KEY": "cra_e2e_setup_key_1234"}
    first = run_command([*CRAFLOW, "setup"], env)
    assert first.returncode == 0, first.stderr
    assert "cra_e2e_setup_key_1234" not in first.stdout + first.stderr
    second = run_command([*CRAFLOW, "setup"], env)
    assert second.returncode == 0, second.stderr
    outcomes = [line.split()[-1] for line in second.stdout.splitlines() if line.strip()]
    assert outcomes and set(outcomes) == {"kept"}, second.stdout
    assert prefect_api.get("/work_pools/craflow-process").json()["type"] == "process"
    assert any(
        line.split()[:2] == ["automation", "craflow-crash-silent-runs"]
        for line in first.stdout.splitlines()
    ), first.stdout
    block = prefect_api.get("/block_types/slug/secret/block_documents/name/craflow-api-key")
    assert block.status_code == 200

    git_before = run_command(["git", "status", "--porcelain", "--", "prefect.yaml"], env)
    try:
        deployed = run_command(
            [str(Path(CRAFLOW[0]).parent / "prefect"), "--no-prompt", "deploy", "--all"], env
        )
        _check_stored(deployed, env, git_before, prefect_api)
    finally:
        # Leave the server as found: the served-deployment test registers the same names.
        prefect_api.delete_deployment("release", "release-on-event")
        prefect_api.delete_deployment("sweep", "nightly-sweep")


def _check_stored(
    deployed: "subprocess.CompletedProcess[str]",
    env: dict[str, str],
    git_before: "subprocess.CompletedProcess[str]",
    prefect_api: PrefectApi,
) -> None:
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    git_after = run_command(["git", "status", "--porcelain", "--", "prefect.yaml"], env)
    assert git_after.stdout == git_before.stdout, "prefect deploy must not rewrite prefect.yaml"

    sweep = prefect_api.deployment("sweep", "nightly-sweep")
    (schedule,) = sweep["schedules"]
    assert schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "Europe/Berlin"
    assert schedule["active"] is True
    assert sweep["work_pool_name"] == "craflow-process"

    release = prefect_api.deployment("release", "release-on-event")
    assert release["work_pool_name"] == "craflow-process"
    assert release["pull_steps"][0]["prefect.deployments.steps.set_working_directory"][
        "directory"
    ] == str(ROOT)
    (automation,) = prefect_api.automations_of(release["id"])
    trigger = automation["trigger"]
    assert trigger["expect"] == [RELEASE_REQUESTED]
    assert trigger["match"] == {"prefect.resource.id": "craflow.product.*"}
    (action,) = automation["actions"]
    assert action["type"] == "run-deployment"
    assert "event.payload.version" in str(action["parameters"]["request"]["version"])
    assert "craflow.product" in str(action["parameters"]["request"]["product"])
