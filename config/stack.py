"""Settings of the production-shaped Prefect stack `craflow stack up` starts (`CRAFLOW_STACK_*`).

Prefect API server(s) on PostgreSQL (several behind a loopback balancer), the background
services in their own process, messaging through Redis (`prefect-redis`), a process work
pool and its workers.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings


class StackSettings(CraflowSettings):
    """Where the stack's database, Redis and run directory are, and how many of each process."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_STACK_")

    postgres_url: SecretStr = Field(
        default=SecretStr("postgresql://postgres@127.0.0.1:5432"),
        description=(
            "PostgreSQL server (>= 14.9) without a database name; the user must be allowed "
            "to create databases. May hold a password: never logged."
        ),
    )
    database: str = Field(
        default="craflow_stack",
        min_length=1,
        max_length=63,
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="Database the stack creates (if missing) and keeps Prefect's state in.",
    )
    redis_url: SecretStr = Field(
        default=SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis for Prefect's messaging, cache, ordering, leases and docket.",
    )
    host: str = Field(
        default="127.0.0.1", min_length=1, max_length=255, description="Address servers bind."
    )
    port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Port clients use: the API server's, or the balancer's when API_SERVERS > 1; "
            "0 picks a free one."
        ),
    )
    api_servers: int = Field(
        default=1,
        ge=1,
        le=8,
        description=(
            "API servers, each on its own free port; more than one are put behind a "
            "loopback round-robin balancer that every client of the stack uses."
        ),
    )
    workers: int = Field(default=2, ge=0, le=64, description="Process workers started.")
    worker_limit: int = Field(
        default=4, ge=1, le=1000, description="Most flow runs one worker runs at once."
    )
    heartbeat_seconds: int = Field(
        default=30,
        ge=30,
        le=3600,
        description="Seconds between flow-run heartbeats (PREFECT_FLOWS_HEARTBEAT_FREQUENCY).",
    )
    crash_after_seconds: int = Field(
        default=90,
        ge=60,
        le=86400,
        description="Seconds without a heartbeat before a run is marked Crashed (the automation).",
    )
    work_pool: str = Field(
        default="craflow-process",
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_\-]+$",
        description="Name of the process work pool the stack creates.",
    )
    run_dir: Path = Field(
        default=Path.home() / ".craflow" / "stack",
        description="Where the stack keeps its state file, PIDs, logs and PREFECT_HOME.",
    )
    startup_timeout_seconds: float = Field(
        default=180.0, ge=5.0, le=3600.0, description="Seconds to wait for the API to answer."
    )
    stop_timeout_seconds: float = Field(
        default=20.0, ge=1.0, le=600.0, description="Seconds between SIGTERM and SIGKILL."
    )
