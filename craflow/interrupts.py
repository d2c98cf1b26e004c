"""The CLI's process guards: SIGINT/SIGTERM end a command within seconds; a refused API URL
ends it before anything starts.

`install()` (called once by the CLI) replaces both handlers. The first signal

1. sets `STOP`, so every interruptible wait (`sleep` below, the API client's pacing,
   retry and poll waits) ends at once with `Interrupted`;
2. raises `KeyboardInterrupt` in the main thread, so the flow unwinds the usual way
   (while a flow runs, Prefect's own SIGTERM bridge does the same for SIGTERM);
3. starts a watchdog that ends the process (exit 130 for SIGINT, 143 for SIGTERM) after
   `grace_seconds` if it is still alive, e.g. blocked in a worker thread's socket read.

Steps 1 and 3 are done by a watcher thread that reads the signal wakeup fd, so they
happen whoever owns the Python-level handler at the time.

Nothing half-written survives: the server changes state one atomic request at a time,
evidence objects are written to a temporary name and renamed (or put whole to S3), and
a rerun reads what is there (one SBOM per digest, promotion only from the right state).
A second signal ends the process at once.
"""

import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from types import FrameType

from config.api import is_loopback, safe_url, url_credentials_problem

STOP = threading.Event()
_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_INSTALLED = threading.Event()
_KEEP: list[socket.socket] = []  # the wakeup socket pair lives as long as the process
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
        STOP.set()  # the watcher thread arms the watchdog (it hears every signal)
        raise Interrupted(f"interrupted by {signal.Signals(signum).name}")

    return handle


def _stop(signum: int, grace_seconds: float) -> None:
    """Set `STOP` and arm the watchdog."""
    STOP.set()
    code = _EXIT_CODES.get(signal.Signals(signum), 130)
    threading.Thread(
        target=_watchdog, args=(code, grace_seconds), name="craflow-stop", daemon=True
    ).start()


def _watch_wakeups(reader: socket.socket, grace_seconds: float) -> None:
    """See every signal even while another handler owns it (Prefect's SIGTERM bridge)."""
    seen: list[int] = []
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum not in _EXIT_CODES:
                continue
            seen.append(signum)
            if len(seen) == 1:
                _stop(signum, grace_seconds)
            else:  # a second signal: stop now
                os._exit(_EXIT_CODES.get(signal.Signals(signum), 130))


def install(grace_seconds: float = 4.0) -> None:
    """Install the SIGINT/SIGTERM guard (main thread only; idempotent).

    Prefect replaces the SIGTERM handler while a flow runs; the C-level wakeup fd still
    hears every signal, so a watcher thread sets `STOP` and arms the watchdog anyway.
    """
    if _INSTALLED.is_set() or threading.current_thread() is not threading.main_thread():
        return
    handler = _handler(grace_seconds)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    _KEEP.extend([reader, writer])
    threading.Thread(
        target=_watch_wakeups, args=(reader, grace_seconds), name="craflow-signals", daemon=True
    ).start()
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
