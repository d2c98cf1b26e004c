"""The release deployment served by `craflow serve`, triggered by `craflow trigger-release`.

A real Prefect server, the sandbox and a loopback S3 endpoint; the API key reaches the
flow through the Prefect Secret block `craflow setup` stored (never as a parameter).
The same event twice gives two flow runs but one upload and one promotion.
"""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest

from craflow.demo.sample import CLEAN_REQUIREMENTS, write_sample
from craflow.evidence.verify import verify_run
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from craflow.sbom import generate_sbom, write_sbom
from tests.e2e.conftest import CRAFLOW, PrefectApi, run_command, wait_until

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PRODUCT = "e2e-webshop"
VERSION = "2.0.0"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with start_sandbox(host="127.0.0.1", scan_seconds=0.3) as running:
        yield running


BUCKET = "craflow-e2e-evidence"


@pytest.fixture
def s3(local_s3: LocalS3) -> "S3Client":
    return boto3.session.Session().client(
        "s3",
        endpoint_url=local_s3.endpoint_url,
        region_name=local_s3.region,
        aws_access_key_id=local_s3.access_key,
        aws_secret_access_key=local_s3.secret_key,
    )


@pytest.fixture
def bucket(s3: "S3Client") -> str:
    s3.create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def served(
    client_env: dict[str, str],
    sandbox: RunningSandbox,
    local_s3: LocalS3,
    bucket: str,
    tmp_path: Path,
) -> Iterator[dict[str, str]]:
    """`craflow serve` running against the e2e server; yields the environment it runs with."""
    setup_env = {**client_env, "CRA_EVIDENCE_API_KEY": sandbox.api_key}
    setup = run_command([*CRAFLOW, "setup"], setup_env)
    assert setup.returncode == 0, setup.stderr
    assert sandbox.api_key not in setup.stdout + setup.stderr

    env = {k: v for k, v in client_env.items() if not k.startswith("CRA_EVIDENCE_")}
    env.update(boto3_session_env(local_s3))
    env.update(
        {
            "CRA_EVIDENCE_URL": sandbox.url,
            "CRAFLOW_EVIDENCE_DESTINATION": f"s3://{bucket}/evidence",
            "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": "0.2",
            "CRAFLOW_RELEASE_POLL_CAP_SECONDS": "1.0",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        }
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*CRAFLOW, "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield env
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        print(log_path.read_text(errors="replace")[-4000:])


def _sbom(tmp_path: Path) -> Path:
    source = write_sample(tmp_path / "sample", VERSION, CLEAN_REQUIREMENTS)
    bom = generate_sbom(
        "requirements", str(source), product=PRODUCT, version=VERSION, reproducible=True
    )
    return write_sbom(bom, tmp_path / f"{PRODUCT}-{VERSION}.cdx.json")


def _audit(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{sandbox.url}/_sandbox/audit",
        params={"product": PRODUCT, "version": VERSION},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=30,
    )
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()
    return events


def test_a_requested_release_runs_once_per_event_and_uploads_and_promotes_once(
    served: dict[str, str],
    sandbox: RunningSandbox,
    prefect_api: PrefectApi,
    s3: "S3Client",
    tmp_path: Path,
) -> None:
    deployment = wait_until(
        lambda: _deployment_with_trigger(prefect_api), timeout=240, what="the served deployment"
    )
    sbom = _sbom(tmp_path)
    trigger = [
        *CRAFLOW,
        "trigger-release",
        "--product",
        PRODUCT,
        "--version",
        VERSION,
        "--sbom",
        str(sbom),
        "--fail-on",
        "high",
    ]
    first = run_command(trigger, served)
    assert first.returncode == 0, first.stderr
    runs = wait_until(
        lambda: _finished_runs(prefect_api, deployment["id"], 1), timeout=300, what="run 1"
    )
    second = run_command(trigger, served)
    assert second.returncode == 0, second.stderr
    runs = wait_until(
        lambda: _finished_runs(prefect_api, deployment["id"], 2), timeout=300, what="run 2"
    )

    assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"], runs
    parameters = runs[0]["parameters"]["request"]
    assert parameters["product"] == PRODUCT
    assert parameters["version"] == VERSION
    assert parameters["new_only"] is False
    assert "api_key" not in str(parameters).lower()

    audit = _audit(sandbox)
    uploads = [e for e in audit if e["event"] == "sbom.ingested"]
    promotions = [
        e
        for e in audit
        if e["event"] == "release_state.changed"
        and e["details"].get("to") == "released"
        and not e["details"].get("noop")
    ]
    assert len(uploads) == 1, audit
    assert len(promotions) == 1, audit

    version = _sandbox_version(sandbox)
    assert version["release_state"] == "released"

    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"evidence/{PRODUCT}/{VERSION}/")
    manifests = [
        o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith("/manifest.json")
    ]
    assert len(manifests) == 1, manifests  # archived once, not once per event
    result = verify_run(f"s3://{BUCKET}/{manifests[0]}", s3_client=s3)
    assert result.ok, result.mismatches
    assert result.checked >= 3


def _deployment_with_trigger(api: PrefectApi) -> dict[str, Any] | None:
    response = api.get("/deployments/name/release/release-on-event")
    if response.status_code != 200:
        return None
    deployment: dict[str, Any] = response.json()
    return deployment if api.automations_of(deployment["id"]) else None


def _finished_runs(api: PrefectApi, deployment_id: str, count: int) -> list[dict[str, Any]]:
    runs = api.flow_runs_of(deployment_id)
    if len(runs) >= count and all(r["state_type"] in TERMINAL for r in runs):
        return runs
    return []


def _sandbox_version(sandbox: RunningSandbox) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    status = httpx.get(
        f"{sandbox.api_url}/ci/status",
        params={"product": PRODUCT, "version": VERSION},
        headers=headers,
        timeout=30,
    )
    status.raise_for_status()
    version: dict[str, Any] = status.json()["version"]
    return version
