"""The CLI's process guards: SIGINT/SIGTERM end a command within seconds; a refused API URL
ends it before anything starts.

`install()` (called once by the CLI) replaces both handlers. The first signal

1. sets `STOP`, so every interruptible wait (`sleep` below, the API client's pacing,
   retry and poll waits) ends at once with `Interrupted`;
2. raises `KeyboardInterrupt` in the main thread, so the flow unwinds the usual way;
3. starts a watchdog that ends the process (exit 130 for SIGINT, 143 for SIGTERM) after
   `grace_seconds` if it is still alive, e.g. blocked in a worker thread's socket read.

Nothing half-written survives: the server changes state one atomic request at a time,
evidence objects are written to a temporary name and renamed (or put whole to S3), and
a rerun reads what is there (one SBOM per digest, promotion only from the right state).
A second signal ends the process at once.
"""

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from types import FrameType

from config.api import is_loopback, safe_url, url_credentials_problem

STOP = threading.Event()
_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_INSTALLED = threading.Event()
_TRUE = frozenset({"1", "true", "yes", "on"})


class Interrupted(KeyboardInterrupt):
    """A wait ended because the process was asked to stop."""


def sleep(seconds: float) -> None:
    """`time.sleep` that ends early, raising `Interrupted`, once the process must stop."""
    if seconds <= 0:
        if STOP.is_set():
            raise Interrupted("interrupted")
        return
    if STOP.wait(seconds):
        raise Interrupted("interrupted")


def check() -> None:
    """Raise `Interrupted` if the process was asked to stop."""
    if STOP.is_set():
        raise Interrupted("interrupted")


def _watchdog(code: int, grace_seconds: float) -> None:
    time.sleep(grace_seconds)
    sys.stderr.write(f"craflow: interrupted, stopped (exit {code})\n")
    sys.stderr.flush()
    os._exit(code)


def _handler(grace_seconds: float) -> "signal._HANDLER":
    def handle(signum: int, frame: FrameType | None) -> None:
        code = _EXIT_CODES.get(signal.Signals(signum), 130)
        if STOP.is_set():
            os._exit(code)  # a second signal: stop now
        STOP.set()
        threading.Thread(
            target=_watchdog, args=(code, grace_seconds), name="craflow-stop", daemon=True
        ).start()
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    return handle


def install(grace_seconds: float = 4.0) -> None:
    """Install the SIGINT/SIGTERM handlers (main thread only; idempotent)."""
    if _INSTALLED.is_set() or threading.current_thread() is not threading.main_thread():
        return
    handler = _handler(grace_seconds)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    _INSTALLED.set()


def refused_api_url(environ: Mapping[str, str]) -> str | None:
    """Why the configured API URL is refused before anything starts, or None.

    Credentials in the URL are always refused; plain http to a non-loopback host only
    with CRAFLOW_API_REQUIRE_TLS (the client warns about it on every run otherwise).
    """
    url = environ.get("CRA_EVIDENCE_URL", "").strip()
    if not url:
        return None
    problem = url_credentials_problem(url)
    if problem is not None:
        return problem
    required = environ.get("CRAFLOW_API_REQUIRE_TLS", "").strip().lower() in _TRUE
    if required and url.lower().startswith("http://") and not is_loopback(url):
        return f"refusing plain http to {safe_url(url)} (TLS required): use https://"
    return None
