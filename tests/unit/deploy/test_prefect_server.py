"""Starting and stopping a local Prefect server, without starting one."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from craflow.demo.prefect_server import (
    PrefectServerError,
    isolated_prefect_env,
    stop_process_group,
    wait_for_health,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_health_is_probed_until_the_server_answers() -> None:
    answers = iter([0, 503, 200])
    probed: list[str] = []
    fake = FakeClock()

    def get(url: str, timeout: float) -> int:
        probed.append(url)
        return next(answers)

    wait_for_health(
        "http://127.0.0.1:9/api",
        timeout=10,
        poll_seconds=0.5,
        request_timeout=1,
        is_alive=lambda: True,
        get=get,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert probed == ["http://127.0.0.1:9/api/health"] * 3
    assert fake.sleeps == [0.5, 0.5]


def test_a_server_that_never_answers_times_out() -> None:
    fake = FakeClock()
    with pytest.raises(PrefectServerError, match="did not answer within 3 s"):
        wait_for_health(
            "http://x/api",
            timeout=3,
            poll_seconds=1,
            request_timeout=1,
            is_alive=lambda: True,
            get=lambda url, timeout: 0,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert fake.now == 3


def test_a_server_that_dies_while_starting_is_reported_at_once() -> None:
    fake = FakeClock()
    with pytest.raises(PrefectServerError, match="exited while starting"):
        wait_for_health(
            "http://x/api",
            timeout=60,
            poll_seconds=1,
            request_timeout=1,
            is_alive=lambda: False,
            get=lambda url, timeout: 0,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert fake.sleeps == []


def test_the_server_environment_forgets_the_users_server_and_key(tmp_path: Path) -> None:
    env = isolated_prefect_env(
        tmp_path,
        {
            "PATH": "/bin",
            "PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/x",
            "PREFECT_API_KEY": "pnu_secret",
        },
    )
    assert env["PATH"] == "/bin"
    assert "PREFECT_API_URL" not in env
    assert "PREFECT_API_KEY" not in env
    assert env["PREFECT_HOME"] == str(tmp_path)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_stopping_terminates_the_process_group_leader() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    stop_process_group(process, timeout=10)
    assert process.returncode == -signal.SIGTERM


def test_stopping_a_finished_process_does_nothing() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait(timeout=30)
    stop_process_group(process, timeout=10)
    assert process.returncode == 0
