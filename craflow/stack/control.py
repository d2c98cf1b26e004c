"""Start, stop and report the stack's processes."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from itertools import groupby
from pathlib import Path

from config.stack import StackSettings
from craflow.stack import state as state_file
from craflow.stack.environment import api_url, environment_digest, stack_environment
from craflow.stack.preflight import StackError, check_redis, ensure_database, free_port
from craflow.stack.processes import CHILDREN, reap, spawn, wait_healthy
from craflow.stack.state import ProcessRecord, StackState, alive

PREFECT = [sys.executable, "-m", "prefect"]
BALANCER = [sys.executable, "-m", "craflow.stack.balancer"]
#: the order `down` stops the roles in (clients first, servers last)
STOP_ORDER = {"worker": 0, "services": 1, "balancer": 2, "server": 3}


def stop_rank(record: ProcessRecord) -> int:
    """Where *record*'s role comes in `STOP_ORDER` (an unknown role last)."""
    return STOP_ORDER.get(record.role, len(STOP_ORDER))


__all__ = ["StackError", "down", "status", "up"]


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        argv, env=dict(env), capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StackError(f"{what} failed: {tail[0]}")


class _Starter:
    """Starts the processes of one `up` and records each in `records`."""

    def __init__(self, settings: StackSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.environ = environ
        self.logs = Path(settings.run_dir) / "logs"
        self.records: list[ProcessRecord] = []

    def env(self, api: str) -> dict[str, str]:
        return stack_environment(self.settings, api=api, base=self.environ)

    def start(self, role: str, name: str, argv: list[str], *, api: str, url: str = "") -> None:
        """Start one process; `url` (the API it serves) defaults to `api` for servers."""
        url = url or (api if role == "server" else "")
        digest = environment_digest(self.settings, api=api)
        log = str(self.logs / f"{name}.log")
        template = ProcessRecord(role, name, 0, "", log, tuple(argv), url, api, digest)
        self.records.append(spawn(template, self.env(api)))


def _server_argv(host: str, port: int) -> list[str]:
    return [*PREFECT, "server", "start", "--no-services", "--host", host, "--port", str(port)]


def _balancer_argv(host: str, port: int, backends: list[int]) -> list[str]:
    argv = [*BALANCER, "--host", host, "--port", str(port), "--backend-host", host]
    for backend in backends:
        argv += ["--backend", str(backend)]
    return argv


def _check_not_running(run_dir: Path) -> None:
    existing = state_file.load(run_dir)
    if existing is None:
        return
    live = sum(alive(r) for r in existing.processes)
    if live == len(existing.processes) and live:
        raise StackError(f"a stack from {run_dir} is running: `craflow stack down` first")
    if live:
        raise StackError(
            f"a stack from {run_dir} is partly running ({live} of {len(existing.processes)} "
            "processes): `craflow stack restart` starts the stopped ones, "
            "`craflow stack down` stops it"
        )


def up(settings: StackSettings, *, environ: Mapping[str, str] = os.environ) -> StackState:
    """Start the stack; StackError (nothing left running) when anything is missing.

    With more than one API server a loopback balancer (`craflow.stack.balancer`) listens
    on the clients' port and every client of the stack (services, workers, the URL
    returned) uses it; with one server the clients use that server directly."""
    run_dir = Path(settings.run_dir)
    _check_not_running(run_dir)
    check_redis(settings)
    ensure_database(settings)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    host, balanced = settings.host, settings.api_servers > 1
    client_port = settings.port or free_port(host)
    ports = [free_port(host) for _ in range(settings.api_servers)] if balanced else [client_port]
    server_urls = [api_url(host, port) for port in ports]
    client_url = api_url(host, client_port)
    starter = _Starter(settings, environ)
    client_env = starter.env(client_url)
    _run([*PREFECT, "server", "database", "upgrade", "-y"], client_env, "database migration")
    state = StackState([client_url], settings.database, settings.work_pool, starter.records)
    timeout = settings.startup_timeout_seconds
    try:
        # server-0 first: on a fresh database every server registers Prefect's block
        # types at start-up, and two doing it at once fail on a unique constraint
        starter.start("server", "server-0", _server_argv(host, ports[0]), api=server_urls[0])
        services = [*PREFECT, "server", "services", "start"]
        starter.start("services", "services", services, api=client_url)
        state_file.save(run_dir, state)
        wait_healthy(server_urls[:1], starter.records, timeout)
        for index, (port, url) in enumerate(zip(ports, server_urls, strict=True)):
            if index:
                starter.start("server", f"server-{index}", _server_argv(host, port), api=url)
        if balanced:
            argv = _balancer_argv(host, client_port, ports)
            starter.start("balancer", "balancer", argv, api=client_url, url=client_url)
            state_file.save(run_dir, state)
            wait_healthy([*server_urls[1:], client_url], starter.records, timeout)
        pool = [*PREFECT, "work-pool", "create", settings.work_pool, "--type", "process"]
        _run([*pool, "--overwrite"], client_env, "work pool creation")
        automation = [sys.executable, "-m", "deployments.automations"]
        _run([*automation, str(settings.crash_after_seconds)], client_env, "crash automation")
        for index in range(settings.workers):
            argv = [*PREFECT, "worker", "start", "--pool", settings.work_pool]
            argv += ["--name", f"craflow-worker-{index}", "--limit", str(settings.worker_limit)]
            starter.start("worker", f"worker-{index}", argv, api=client_url)
        state_file.save(run_dir, state)
    except BaseException:
        _stop(starter.records, settings.stop_timeout_seconds)
        state_file.remove(run_dir)
        raise
    return state


def _stop(
    records: list[ProcessRecord], timeout: float, *, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """Stop the live recorded process groups role by role (workers, services, balancer,
    servers): SIGTERM a role, wait until it ended, then the next, so a worker's last logs
    and events still reach a server; SIGKILL what outlives `timeout` (one deadline for all)."""
    live = [r for r in sorted(records, key=stop_rank) if alive(r)]
    deadline = time.monotonic() + timeout
    for _, role in groupby(live, key=stop_rank):
        group = list(role)
        for record in group:
            os.killpg(record.pid, signal.SIGTERM)
        reap()
        while any(alive(r) for r in group) and time.monotonic() < deadline:
            sleep(0.2)
            reap()
        for record in group:
            if alive(record):
                os.killpg(record.pid, signal.SIGKILL)
    for record in live:
        child = CHILDREN.pop(record.pid, None)
        if child is not None:
            child.wait(timeout=timeout)
    return [r.name for r in live]


def down(settings: StackSettings) -> list[str]:
    """Stop what `up` started from this run directory; the names of the processes stopped."""
    run_dir = Path(settings.run_dir)
    current = state_file.load(run_dir)
    if current is None:
        return []
    stopped = _stop(current.processes, settings.stop_timeout_seconds)
    state_file.remove(run_dir)
    return stopped


def status(settings: StackSettings) -> tuple[StackState | None, dict[str, bool]]:
    """The recorded stack and, per process name, whether it still runs."""
    current = state_file.load(Path(settings.run_dir))
    if current is None:
        return None, {}
    return current, {r.name: alive(r) for r in current.processes}
