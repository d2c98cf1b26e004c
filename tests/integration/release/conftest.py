"""The release-flow tests' environment: sandbox, loopback S3, the session Prefect harness."""

from collections.abc import Iterator

import pytest

from craflow.sandbox.runner import RunningSandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from tests.integration.release.helpers import Sandbox


@pytest.fixture
def release_env(
    prefect_harness: None,
    sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Sandbox, str]]:
    monkeypatch.setenv("CRA_EVIDENCE_URL", sandbox.url)
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", sandbox.api_key)
    for name, value in boto3_session_env(local_s3).items():
        monkeypatch.setenv(name, value)
    # the sandbox's fixed windows allow bursts; no-burst client pacing would space every
    # release's two uploads (SBOM and VEX, 50 per hour) 72 s apart, for nothing under test
    monkeypatch.setenv("CRAFLOW_RATE_ENABLED", "false")
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_INITIAL_SECONDS", "0.1")
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_CAP_SECONDS", "0.5")
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS", "60")
    box = Sandbox(sandbox)
    try:
        yield box, f"s3://{s3_bucket}/evidence"
    finally:
        box.http.close()
