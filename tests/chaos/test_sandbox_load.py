"""A short run of benchmarks/sandbox_load.py: 10 concurrent clients, ~5 s, in-process sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks.sandbox_load import run_load
from craflow.sandbox.runner import start_sandbox

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ten_clients_of_mixed_load_get_no_5xx_and_lose_no_write(tmp_path: Path) -> None:
    with start_sandbox(scan_seconds=0.1, rate_scale=3600.0, data_dir=tmp_path) as sandbox:
        report = asyncio.run(
            run_load(
                sandbox.api_url,
                sandbox.api_key,
                clients=10,
                seconds=5.0,
                max_requests_per_client=200,
            )
        )
    assert report.requests > 0
    assert report.server_errors == 0, report.summary()
    assert not report.transport_errors, report.summary()
    assert sum(len(ids) for ids in report.acknowledged.values()) > 0, report.summary()
    assert report.lost == [], report.summary()
    # Only the documented refusals: 400 "no SBOM to scan yet", and 429 if the limiter bites.
    assert set(report.statuses) <= {200, 201, 202, 400, 429}, report.summary()
