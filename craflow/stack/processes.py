"""Start one recorded process of the stack, reap our children, wait for the API to answer."""

import subprocess
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from craflow.stack.preflight import StackError
from craflow.stack.state import ProcessRecord, alive, start_time

# Children started by this process: kept so they are reaped (no zombies, no ResourceWarning).
CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def spawn(template: ProcessRecord, env: Mapping[str, str], *, note: str = "") -> ProcessRecord:
    """Start `template.argv` in its own session, output appended to `template.log`
    (after a line saying `note`, if given); the record of the new process."""
    log = Path(template.log)
    with log.open("ab") as out:
        if note:
            out.write(
                f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {note} ---\n".encode()
            )
            out.flush()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            list(template.argv),
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    CHILDREN[proc.pid] = proc
    return replace(template, pid=proc.pid, started=start_time(proc.pid))


def reap() -> None:
    """Collect the exit status of our own children that have ended."""
    for pid, proc in list(CHILDREN.items()):
        if proc.poll() is not None:
            del CHILDREN[pid]


def wait_healthy(urls: list[str], records: list[ProcessRecord], timeout: float) -> None:
    """Wait until every URL's `/health` answers 200; StackError when one of `records`
    exits first or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        reap()
        dead = next((r for r in records if not alive(r)), None)
        if dead is not None:
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
