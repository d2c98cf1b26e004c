"""Start, wait for and stop a local `prefect server start` (no Prefect import needed).

Used by `craflow demo --ui` (started and left running) and by the end-to-end tests
(started and stopped). The server gets its own `PREFECT_HOME`, listens on loopback,
has analytics off, and runs in its own process group so stopping it stops all of it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from config.deploy import PrefectServerSettings


class PrefectServerError(RuntimeError):
    """The local Prefect server did not start (the message says why and where its log is)."""


@dataclass(frozen=True)
class PrefectServer:
    """A running local Prefect server."""

    api_url: str
    ui_url: str
    home: Path
    log_path: Path
    pid: int


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_available(host: str, port: int) -> bool:
    """Whether a server could listen on *host*:*port* now.

    Binds with SO_REUSEADDR, as uvicorn (under `prefect server start`) does, so a port
    whose last server just stopped (its sockets in TIME_WAIT) counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def isolated_prefect_env(home: Path, base: Mapping[str, str]) -> dict[str, str]:
    """*base* with Prefect pointed at *home*, analytics off, and no inherited server or key."""
    env = {k: v for k, v in base.items() if k not in {"PREFECT_API_URL", "PREFECT_API_KEY"}}
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
        }
    )
    return env


def server_env(*, home: Path, host: str, port: int, base: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: isolated, and its UI pointed at this server's own API.

    The UI asks `/ui-settings` where the API is; Prefect answers `:4200/api` unless
    `PREFECT_UI_API_URL` says otherwise, which breaks the UI on any other port.
    """
    env = isolated_prefect_env(home, base)
    env["PREFECT_UI_API_URL"] = f"http://{host}:{port}/api"
    return env


def launch_prefect_server(
    *,
    host: str,
    port: int,
    home: Path,
    log_path: Path,
    base_env: Mapping[str, str],
    ui: bool = True,
) -> "subprocess.Popen[bytes]":
    """Start `prefect server start` in a new process group, its output going to *log_path*.

    Without *ui* the server skips building the dashboard (faster to start, for tests).
    """
    home.mkdir(parents=True, exist_ok=True)
    env = server_env(home=home, host=host, port=port, base=base_env)
    command = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        host,
        "--port",
        str(port),
        "--analytics-off",
        "--ui" if ui else "--no-ui",
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def wait_for_health(
    api_url: str,
    *,
    timeout: float,
    poll_seconds: float,
    request_timeout: float,
    is_alive: Callable[[], bool],
    get: Callable[[str, float], int] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once `{api_url}/health` answers 200; raise `PrefectServerError` on death or timeout.

    *get* returns the status code of a GET (0 when the server cannot be reached); tests
    inject it with *sleep* and *clock* so nothing waits for real.
    """
    probe = get or _http_status
    deadline = clock() + timeout
    while True:
        if not is_alive():
            raise PrefectServerError("the Prefect server exited while starting")
        if probe(f"{api_url}/health", request_timeout) == 200:
            return
        if clock() >= deadline:
            raise PrefectServerError(f"the Prefect server did not answer within {timeout:g} s")
        sleep(poll_seconds)


def _http_status(url: str, timeout: float) -> int:
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return 0


def stop_process_group(process: "subprocess.Popen[bytes]", timeout: float) -> None:
    """SIGTERM the process group of *process*, then SIGKILL it if it lingers past *timeout*."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=timeout)


def start_prefect_server(
    *,
    home: Path,
    settings: PrefectServerSettings,
    port: int = 0,
    base_env: Mapping[str, str] | None = None,
    ui: bool = True,
) -> tuple[PrefectServer, "subprocess.Popen[bytes]"]:
    """Start a server and wait until it is healthy; the caller owns (and stops) the process."""
    chosen = port or free_port(settings.host)
    log_path = home / "prefect-server.log"
    process = launch_prefect_server(
        host=settings.host,
        port=chosen,
        home=home,
        log_path=log_path,
        base_env=os.environ if base_env is None else base_env,
        ui=ui,
    )
    origin = f"http://{settings.host}:{chosen}"
    server = PrefectServer(
        api_url=f"{origin}/api",
        ui_url=origin,
        home=home,
        log_path=log_path,
        pid=process.pid,
    )
    try:
        wait_for_health(
            server.api_url,
            timeout=settings.startup_timeout_seconds,
            poll_seconds=settings.health_poll_seconds,
            request_timeout=settings.health_request_timeout_seconds,
            is_alive=lambda: process.poll() is None,
        )
    except BaseException as exc:
        stop_process_group(process, settings.stop_timeout_seconds)
        if isinstance(exc, PrefectServerError):
            raise PrefectServerError(f"{exc} (log: {log_path})") from exc
        raise
    return server, process


@contextmanager
def running_prefect_server(
    *,
    home: Path,
    settings: PrefectServerSettings | None = None,
    port: int = 0,
    base_env: Mapping[str, str] | None = None,
    ui: bool = True,
) -> Iterator[PrefectServer]:
    """A healthy local Prefect server for the `with` block, stopped (whole group) afterwards."""
    chosen_settings = settings or PrefectServerSettings()
    server, process = start_prefect_server(
        home=home, settings=chosen_settings, port=port, base_env=base_env, ui=ui
    )
    try:
        yield server
    finally:
        stop_process_group(process, chosen_settings.stop_timeout_seconds)
