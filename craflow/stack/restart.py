"""`craflow stack restart`: start stopped processes of a running stack again, as `up` did.

A process is started with the command line `up` recorded (so the same port), the
environment rebuilt from the same settings (checked against the digest `up` recorded;
a different CRAFLOW_STACK_* setting is refused, never silently applied) and its output
appended to the same log after a line saying it was restarted. The state file then holds
the new PID, so `status` reports it running and `down` stops it.

Why a command of its own rather than `up` restarting what is stopped: `up` is a fresh
start (migration, work pool, automation, new ports) and refuses a partly running stack;
a restart touches nothing else and says exactly what it started.
"""

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from config.stack import StackSettings
from craflow.stack import state as state_file
from craflow.stack.control import stop_rank
from craflow.stack.environment import environment_digest, stack_environment
from craflow.stack.preflight import StackError
from craflow.stack.processes import spawn, wait_healthy
from craflow.stack.state import ProcessRecord, StackState, alive, replace_record

NOTE = "restarted by craflow stack restart"


def _chosen(current: StackState, names: Sequence[str]) -> list[ProcessRecord]:
    """The records to restart: the named ones (each must be stopped), else every stopped one."""
    by_name = {r.name: r for r in current.processes}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        raise StackError(f"no process {', '.join(unknown)} in the stack (it has: {known})")
    running = [name for name in names if alive(by_name[name])]
    if running:
        raise StackError(f"{', '.join(running)} is running: only stopped processes restart")
    chosen = [by_name[name] for name in names] or [r for r in current.processes if not alive(r)]
    # servers first, clients last: the reverse of the order `down` stops them in
    return sorted(chosen, key=stop_rank, reverse=True)


def _check_restartable(settings: StackSettings, record: ProcessRecord) -> None:
    if not record.argv:
        raise StackError(
            f"{record.name} was started by an older craflow that did not record its command "
            "line: `craflow stack down` and `craflow stack up` instead"
        )
    if environment_digest(settings, api=record.api) != record.env_digest:
        raise StackError(
            f"the CRAFLOW_STACK_* settings differ from those `up` started {record.name} with: "
            "restart with the same settings"
        )


def restart(
    settings: StackSettings,
    names: Sequence[str] = (),
    *,
    environ: Mapping[str, str] = os.environ,
) -> list[ProcessRecord]:
    """Start the named stopped processes (none named: every stopped one) as `up` did and
    wait until the restarted servers and balancer answer; the new records."""
    run_dir = Path(settings.run_dir)
    current = state_file.load(run_dir)
    if current is None:
        raise StackError(f"no stack started from {run_dir}: `craflow stack up` first")
    chosen = _chosen(current, names)
    for record in chosen:
        _check_restartable(settings, record)
    started: list[ProcessRecord] = []
    for record in chosen:
        env = stack_environment(settings, api=record.api, base=environ)
        new = spawn(record, env, note=NOTE)
        started.append(new)
        current = replace_record(current, new)
        state_file.save(run_dir, current)  # `down` stops it even if the wait below fails
    urls = [r.url for r in started if r.url]
    wait_healthy(urls, started, settings.startup_timeout_seconds)
    return started
