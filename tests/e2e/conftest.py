"""End-to-end fixtures: one real `prefect server start` per session, and helpers to read it.

The server listens on a free loopback port with its own PREFECT_HOME and analytics
off; it and everything the tests start run in their own process groups and are
stopped by the fixture that started them.
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from craflow.demo.prefect_server import (
    PrefectServer,
    isolated_prefect_env,
    running_prefect_server,
)

ROOT = Path(__file__).resolve().parents[2]
CRAFLOW = [sys.executable, "-m", "craflow.cli"]
COMMAND_TIMEOUT = 240.0


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect-server")
    with running_prefect_server(home=home, ui=False) as server:
        yield server


@pytest.fixture
def client_env(prefect_server: PrefectServer, tmp_path: Path) -> dict[str, str]:
    """Environment for a craflow or prefect subprocess talking to the e2e server."""
    env = isolated_prefect_env(tmp_path / "prefect-client-home", os.environ)
    env["PREFECT_API_URL"] = prefect_server.api_url
    return env


def run_command(
    args: list[str], env: Mapping[str, str], cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (bounded), returning its output."""
    return subprocess.run(
        args,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


class PrefectApi:
    """The few REST calls the tests need, on the e2e server."""

    def __init__(self, api_url: str) -> None:
        self._http = httpx.Client(base_url=api_url, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def deployment(self, flow: str, name: str) -> dict[str, Any]:
        response = self._http.get(f"/deployments/name/{flow}/{name}")
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def automations_of(self, deployment_id: str) -> list[dict[str, Any]]:
        response = self._http.post("/automations/filter", json={})
        response.raise_for_status()
        return [
            a
            for a in response.json()
            if any(act.get("deployment_id") == deployment_id for act in a["actions"])
        ]

    def flow_runs_of(self, deployment_id: str) -> list[dict[str, Any]]:
        response = self._http.post(
            "/flow_runs/filter",
            json={
                "flow_runs": {"deployment_id": {"any_": [deployment_id]}},
                "sort": "START_TIME_ASC",
            },
        )
        response.raise_for_status()
        runs: list[dict[str, Any]] = response.json()
        return runs

    def delete_deployment(self, flow: str, name: str) -> None:
        """Remove a deployment and the automations it owns (its triggers)."""
        response = self._http.get(f"/deployments/name/{flow}/{name}")
        if response.status_code == 404:
            return
        response.raise_for_status()
        deployment_id = response.json()["id"]
        owned = self._http.delete(f"/automations/owned-by/prefect.deployment.{deployment_id}")
        assert owned.status_code in {202, 204, 404}, owned.text
        self._http.delete(f"/deployments/{deployment_id}").raise_for_status()

    def get(self, path: str) -> httpx.Response:
        return self._http.get(path)


@pytest.fixture
def prefect_api(prefect_server: PrefectServer) -> Iterator[PrefectApi]:
    api = PrefectApi(prefect_server.api_url)
    try:
        yield api
    finally:
        api.close()


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, poll: float = 0.5) -> Any:
    """Poll *check* until it returns something truthy; fail the test after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
