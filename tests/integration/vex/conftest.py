"""A sandbox for the VEX tests (fast scans, generous rate limits) and the CLI's environment."""

from collections.abc import Iterator

import httpx
import pytest

from craflow.sandbox.runner import RunningSandbox, start_sandbox
from tests.integration.sandbox.helpers import client


@pytest.fixture(scope="module")
def vex_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    data_dir = tmp_path_factory.mktemp("vex-sandbox")
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=data_dir) as running:
        yield running


@pytest.fixture
def api(vex_sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("CRA_EVIDENCE_URL", vex_sandbox.url)
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", vex_sandbox.api_key)
    monkeypatch.setenv("CRAFLOW_RATE_ENABLED", "false")
    monkeypatch.setenv("CRAFLOW_RETRY_MAX_ATTEMPTS", "1")
    with client(vex_sandbox) as http:
        yield http
