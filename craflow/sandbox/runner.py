"""Start and stop the sandbox: in a background thread (`start_sandbox`) or in the foreground.

with start_sandbox(scan_seconds=0.2) as sandbox:
    httpx.get(sandbox.api_url + "/products",
              headers={"Authorization": f"Bearer {sandbox.api_key}"})
"""

import http.client
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from config.sandbox import SandboxSettings
from craflow.sandbox.app import create_app
from craflow.sandbox.orgs import seed_default
from craflow.sandbox.scans import ScanEngine
from craflow.sandbox.state import open_state


def _health_ok(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@dataclass(frozen=True)
class RunningSandbox:
    url: str
    api_url: str
    api_key: str
    owner_email: str
    owner_password: str
    data_dir: Path


class SandboxServer:
    """One sandbox: state, scan engine, uvicorn server on an already bound socket."""

    def __init__(
        self,
        settings: SandboxSettings,
        data_dir: Path | None,
        api_key: str | None,
        osv_paths: Sequence[Path],
        *,
        reset: bool = False,
    ) -> None:
        self.settings = settings
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.bind((settings.host, settings.port))
            self.sock.listen(socket.SOMAXCONN)  # connections wait in the backlog until uvicorn runs
        except BaseException:
            self.sock.close()
            raise
        self._tmp = (
            None if data_dir is not None else Path(tempfile.mkdtemp(prefix="craflow-sandbox-"))
        )
        self.data_dir: Path = data_dir if data_dir is not None else Path(str(self._tmp))
        try:
            self.state = open_state(settings, self.data_dir, tuple(osv_paths), reset=reset)
            seeded = seed_default(self.state, api_key)
        except BaseException:
            self.sock.close()
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self.engine = ScanEngine(self.state)
        port = self.sock.getsockname()[1]
        url = f"http://{settings.host}:{port}"
        self.info = RunningSandbox(
            url,
            url + "/api/v1",
            seeded.api_key,
            seeded.owner_email,
            seeded.owner_password,
            self.data_dir,
        )
        config = uvicorn.Config(
            create_app(self.state), log_level="warning", lifespan="off", ws="none", access_log=False
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start_background(self) -> None:
        self.engine.start()
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        self._wait_healthy()

    def run_foreground(self) -> None:
        """Serve until interrupted (Ctrl-C stops uvicorn cleanly)."""
        self.state.vulndb.load_in_background()
        self.engine.start()
        self.server.run(sockets=[self.sock])

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_seconds
        while time.monotonic() < deadline:
            if self.server.started and _health_ok(self.settings.host, self.sock.getsockname()[1]):
                return
            if self._thread is not None and not self._thread.is_alive():
                break
            time.sleep(self.settings.health_poll_seconds)
        raise RuntimeError(f"the sandbox did not answer {self.info.url}/health in time")

    def close(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(self.settings.shutdown_timeout_seconds)
        self.engine.stop(self.settings.shutdown_timeout_seconds)
        self.sock.close()
        self.state.db.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


@contextmanager
def start_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    api_key: str | None = None,
    scan_seconds: float = 2.0,
    rate_scale: float = 1.0,
    osv_paths: Sequence[Path] = (),
    jwt_ttl_seconds: int = 900,
    max_upload_bytes: int = 50 * 2**20,
    allow_fake_oidc: bool = False,
) -> Iterator[RunningSandbox]:
    """Serve a sandbox on a loopback port in a background thread; stop it on exit."""
    settings = SandboxSettings(
        host=host,
        port=port,
        scan_seconds=scan_seconds,
        rate_scale=rate_scale,
        jwt_ttl_seconds=jwt_ttl_seconds,
        max_upload_bytes=max_upload_bytes,
        allow_fake_oidc=allow_fake_oidc,
    )
    server = SandboxServer(settings, data_dir, api_key, osv_paths)
    try:
        server.start_background()
        yield server.info
    finally:
        server.close()
