"""Settings of the portfolio sweep, the compare and the export flows (`CRAFLOW_SWEEP_*`)."""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

DEFAULT_STATES: tuple[str, ...] = ("released", "approved")


class SweepSettings(CraflowSettings):
    """How a sweep selects, paces and waits for versions."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_SWEEP_")

    states: tuple[str, ...] = Field(
        default=DEFAULT_STATES,
        min_length=1,
        description="Release states whose versions a sweep re-checks when none are given.",
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Default number of versions in flight at once (rescan, poll, read).",
    )
    max_concurrency: int = Field(
        default=64,
        ge=1,
        le=256,
        description="Upper bound on versions in flight; a larger --concurrency is lowered to it.",
    )
    poll_interval_seconds: float = Field(
        default=2.0,
        ge=0.05,
        le=60.0,
        description="Seconds between two reads of a version's CRA status while its scan runs.",
    )
    poll_timeout_seconds: float = Field(
        default=300.0,
        ge=1.0,
        le=3600.0,
        description="Seconds a version's scan may take before the sweep counts it as failed.",
    )
    vulnerabilities_per_page: int = Field(
        default=100,
        ge=1,
        le=100,
        description="Page size when reading a version's vulnerabilities.",
    )
    summary_max_rows: int = Field(
        default=200,
        ge=10,
        le=5000,
        description="Most change lines written to the markdown summary (the table has all rows).",
    )
    fan_out: Literal["auto", "inline", "subflow", "deployment"] = Field(
        default="auto",
        description=(
            "How a sweep spreads its products: inline (this run checks every version), "
            "subflow (one child flow run per chunk, in this process), deployment (one run "
            "of the sweep-product deployment per chunk, picked up by any worker), or auto: "
            "deployment under a worker when that deployment exists, subflow under a worker "
            "without it, inline elsewhere (e.g. `craflow sweep` from a terminal)."
        ),
    )
    chunk_versions: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Most versions of one product checked by one fanned-out run.",
    )
    fan_out_parallel: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Chunk subflows run at once in subflow mode.",
    )
    fan_out_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Runs per chunk at most in deployment mode: a Crashed run is re-created.",
    )
    fan_out_pending_seconds: float = Field(
        default=900.0,
        ge=30.0,
        le=86400.0,
        description=(
            "Seconds a chunk run may stay Pending (a worker took it but it never began) "
            "before the sweep marks it Crashed and re-runs it."
        ),
    )
    fan_out_poll_seconds: float = Field(
        default=5.0,
        ge=0.1,
        le=300.0,
        description="Seconds between two reads of the chunk runs' states in deployment mode.",
    )
    fan_out_fill_start: bool = Field(
        default=True,
        description=(
            "In deployment mode, the sweep run checks chunks itself (taking their runs "
            "before a worker does) until a worker's chunk run has begun, so the API budget "
            "is not idle while the workers' processes start. Only when the sweep shares "
            "the API budget with the workers (under a worker, or CRAFLOW_BUDGET_MODE=shared)."
        ),
    )
