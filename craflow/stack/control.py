"""Start, stop and report the stack's processes."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from config.stack import StackSettings
from craflow.stack import state as state_file
from craflow.stack.environment import api_url, stack_environment
from craflow.stack.preflight import StackError, check_redis, ensure_database, free_port
from craflow.stack.state import ProcessRecord, StackState, alive, start_time

PREFECT = [sys.executable, "-m", "prefect"]
# Children started by this process: kept so they are reaped (no zombies, no ResourceWarning).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}

__all__ = ["StackError", "down", "status", "up"]


def _spawn(
    role: str, name: str, argv: list[str], env: Mapping[str, str], logs: Path
) -> ProcessRecord:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _CHILDREN[proc.pid] = proc
    return ProcessRecord(role, name, proc.pid, start_time(proc.pid), str(log))


def _reap() -> None:
    """Collect the exit status of our own children that have ended."""
    for pid, proc in list(_CHILDREN.items()):
        if proc.poll() is not None:
            del _CHILDREN[pid]


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        argv, env=dict(env), capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StackError(f"{what} failed: {tail[0]}")


def _wait_healthy(urls: list[str], records: list[ProcessRecord], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        _reap()
        if any(not alive(r) for r in records):
            dead = next(r for r in records if not alive(r))
            raise StackError(f"{dead.name} exited during start-up; see {dead.log}")
        try:
            if httpx.get(f"{pending[0]}/health", timeout=2.0).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise StackError(f"the Prefect API did not answer within {timeout:.0f} s")
        time.sleep(0.5)


def up(settings: StackSettings, *, environ: Mapping[str, str] = os.environ) -> StackState:
    """Start the stack; StackError (nothing left running) when anything is missing."""
    run_dir = Path(settings.run_dir)
    existing = state_file.load(run_dir)
    if existing is not None and any(alive(r) for r in existing.processes):
        raise StackError(f"a stack from {run_dir} is running: `craflow stack down` first")
    check_redis(settings)
    ensure_database(settings)
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ports = [settings.port or free_port(settings.host)]
    ports += [free_port(settings.host) for _ in range(settings.api_servers - 1)]
    urls = [api_url(settings.host, port) for port in ports]
    envs = [stack_environment(settings, api=url, base=environ) for url in urls]
    _run([*PREFECT, "server", "database", "upgrade", "-y"], envs[0], "database migration")
    records: list[ProcessRecord] = []
    state = StackState(urls, settings.database, settings.work_pool, records)
    try:
        for index, (port, env) in enumerate(zip(ports, envs, strict=True)):
            argv = [*PREFECT, "server", "start", "--no-services", "--host", settings.host]
            records.append(
                _spawn("server", f"server-{index}", [*argv, "--port", str(port)], env, logs)
            )
        records.append(
            _spawn("services", "services", [*PREFECT, "server", "services", "start"], envs[0], logs)
        )
        state_file.save(run_dir, state)
        _wait_healthy(urls, records, settings.startup_timeout_seconds)
        _run(
            [
                *PREFECT,
                "work-pool",
                "create",
                settings.work_pool,
                "--type",
                "process",
                "--overwrite",
            ],
            envs[0],
            "work pool creation",
        )
        _run(
            [sys.executable, "-m", "deployments.automations", str(settings.crash_after_seconds)],
            envs[0],
            "crash automation",
        )
        for index in range(settings.workers):
            argv = [*PREFECT, "worker", "start", "--pool", settings.work_pool]
            argv += ["--name", f"craflow-worker-{index}", "--limit", str(settings.worker_limit)]
            records.append(_spawn("worker", f"worker-{index}", argv, envs[index % len(envs)], logs))
        state_file.save(run_dir, state)
    except BaseException:
        _stop(records, settings.stop_timeout_seconds)
        state_file.remove(run_dir)
        raise
    return state


def _stop(
    records: list[ProcessRecord], timeout: float, *, sleep: Callable[[float], None] = time.sleep
) -> list[str]:
    """SIGTERM each live recorded process group (workers first), SIGKILL what outlives `timeout`."""
    order = {"worker": 0, "services": 1, "server": 2}
    live = [r for r in sorted(records, key=lambda r: order.get(r.role, 3)) if alive(r)]
    for record in live:
        os.killpg(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    _reap()
    while any(alive(r) for r in live) and time.monotonic() < deadline:
        sleep(0.2)
        _reap()
    for record in live:
        if alive(record):
            os.killpg(record.pid, signal.SIGKILL)
    for record in live:
        child = _CHILDREN.pop(record.pid, None)
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
