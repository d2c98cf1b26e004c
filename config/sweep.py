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
    pacing: Literal["client", "prefect"] = Field(
        default="client",
        description=(
            "Who paces the API requests: the client's own token buckets (one process), or "
            "Prefect global concurrency limits shared by every worker using the same key."
        ),
    )
    pacer_limit_prefix: str = Field(
        default="craflow-api",
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Name prefix of the Prefect global concurrency limits used as rate buckets.",
    )
    pacer_acquire_timeout_seconds: float = Field(
        default=600.0,
        ge=1.0,
        le=3600.0,
        description="Longest wait for one slot of a Prefect-backed rate bucket before failing.",
    )
