"""A server that accepts connections and never answers; SIGINT/SIGTERM mid-request.

Real sockets and real processes (loopback, a few seconds each): the client gives up on a
silent server in bounded time, and a process with craflow's signal guard installed ends
within 5 s of SIGINT or SIGTERM even while blocked on such a server.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from craflow.api import ApiSettings, CraEvidenceClient, ServerUnresponsiveError, is_transient
from tests.integration.evidence.conftest import silent_endpoint

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["silent_endpoint"]


@pytest.fixture
def silent_server(silent_endpoint: str) -> str:
    """A loopback port that accepts connections and never answers (shared fixture)."""
    return silent_endpoint


def test_a_silent_server_is_given_up_on_in_bounded_time(silent_server: str) -> None:
    settings = ApiSettings(
        url=silent_server,
        api_key="cra_chaos_silent_0000000000000000",
        json_read_timeout=0.2,
        unresponsive_after_seconds=1.0,
    )
    started = time.monotonic()
    with CraEvidenceClient(settings) as client, pytest.raises(ServerUnresponsiveError) as caught:
        while True:  # what task retries would do: repeat while transient
            try:
                client.get_product("p")
            except Exception as exc:
                if not is_transient(exc):
                    raise
    assert not is_transient(caught.value)
    assert time.monotonic() - started < 10


_CHILD = """
import signal, sys, threading
from craflow import interrupts
from craflow.api import ApiSettings, CraEvidenceClient
interrupts.install()
settings = ApiSettings(url=sys.argv[1], api_key="cra_chaos_signal_000000000000000")
with CraEvidenceClient(settings) as client:
    if sys.argv[2] == "worker":  # like a flow: the request in a worker thread, and another
        signal.signal(signal.SIGTERM, lambda *a: None)  # handler owning SIGTERM meanwhile
        worker = threading.Thread(target=client.get_product, args=("p",))
        worker.start()
        print("ready", flush=True)
        worker.join()
    else:
        print("ready", flush=True)
        client.get_product("p")
"""


@pytest.mark.parametrize(
    ("signum", "where"),
    [(signal.SIGTERM, "main"), (signal.SIGINT, "main"), (signal.SIGTERM, "worker")],
)
def test_a_signal_ends_a_blocked_process_within_5_s(
    silent_server: str, signum: signal.Signals, where: str
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, silent_server, where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # blocked in the read now
        sent = time.monotonic()
        child.send_signal(signum)
        child.communicate(timeout=10)  # also closes the pipes
        returncode = child.returncode
        assert time.monotonic() - sent <= 5.0
        assert returncode != 0  # 130/143 from the guard, or -SIGINT from the interrupt
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
