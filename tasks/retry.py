"""Task-level retries: only transient failures (network, 429, 502/503/504) are retried.

The HTTP client already waits out 429s and backs off on gateway errors; a task
retry is the second, coarser layer, for a failure that outlived those attempts.

Prefect fixes `retry_delay_seconds` when a task is defined, so tasks are defined
here without numbers (`api_task`) and a run gives them its numbers when it starts:
`with_retries(task, settings)` is `task.with_options(...)` with the run's
`ReleaseSettings`, so a served process sees a changed variable on its next run.
"""

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect import State, Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun

from config.release import ReleaseSettings
from craflow.api import is_transient

P = ParamSpec("P")
R = TypeVar("R")


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect `retry_condition_fn`: retry only when the raised error is transient."""
    error = state.data
    return isinstance(error, BaseException) and is_transient(error)


def api_task(name: str, task_run_name: str | None = None) -> Callable[[Callable[P, R]], Task[P, R]]:
    """`@task` for a task that talks to the API: no cache, retries only transient errors."""

    def define(fn: Callable[P, R]) -> Task[P, R]:
        decorate = task(
            name=name,
            task_run_name=task_run_name,
            cache_policy=NO_CACHE,
            retry_condition_fn=retry_transient,
        )
        return decorate(fn)

    return define


@functools.lru_cache(maxsize=256)
def _configured(original: Task[..., Any], retries: int, delay: float) -> Task[..., Any]:
    return original.with_options(retries=retries, retry_delay_seconds=delay)


def with_retries(original: Task[P, R], settings: ReleaseSettings) -> Task[P, R]:
    """*original* with the retry numbers of *settings* (read when the run started)."""
    configured = _configured(original, settings.task_retries, settings.task_retry_delay_seconds)
    return cast("Task[P, R]", configured)
