"""Task-level retries: only transient failures (network, 429, 502/503/504) are retried.

The HTTP client already waits out 429s and backs off on gateway errors; a task
retry is the second, coarser layer, for a failure that outlived those attempts.
Numbers come from `ReleaseSettings` (read once, when the tasks are defined,
because Prefect fixes `retry_delay_seconds` at definition time).
"""

from typing import Any

from prefect import State, Task
from prefect.client.schemas.objects import TaskRun

from config.release import ReleaseSettings
from craflow.api import is_transient


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect `retry_condition_fn`: retry only when the raised error is transient."""
    error = state.data
    return isinstance(error, BaseException) and is_transient(error)


_SETTINGS = ReleaseSettings()

#: keyword arguments for `@task(...)` of every task that talks to the API
RETRY_OPTIONS: dict[str, Any] = {
    "retries": _SETTINGS.task_retries,
    "retry_delay_seconds": _SETTINGS.task_retry_delay_seconds,
    "retry_condition_fn": retry_transient,
}
