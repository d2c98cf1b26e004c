"""The stack's state file: which processes `up` started, so `down` stops exactly those.

A PID alone can be reused by an unrelated process after a reboot or a crash, so each
record also keeps the process' start time (field 22 of /proc/PID/stat); a PID whose start
time differs is not ours and is never signalled.

Each record also keeps what `craflow stack restart` needs to start a stopped process
again exactly as `up` did: its command line, the URL it serves (servers, balancer), the
Prefect API URL it was given and a digest of the stack's variables in its environment
(the environment itself holds secrets and is never written here). State files written
before these fields existed still load; their processes cannot be restarted.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class ProcessRecord:
    """One process of the stack."""

    role: str  # "server", "balancer", "services" or "worker"
    name: str
    pid: int
    started: str  # /proc start time, "" where /proc is missing
    log: str
    argv: tuple[str, ...] = ()  # the command line; () in state files of older versions
    url: str = ""  # the API URL it serves (servers and the balancer), else ""
    api: str = ""  # PREFECT_API_URL in its environment
    env_digest: str = ""  # digest of the stack's variables in its environment


@dataclass(frozen=True)
class StackState:
    """What `up` started and where the API answers (the balancer's URL when there is one)."""

    api_urls: list[str]
    database: str
    work_pool: str
    processes: list[ProcessRecord] = field(default_factory=list)


def _stat(pid: int) -> list[str]:
    """Fields 3.. of /proc/PID/stat (state first), [] when unknown or gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return []


def start_time(pid: int) -> str:
    """The kernel's start time of `pid`, "" when unknown or the process is gone."""
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


def alive(record: ProcessRecord) -> bool:
    """True while the recorded process (the same one, not a reused PID) runs."""
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    fields = _stat(record.pid)
    if fields and fields[0] in {"Z", "X"}:  # ended, not yet reaped by its parent
        return False
    if not record.started:
        return True
    return len(fields) > 19 and fields[19] == record.started


def save(run_dir: Path, state: StackState) -> None:
    """Write the state file atomically."""
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / STATE_FILE
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    temporary.replace(target)


def load(run_dir: Path) -> StackState | None:
    """The state `up` left, or None when no stack was started from this run directory."""
    try:
        raw = json.loads((run_dir / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    processes = [_record(item) for item in raw.pop("processes", [])]
    known = {name: raw[name] for name in ("api_urls", "database", "work_pool")}
    return StackState(**known, processes=processes)


def _record(item: dict[str, Any]) -> ProcessRecord:
    """One record; fields unknown to this version are ignored, missing ones take defaults."""
    fields = {
        key: value for key, value in item.items() if key in ProcessRecord.__dataclass_fields__
    }
    if "argv" in fields:
        fields["argv"] = tuple(str(arg) for arg in fields["argv"])
    return ProcessRecord(**fields)


def replace_record(state: StackState, record: ProcessRecord) -> StackState:
    """`state` with the process of the same name replaced by `record` (after a restart)."""
    processes = [record if p.name == record.name else p for p in state.processes]
    return StackState(state.api_urls, state.database, state.work_pool, processes)


def remove(run_dir: Path) -> None:
    """Forget the stack (after `down`)."""
    (run_dir / STATE_FILE).unlink(missing_ok=True)
