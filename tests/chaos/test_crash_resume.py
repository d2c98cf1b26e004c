"""Crash and resume: `craflow release` is killed (SIGKILL) during the upload and during the
export, then run again. The second run completes with no duplicate upload, no second
promotion, no incomplete multipart upload and a manifest that verifies.

The process runs in a subprocess against the session's Prefect harness server; a fault proxy
holds the chosen request (the upload after the server stored it, or the first S3 write) so
the kill lands at a known point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from craflow.evidence import verify_run
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from tests.chaos.proxy import Fault, FaultPlan, FaultProxy, fault_proxy
from tests.chaos.run_suite import FAST_ENV
from tests.fixtures.sandbox import release_facts

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KILL_DEADLINE_SECONDS = 120.0
HOLD_SECONDS = 150.0  # longer than the kill deadline; ended early when the proxy stops


@pytest.fixture
def crash_sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=tmp_path / "sb") as sb:
        yield sb


def _bom(folder: Path) -> Path:
    path = folder / "sbom.json"
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "serialNumber": f"urn:uuid:{uuid.uuid4()}",
                "version": 1,
                "components": [
                    {"type": "library", "name": "idna", "version": "3.7",
                     "purl": "pkg:pypi/idna@3.7"}
                ],
            }
        )
    )  # fmt: skip
    return path


def _env(api_url: str, s3_env: dict[str, str], key: str) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRAFLOW_", "CRA_"))}
    env.update(FAST_ENV)
    env.update(s3_env)
    env.update(
        {
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "CRA_EVIDENCE_URL": api_url,
            "CRA_EVIDENCE_API_KEY": key,
            "CRAFLOW_READ_TIMEOUT": "300",  # the held request must not time out before the kill
        }
    )
    return env


def _command(product: str, sbom: Path, export: str) -> list[str]:
    return [
        sys.executable, "-m", "craflow.cli", "release", "--product", product,
        "--version", "1.0.0", "--sbom", str(sbom), "--fail-on", "none",
        "--export", export, "--json",
    ]  # fmt: skip


def _kill_when_held(process: subprocess.Popen[bytes], proxy: FaultProxy) -> None:
    """Wait (bounded) until the proxy holds the chosen request, then SIGKILL the release."""
    deadline = time.monotonic() + KILL_DEADLINE_SECONDS
    while not proxy.faults():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the release ended before the fault: {out[-800:]!r} {err[-1500:]!r}")
        if time.monotonic() > deadline:
            process.kill()
            process.communicate(timeout=30)
            pytest.fail("the release never reached the held request")
        time.sleep(0.05)
    process.kill()
    process.communicate(timeout=30)  # reaps it and closes its pipes
    assert process.returncode == -9


def _rerun(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, (done.stdout[-1500:], done.stderr[-3000:])
    outcome: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return outcome


def _assert_clean_bucket(s3: Any, bucket: str) -> None:
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == [], f"incomplete multipart uploads left: {uploads}"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    folders = {k.rsplit("/", 1)[0] for k in keys}
    without_manifest = sorted(f for f in folders if f"{f}/manifest.json" not in keys)
    assert without_manifest == [], f"run folders without a manifest: {without_manifest}"


def test_killed_during_the_upload_then_rerun_uploads_once(
    prefect_harness: None,
    crash_sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_client: Any,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    product = f"crash-up-{uuid.uuid4().hex[:8]}"
    export = f"s3://{s3_bucket}/evidence"
    s3_env = boto3_session_env(local_s3)
    sbom = _bom(tmp_path)
    plan = FaultPlan(methods=frozenset({"POST"}), path_pattern=r"/sboms/ingest")
    with ExitStack() as stack:
        proxy = stack.enter_context(
            fault_proxy(crash_sandbox.url, plan, stall_seconds=HOLD_SECONDS)
        )
        proxy.force(Fault.STALL_AFTER)  # the server stores the SBOM; the answer never comes
        env = _env(proxy.url, s3_env, crash_sandbox.api_key)
        process = subprocess.Popen(
            _command(product, sbom, export), env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        _kill_when_held(process, proxy)
    assert release_facts(crash_sandbox, product)[:2] == (1, 1)  # it was stored before the kill
    outcome = _rerun(_command(product, sbom, export),
                     _env(crash_sandbox.url, s3_env, crash_sandbox.api_key))  # fmt: skip
    assert outcome["uploaded"] is False  # found by content hash, not sent again
    assert release_facts(crash_sandbox, product) == (1, 1, 1)
    assert verify_run(outcome["archive_uri"], s3_client=s3_client).ok
    _assert_clean_bucket(s3_client, s3_bucket)


def test_killed_during_the_export_then_rerun_leaves_no_partial_object(
    prefect_harness: None,
    crash_sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_client: Any,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    product = f"crash-ex-{uuid.uuid4().hex[:8]}"
    export = f"s3://{s3_bucket}/evidence"
    sbom = _bom(tmp_path)
    plan = FaultPlan(methods=frozenset({"PUT", "POST"}), path_pattern=rf"/{s3_bucket}/evidence/")
    with ExitStack() as stack:
        s3_proxy = stack.enter_context(
            fault_proxy(local_s3.endpoint_url, plan, stall_seconds=HOLD_SECONDS)
        )
        s3_proxy.force(Fault.STALL)  # the first archive write hangs; nothing is stored
        s3_env = {**boto3_session_env(local_s3), "AWS_ENDPOINT_URL": s3_proxy.url}
        env = _env(crash_sandbox.url, s3_env, crash_sandbox.api_key)
        process = subprocess.Popen(
            _command(product, sbom, export), env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        _kill_when_held(process, s3_proxy)
    outcome = _rerun(_command(product, sbom, export),
                     _env(crash_sandbox.url, boto3_session_env(local_s3),
                          crash_sandbox.api_key))  # fmt: skip
    assert release_facts(crash_sandbox, product) == (1, 1, 1)
    assert verify_run(outcome["archive_uri"], s3_client=s3_client).ok
    _assert_clean_bucket(s3_client, s3_bucket)
