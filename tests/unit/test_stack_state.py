"""The stack's state file, PID identity and process environment (no processes started)."""

import os
from pathlib import Path

from config.stack import StackSettings
from craflow.stack import state
from craflow.stack.environment import database_url, stack_environment
from craflow.stack.state import ProcessRecord, StackState, alive, start_time


def test_state_round_trips_and_is_removed(tmp_path: Path) -> None:
    record = ProcessRecord("server", "server-0", 123, "456", "/tmp/x.log")
    saved = StackState(["http://127.0.0.1:1/api"], "db", "pool", [record])
    state.save(tmp_path, saved)
    assert state.load(tmp_path) == saved
    state.remove(tmp_path)
    assert state.load(tmp_path) is None


def test_a_reused_pid_is_not_ours() -> None:
    me = os.getpid()
    assert alive(ProcessRecord("worker", "w", me, start_time(me), ""))
    assert not alive(ProcessRecord("worker", "w", me, "1", ""))


def test_environment_points_every_process_at_postgres_and_redis(tmp_path: Path) -> None:
    settings = StackSettings(
        database="craflow_t",
        redis_url="redis://127.0.0.1:6379/3",
        run_dir=tmp_path,  # type: ignore[arg-type]
    )
    env = stack_environment(
        settings, api="http://127.0.0.1:9/api", base={"PREFECT_API_KEY": "x", "PATH": "/bin"}
    )
    assert env["PREFECT_API_DATABASE_CONNECTION_URL"] == database_url(settings)
    assert database_url(settings).startswith("postgresql+asyncpg://")
    assert env["PREFECT_UI_API_URL"] == env["PREFECT_API_URL"] == "http://127.0.0.1:9/api"
    assert env["PREFECT_MESSAGING_BROKER"] == "prefect_redis.messaging"
    assert env["PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"] == "prefect_redis.lease_storage"
    assert env["PREFECT_SERVER_DOCKET_URL"] == "redis://127.0.0.1:6379/3"
    assert "PREFECT_API_KEY" not in env  # the caller's Prefect settings do not leak in
    assert env["PATH"] == "/bin"
