"""Chaos fixtures: one sandbox per module, a fault proxy per test, clients in virtual time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from craflow.api import ApiSettings, CraEvidenceClient, RateLimitSettings, RetrySettings
from craflow.sandbox.runner import start_sandbox
from tests.chaos.proxy import FaultProxy, fault_proxy


@pytest.fixture(scope="module")
def chaos_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A sandbox with lifted rate limits (rate_scale 3600) and fast scans."""
    data_dir = tmp_path_factory.mktemp("chaos-sandbox")
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=data_dir) as running:
        yield running


@pytest.fixture
def proxy(chaos_sandbox: object) -> Iterator[FaultProxy]:
    url: str = chaos_sandbox.url  # type: ignore[attr-defined]
    with fault_proxy(url, stall_seconds=5.0, retry_after_seconds=1) as running:
        yield running


class SleepRecorder:
    """An injected `sleep` that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def make_client(
    proxy: FaultProxy, chaos_sandbox: object
) -> Iterator[Callable[..., tuple[object, SleepRecorder]]]:
    """Build a `CraEvidenceClient` that talks through the proxy and never really sleeps."""
    clients: list[CraEvidenceClient] = []

    def build(
        *, max_attempts: int = 4, read_timeout: float = 5.0, base: str | None = None
    ) -> tuple[CraEvidenceClient, SleepRecorder]:
        sleep = SleepRecorder()
        client = CraEvidenceClient(
            ApiSettings(
                url=base or proxy.url,
                api_key=chaos_sandbox.api_key,  # type: ignore[attr-defined]
                read_timeout=read_timeout,
                json_read_timeout=read_timeout,
                connect_timeout=2.0,
            ),
            retry=RetrySettings(max_attempts=max_attempts, backoff_base_seconds=0.5),
            rates=RateLimitSettings(enabled=False),
            sleep=sleep,
            jitter=lambda: 0.5,
        )
        clients.append(client)
        return client, sleep

    yield build
    for client in clients:
        client.close()


def sbom_file(folder: Path, tag: str | None = None) -> Path:
    """A small, valid, unique CycloneDX JSON SBOM on disk."""
    tag = tag or uuid.uuid4().hex[:8]
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": f"chaos-{tag}", "version": "1"}},
        "components": [
            {
                "type": "library",
                "name": "requests",
                "version": "2.19.0",
                "purl": "pkg:pypi/requests@2.19.0",
                "bom-ref": f"requests-{tag}",
            }
        ],
    }
    path = folder / f"sbom-{tag}.json"
    path.write_text(json.dumps(doc))
    return path
