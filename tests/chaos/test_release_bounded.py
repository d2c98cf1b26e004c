"""`craflow release` end to end against a silent server, and under SIGTERM / SIGINT.

- A server that accepts connections and never answers: the release ends with exit 3 and
  one line. The test shortens the timeouts through settings so it runs in seconds; that
  the *default* settings give up within 120 s is computed from them
  (`worst_case_give_up`), never timed.
- SIGTERM or SIGINT while the release waits on a held request: the process ends (craflow's
  signal guard), and a rerun completes with one SBOM, one promotion and no partial
  archive object (the pattern of test_crash_resume.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from config.api import ApiSettings, RetrySettings
from config.release import ReleaseSettings
from craflow.evidence import verify_run
from craflow.sandbox.runner import RunningSandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from tests.chaos.proxy import Fault, FaultPlan, fault_proxy
from tests.chaos.run_suite import FAST_ENV
from tests.chaos.test_crash_resume import (
    HOLD_SECONDS,
    KILL_DEADLINE_SECONDS,
    _assert_clean_bucket,
    _bom,
    _command,
    _env,
    _rerun,
    crash_sandbox,
)
from tests.fixtures.sandbox import release_facts
from tests.integration.evidence.conftest import silent_endpoint

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["crash_sandbox", "silent_endpoint"]

EXIT_API = 3  # craflow/boundary.py: the API could not be used
SILENT_ENV = {
    "CRAFLOW_JSON_READ_TIMEOUT": "0.3",
    "CRAFLOW_CONNECT_TIMEOUT": "0.5",
    "CRAFLOW_UNRESPONSIVE_AFTER_SECONDS": "2",
    "CRAFLOW_RETRY_BACKOFF_BASE_SECONDS": "0.05",
    "CRAFLOW_RETRY_BACKOFF_CAP_SECONDS": "0.2",
    "CRAFLOW_RELEASE_TASK_RETRY_DELAY_SECONDS": "0.1",
}


def worst_case_give_up(api: ApiSettings, retry: RetrySettings, release: ReleaseSettings) -> float:
    """Seconds after a run's client opens by which a silent server is given up on.

    The client raises `ServerUnresponsiveError` (not transient: no task retry) at the
    first failed attempt once nothing has been answered for `unresponsive_after_seconds`
    (one client per run, so task retries share that clock). Before that check can come,
    at most one wait (a retry backoff, or a task retry's delay) and one more attempt
    (connect + read timeout of a small JSON call) pass.
    """
    longest_backoff = min(
        retry.backoff_cap_seconds, retry.backoff_base_seconds * 2 ** (retry.max_attempts - 2)
    )
    longest_wait = max(longest_backoff, release.task_retry_delay_seconds)
    attempt = api.connect_timeout + api.json_read_timeout
    return api.unresponsive_after_seconds + longest_wait + attempt


def test_the_default_settings_give_up_on_a_silent_server_within_120_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith(("CRAFLOW_", "CRA_EVIDENCE_")):
            monkeypatch.delenv(name)
    bound = worst_case_give_up(ApiSettings(), RetrySettings(), ReleaseSettings())
    assert bound <= 120.0, bound  # 75 + 4 + 10 + 15 = 104 s with the defaults
    assert ApiSettings().run_deadline_seconds >= bound  # the silence check comes first


def test_release_against_a_silent_server_exits_3_with_one_line(
    prefect_harness: None, silent_endpoint: str, tmp_path: Path
) -> None:
    env = _env(silent_endpoint, {}, "cra_chaos_silent_release_0000000000")
    env.update(SILENT_ENV)
    api = ApiSettings(
        url=silent_endpoint,
        json_read_timeout=0.3,
        connect_timeout=0.5,
        unresponsive_after_seconds=2,
    )
    assert worst_case_give_up(api, RetrySettings(), ReleaseSettings()) < 10
    command = _command(f"silent-{uuid.uuid4().hex[:8]}", _bom(tmp_path), str(tmp_path / "ev"))
    command.remove("--json")
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert done.returncode == EXIT_API, (lines, done.stderr[-2000:])
    # one line from craflow; stderr carries only Prefect's run log lines, no traceback
    assert len(lines) == 1, lines
    assert "exit 3" in lines[0] and "answered nothing" in lines[0], lines
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "ev").exists() or not any((tmp_path / "ev").rglob("*.json"))


def _signal_when_held(process: subprocess.Popen[bytes], held: Any, signum: int) -> int:
    """Wait (bounded) until the proxy holds the request, send *signum*, return the exit code."""
    deadline = time.monotonic() + KILL_DEADLINE_SECONDS
    while not held():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the release ended before the fault: {out[-800:]!r} {err[-1500:]!r}")
        if time.monotonic() > deadline:
            process.kill()
            process.communicate(timeout=30)
            pytest.fail("the release never reached the held request")
        time.sleep(0.05)
    process.send_signal(signum)
    try:
        process.communicate(timeout=60)  # ended by the signal: promptly, not timed here
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the release did not end after {signal.Signals(signum).name}")
    return process.returncode


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_release_ends_it_and_a_rerun_completes_once(
    prefect_harness: None,
    crash_sandbox: RunningSandbox,
    local_s3: LocalS3,
    s3_client: Any,
    s3_bucket: str,
    tmp_path: Path,
    signum: int,
) -> None:
    product = f"signal-{uuid.uuid4().hex[:8]}"
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
        code = _signal_when_held(process, proxy.faults, signum)
    assert code != 0  # 143 / 130 from the guard, or -signum
    outcome = _rerun(_command(product, sbom, export),
                     _env(crash_sandbox.url, s3_env, crash_sandbox.api_key))  # fmt: skip
    assert outcome["uploaded"] is False  # the SBOM stored before the signal is found again
    assert release_facts(crash_sandbox, product) == (1, 1, 1)  # one SBOM, one promotion
    assert verify_run(outcome["archive_uri"], s3_client=s3_client).ok
    _assert_clean_bucket(s3_client, s3_bucket)  # no partial object, no open upload


assert FAST_ENV  # the fast settings the helpers above start from
