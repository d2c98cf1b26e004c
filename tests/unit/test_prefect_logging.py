"""craflow/prefect_logging.py: only two known reports of a cancellation at shutdown are dropped."""

import asyncio
import logging
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from craflow.prefect_logging import (
    FILTER_NAME,
    POOL_LOGGER,
    RECORDER_LOGGER,
    CancelledShutdownFilter,
    quiet_logging_config,
    with_filter,
)


def _record(
    message: str, error: BaseException | None, name: str = RECORDER_LOGGER
) -> logging.LogRecord:
    exc_info = (type(error), error, None) if error is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, exc_info)


SHUTDOWN = "Error flushing 3 events (3 to retry, 0 dropped)"
RESET = "Exception during reset or similar"


def test_the_cancelled_flush_at_shutdown_is_dropped() -> None:
    assert not CancelledShutdownFilter().filter(_record(SHUTDOWN, asyncio.CancelledError()))


def test_the_pools_cancelled_reset_at_shutdown_is_dropped() -> None:
    record = _record(RESET, asyncio.CancelledError(), name=POOL_LOGGER)
    assert not CancelledShutdownFilter().filter(record)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (SHUTDOWN, RuntimeError("database is locked")),  # a real failure
        ("Error flushing 3 events (0 to retry, 3 dropped)", asyncio.CancelledError()),  # data lost
        ("Dropping event 1 after 4 failed attempts", None),
        ("Something else", asyncio.CancelledError()),
        (RESET, asyncio.CancelledError()),  # the pool's message on the recorder's logger
    ],
)
def test_every_other_record_still_shows(message: str, error: BaseException | None) -> None:
    assert CancelledShutdownFilter().filter(_record(message, error))


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (RESET, OSError("disk I/O error")),  # a real failure of the pool
        (SHUTDOWN, asyncio.CancelledError()),  # the recorder's message on the pool's logger
    ],
)
def test_every_other_pool_record_still_shows(message: str, error: BaseException) -> None:
    assert CancelledShutdownFilter().filter(_record(message, error, name=POOL_LOGGER))


def test_debug_logging_shows_it_too() -> None:
    logger = logging.getLogger(RECORDER_LOGGER)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        assert CancelledShutdownFilter().filter(_record(SHUTDOWN, asyncio.CancelledError()))
    finally:
        logger.setLevel(previous)


def test_the_filter_is_added_and_nothing_else_changes() -> None:
    config: dict[str, object] = {
        "version": 1,
        "filters": {"mine": {"()": "x.Y"}},
        "loggers": {"prefect": {"level": "INFO"}, RECORDER_LOGGER: {"filters": ["mine"]}},
    }
    result = with_filter(config)
    assert result["loggers"] == {
        "prefect": {"level": "INFO"},
        RECORDER_LOGGER: {"filters": ["mine", FILTER_NAME]},
        POOL_LOGGER: {"filters": [FILTER_NAME]},
    }
    assert set(result["filters"]) == {"mine", FILTER_NAME}  # type: ignore[arg-type]
    assert config["loggers"][RECORDER_LOGGER] == {"filters": ["mine"]}  # type: ignore[index]


def test_prefects_configuration_is_written_once_with_the_filter(tmp_path: Path) -> None:
    path = quiet_logging_config(tmp_path)
    assert path is not None and path.parent == tmp_path
    config = yaml.safe_load(path.read_text())
    assert config["loggers"][RECORDER_LOGGER] == {"filters": [FILTER_NAME]}
    assert config["loggers"][POOL_LOGGER] == {"filters": [FILTER_NAME]}
    assert config["loggers"]["prefect.server"]["level"] == "${PREFECT_SERVER_LOGGING_LEVEL}"
    path.write_text("kept")
    assert quiet_logging_config(tmp_path) == path and path.read_text() == "kept"


def test_an_unreadable_source_leaves_prefect_alone(tmp_path: Path) -> None:
    assert quiet_logging_config(tmp_path, source=tmp_path / "missing.yml") is None
    assert list(tmp_path.iterdir()) == []


def test_prefect_loads_the_written_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = quiet_logging_config(tmp_path)
    assert path is not None
    from prefect.logging.configuration import load_logging_config

    config = load_logging_config(path)
    assert config["filters"][FILTER_NAME]["()"] == "craflow.prefect_logging.CancelledShutdownFilter"
