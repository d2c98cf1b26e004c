"""An API server killed with SIGKILL behind the balancer, then restarted: every release run
completes and nothing is uploaded, promoted or archived twice.

Starts the stack on the machine's PostgreSQL and Redis (fresh database, dropped after)
with two API servers behind the loopback balancer and one worker, a sandbox with slow
scans and a versioned loopback S3 bucket; deploys the release flow to the stack's pool
and starts one release run per product (distinct products and versions). Once every run
is Running (they then poll the scan for SCAN_SECONDS), server-0's process group is
killed; `craflow stack restart`'s function starts it again a few seconds later. A run
that crashed anyway is re-run once, as CI would. Then: every run (or its re-run)
Completed; per release one SBOM, one ingestion, one promotion; in S3 one run folder per
release and one object version per key.

The same with one API server and no balancer (every client loses the API while it is
down) runs with CRAFLOW_TEST_KILL_SINGLE_SERVER=1: it passed too, but doubles the time.
"""

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from config.stack import StackSettings
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from craflow.stack import StackState, down, restart, up
from craflow.stack.environment import stack_environment
from craflow.stack.preflight import drop_database
from craflow.stack.state import alive
from tests.fixtures.sandbox import release_facts
from tests.integration.release.helpers import write_bom
from tests.integration.services import REDIS_TEST_DB, need_postgres_and_redis

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
RUNS = 3
SCAN_SECONDS = 30.0  # the runs poll this long: the kill lands while they are in flight
DOWN_SECONDS = 5.0  # server-0 stays dead this long before the restart begins
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with start_sandbox(
        scan_seconds=SCAN_SECONDS, rate_scale=3600.0, data_dir=tmp_path / "sandbox"
    ) as running:
        yield running


def _client_env(sandbox: RunningSandbox, s3: LocalS3, bucket: str) -> dict[str, str]:
    """The environment `up` builds the stack's on: the worker's flow runs reach the sandbox,
    S3 and the budget's Redis; the archive root is the configured default."""
    return {
        **os.environ,
        **boto3_session_env(s3),
        "PYTHONPATH": str(ROOT),
        "CRA_EVIDENCE_URL": sandbox.url,
        "CRA_EVIDENCE_API_KEY": sandbox.api_key,
        "CRAFLOW_RATE_ENABLED": "false",
        "CRAFLOW_RELEASE_EXPORT": f"s3://{bucket}/evidence",
        "CRAFLOW_BUDGET_REDIS_URL": REDIS_URL,
        "CRAFLOW_BUDGET_KEY_PREFIX": f"craflow:test:{uuid.uuid4().hex[:8]}",
        "CRAFLOW_RELEASE_POLL_INITIAL_SECONDS": "0.5",
        "CRAFLOW_RELEASE_POLL_CAP_SECONDS": "2",
        "CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS": "300",
    }


def _deploy_and_start(settings: StackSettings, requests: list[dict[str, str]]) -> list[Any]:
    from prefect import deploy
    from prefect.deployments import run_deployment

    from config.deploy import DeploySettings
    from deployments.build import release_deployment

    deploy_settings = DeploySettings()
    deploy(
        release_deployment(deploy_settings),
        work_pool_name=settings.work_pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    name = f"release/{deploy_settings.release_name}"
    return [run_deployment(name, parameters={"request": r}, timeout=0) for r in requests]


def _states(run_ids: list[Any]) -> list[str]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return [
            getattr(client.read_flow_run(run_id).state, "type", None).value  # type: ignore[union-attr]
            for run_id in run_ids
        ]


def _wait(run_ids: list[Any], until: set[str], timeout: float) -> list[str]:
    """Each run's state type once all are in `until` (or any is terminal when waiting for
    RUNNING); fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        states = _states(run_ids)
        if all(s in until or s in TERMINAL for s in states):
            return states
        if time.monotonic() > deadline:
            pytest.fail(f"runs still {states} after {timeout:.0f} s")
        time.sleep(1.0)


def _rerun(requests: list[dict[str, str]], states: list[str]) -> list[str]:
    """Re-run (once, waiting) each release whose run did not complete, as CI would."""
    from prefect.deployments import run_deployment

    from config.deploy import DeploySettings

    name = f"release/{DeploySettings().release_name}"
    final = list(states)
    for index, state in enumerate(states):
        if state != "COMPLETED":
            run = run_deployment(name, parameters={"request": requests[index]}, timeout=400)
            final[index] = run.state.type.value if run.state else "NONE"
    return final


def _archive_facts(s3: Any, bucket: str) -> tuple[Counter[str], Counter[str], int]:
    """(run folders per product/version, object versions per key, delete markers)."""
    listing = s3.list_object_versions(Bucket=bucket)
    versions = Counter(v["Key"] for v in listing.get("Versions", []))
    run_folders = {tuple(key.split("/")[1:4]) for key in versions}  # evidence/p/v/run/...
    folders = Counter(f"{product}/{version}" for product, version, _ in run_folders)
    return folders, versions, len(listing.get("DeleteMarkers", []))


SINGLE = pytest.mark.skipif(
    os.environ.get("CRAFLOW_TEST_KILL_SINGLE_SERVER") != "1",
    reason="the single-server variant doubles the time: CRAFLOW_TEST_KILL_SINGLE_SERVER=1",
)


@pytest.mark.parametrize(
    "servers",
    [pytest.param(2, id="behind-balancer"), pytest.param(1, id="single-server", marks=SINGLE)],
)
def test_a_killed_api_server_costs_no_run_and_repeats_nothing(
    servers: int,
    tmp_path: Path,
    slow_sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need_postgres_and_redis()
    from benchmarks.scale_out_sweep import _settings_from_environment

    bucket = f"craflow-apikill-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    tag = uuid.uuid4().hex[:6]
    requests = [
        {
            "product": f"apikill-{tag}-{i}",
            "version": f"1.{i}.0",
            "sbom": str(write_bom(tmp_path / f"sbom-{i}.json", f"apikill-{tag}-{i}", f"1.{i}.0",
                                  {"idna": "3.7", "requests": f"2.3{i}.0"})),
            "fail_on": "none",
        }
        for i in range(RUNS)
    ]  # fmt: skip
    settings = StackSettings(
        database=f"craflow_test_{uuid.uuid4().hex[:10]}",
        redis_url=REDIS_URL,  # type: ignore[arg-type]
        run_dir=tmp_path / "run",
        api_servers=servers,
        workers=1,
        worker_limit=RUNS,
        stop_timeout_seconds=15,
        startup_timeout_seconds=400,
    )
    env = _client_env(slow_sandbox, local_s3, bucket)
    keys = redis.Redis.from_url(REDIS_URL)
    before = set(keys.scan_iter())
    timings: dict[str, float] = {}
    began = time.monotonic()
    try:
        state: StackState = up(settings, environ=env)
        timings["up"] = time.monotonic() - began
        (server0,) = [p for p in state.processes if p.name == "server-0"]
        (front,) = [p for p in state.processes if p.url == state.api_urls[0]]
        assert front.role == ("balancer" if servers > 1 else "server")  # what every client uses
        for name, value in stack_environment(settings, api=state.api_urls[0], base={}).items():
            monkeypatch.setenv(name, value)
        with _settings_from_environment():
            runs = _deploy_and_start(settings, requests)
            run_ids = [run.id for run in runs]
            started = time.monotonic()
            at_kill = _wait(run_ids, {"RUNNING"}, 400)
            assert "RUNNING" in at_kill, at_kill  # the kill lands on runs in flight
            timings["runs_running"] = time.monotonic() - started
            os.killpg(server0.pid, signal.SIGKILL)
            killed = time.monotonic()
            time.sleep(DOWN_SECONDS)
            assert not alive(server0)
            (restarted,) = restart(settings, ["server-0"], environ=env)
            timings["restart"] = time.monotonic() - killed - DOWN_SECONDS
            assert restarted.argv == server0.argv and restarted.pid != server0.pid
            states = _wait(run_ids, TERMINAL, 400)
            timings["runs_done_after_kill"] = time.monotonic() - killed
            final = _rerun(requests, states)
        skipped = Path(front.log).read_text().count("next one") if servers > 1 else 0
        print(f"\nat the kill {at_kill}, then {states} -> {final}; balancer skips {skipped}")
        assert final == ["COMPLETED"] * RUNS, (states, final)
        for request in requests:
            assert release_facts(slow_sandbox, request["product"]) == (1, 1, 1), request
        folders, versions, markers = _archive_facts(s3_client, bucket)
        expected = {f"{r['product']}/{r['version']}" for r in requests}
        assert set(folders) == expected and set(folders.values()) == {1}, folders
        assert set(versions.values()) == {1} and markers == 0, versions
    finally:
        down(settings)
        drop_database(settings)
        for key in set(keys.scan_iter()) - before:
            keys.delete(key)
        keys.close()
    timings["total"] = time.monotonic() - began
    print(f"timings { ({k: round(v, 1) for k, v in timings.items()}) }")
