"""Prefect's default logging configuration plus one filter: two known shutdown reports.

When `craflow` exits, Prefect stops its ephemeral server (SIGTERM to the uvicorn
subprocess, `SubprocessASGIServer.stop`). The lifespan's shutdown stops the
services; `TaskRunRecorder.stop` cancels its consumer task, and a write of task-run
events in flight at that moment dies with `asyncio.CancelledError` inside the
aiosqlite cursor. `prefect.server.services.task_run_recorder.consumer.flush` then
logs "Error flushing N events (N to retry, 0 dropped)" at ERROR with the whole
~240-line traceback, puts the batch back in its queue and re-raises; the consumer's
`finally` flushes that queue again. Nothing is lost, yet a successful run ends with
a traceback on stderr (1 of 8 concurrent releases, measured).

The same shutdown cancels a database connection on its way back to SQLAlchemy's pool:
the pool's reset (a rollback) dies with `CancelledError` and the pool logs "Exception
during reset or similar" at ERROR with its traceback; the connection is discarded, and
a rollback loses nothing (2 of 8 concurrent releases under load, seen in CI).

`CancelledShutdownFilter` drops exactly those records: on those loggers, those
messages, a cancellation (and for the recorder: nothing dropped). Any other error
(another exception, a batch that was dropped, the "Dropping event" lines) still shows,
and so do these when their logger is at DEBUG. The filter is installed through
Prefect's own mechanism, a logging settings file (`PREFECT_LOGGING_SETTINGS_PATH`, which
the server subprocess inherits): Prefect's default `logging.yml` with the filter added.
"""

import asyncio
import logging
import os
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from craflow.prefect_template import prefect_version

RECORDER_LOGGER = "prefect.server.services.task_run_recorder"
POOL_LOGGER = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"
#: logger -> the message of its report of a cancellation at shutdown
SHUTDOWN_REPORTS: dict[str, Callable[[str], bool]] = {
    RECORDER_LOGGER: lambda m: m.startswith("Error flushing") and m.endswith(", 0 dropped)"),
    POOL_LOGGER: lambda m: m == "Exception during reset or similar",
}
FILTER_NAME = "craflow_cancelled_shutdown"
#: part of the file name: a change to what this module writes needs a new file
CONFIG_REVISION = 2


class CancelledShutdownFilter(logging.Filter):
    """Drop the recorder's and the pool's reports of work cancelled at shutdown."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, asyncio.CancelledError):
            return True
        known = SHUTDOWN_REPORTS.get(record.name)
        if known is None or not known(record.getMessage()):
            return True
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def default_logging_file() -> Path | None:
    """Prefect's own `logging.yml`, found without importing Prefect."""
    spec = find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "logging" / "logging.yml"
    return path if path.is_file() else None


def with_filter(config: dict[str, object]) -> dict[str, object]:
    """*config* (a `logging.config.dictConfig` mapping) with the filter on each logger of
    `SHUTDOWN_REPORTS` (a logger's filters see only its own records, not its children's)."""
    filters = config.get("filters")
    loggers = config.get("loggers")
    filters = dict(filters) if isinstance(filters, dict) else {}
    loggers = dict(loggers) if isinstance(loggers, dict) else {}
    filters[FILTER_NAME] = {"()": f"{__name__}.{CancelledShutdownFilter.__name__}"}
    for name in SHUTDOWN_REPORTS:
        logger = loggers.get(name)
        logger = dict(logger) if isinstance(logger, dict) else {}
        logger["filters"] = [*logger.get("filters", []), FILTER_NAME]
        loggers[name] = logger
    return {**config, "filters": filters, "loggers": loggers}


def quiet_logging_config(folder: Path, source: Path | None = None) -> Path | None:
    """Write Prefect's logging configuration with the filter into *folder*, once; its path.

    *source* defaults to Prefect's own file. None when it cannot be read or written
    (Prefect then logs as it always does).
    """
    import yaml  # type: ignore[import-untyped]  # a Prefect dependency; only here

    source = source or default_logging_file()
    if source is None:
        return None
    target = folder / f"logging-prefect-{prefect_version()}-r{CONFIG_REVISION}.yml"
    if target.exists():
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        config = yaml.safe_load(source.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            return None
        partial.write_text(yaml.safe_dump(with_filter(config), sort_keys=False), "utf-8")
        os.replace(partial, target)
    except (OSError, yaml.YAMLError):
        partial.unlink(missing_ok=True)
        return None
    return target
