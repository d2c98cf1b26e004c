"""A small run of the release chaos suite (tests/chaos/run_suite.py runs 50 by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from tests.chaos.run_suite import run_chaos_suite

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUNS = 6


def test_releases_through_a_faulty_network_never_duplicate_or_corrupt(
    prefect_harness: None,
    local_s3: LocalS3,
    s3_client: Any,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    sandbox: RunningSandbox
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=tmp_path / "sb") as sandbox:
        report = run_chaos_suite(
            sandbox,
            boto3_session_env(local_s3),
            f"s3://{s3_bucket}/chaos",
            runs=RUNS,
            rate=0.2,
            seed=3,
            workdir=tmp_path,
            s3_client=s3_client,
        )
    print(report.summary())
    assert sum(report.faults.values()) > 0, "no fault was injected: the test proves nothing"
    assert report.completed + report.failed_typed + len(report.crashed) == RUNS
    assert report.crashed == [], report.summary()
    assert report.unreleased == [], report.summary()
    assert report.duplicates == {}, report.summary()
    assert report.checksum_mismatches == [], report.summary()
    assert report.verified_objects > 0
