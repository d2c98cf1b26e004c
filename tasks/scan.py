"""Tasks that start a scan when needed and wait for the CRA status to reach a final scan state."""

import time
from collections.abc import Callable
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from pydantic import BaseModel, ConfigDict

from config.api import PollSettings
from craflow.api import CraStatus, scan_history
from craflow.api.polling import (
    ACTIVE_SCAN_STATES,
    TERMINAL_SCAN_STATES,
    PollSchedule,
    scan_poller,
)
from tasks.client import current_client
from tasks.retry import api_task


@api_task(name="ensure-scan")
def ensure_scan(version_id: str, scan_started: bool) -> str:
    """Trigger a scan unless one was started with the upload or is running or completed.

    Returns the scan state known after the decision. A previous scan that failed
    (or none at all) is retried, so a rerun after a failed scan rescans.
    """
    if scan_started:
        return "pending"
    client = current_client()
    state = (client.get_cra_status(version_id).scan_state or "none").lower()
    if state in ACTIVE_SCAN_STATES or state == "completed":
        return state
    return client.trigger_scan(version_id).status.lower()


class ScanWait(BaseModel):
    """The CRA status last read, whether the scan finished, and how long waiting took."""

    model_config = ConfigDict(frozen=True)

    status: CraStatus
    done: bool
    polls: int
    elapsed_seconds: float

    @property
    def scan_state(self) -> str:
        return (self.status.scan_state or "none").lower()


def _progress_reporter(key: str, deadline: float) -> Callable[[CraStatus, float], None]:
    artifact_id: list[UUID] = []

    def report(status: CraStatus, elapsed: float) -> None:
        finished = (status.scan_state or "").lower() in TERMINAL_SCAN_STATES
        percent = 100.0 if finished else min(99.0, 100.0 * elapsed / deadline)
        text = f"scan {status.scan_state or 'unknown'} after {elapsed:.1f} s"
        if not artifact_id:
            created = create_progress_artifact(percent, key=key, description=text)
            if isinstance(created, UUID):
                artifact_id.append(created)
        else:
            update_progress_artifact(artifact_id[0], percent, description=text)

    return report


@api_task(name="wait-for-scan")
def wait_for_scan(
    version_id: str,
    schedule: PollSchedule,
    progress_key: str | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    scan_state: str | None = None,
    component_count: int | None = None,
) -> ScanWait:
    """Poll CRA status until the scan state is final or *schedule*'s deadline passes.

    A deadline reached is not an error: the result says `done=False` and the
    release is pending. *progress_key* names a progress artifact updated each poll.
    *scan_state* is what `ensure_scan` left: a scan under way (pending, running) lets
    the poller know its scope before the first read (the version's last wait, or the
    SBOM's *component_count*) and skip the immediate read; any other state, or None,
    keeps it (the scan may already be final).
    """
    client = current_client()
    reporter = _progress_reporter(progress_key, schedule.deadline) if progress_key else None
    under_way = (scan_state or "").lower() in ACTIVE_SCAN_STATES
    result = scan_poller(PollSettings(), client).wait(
        lambda: client.get_cra_status(version_id),
        schedule,
        clock=clock,
        sleep=sleep,
        on_poll=reporter,
        version_id=version_id if under_way else None,
        component_count=component_count if under_way else None,
    )
    scan_history.flush_all()  # the release's one wait: what it learned is kept now
    return ScanWait(
        status=result.value, done=result.done, polls=result.polls, elapsed_seconds=result.elapsed
    )
