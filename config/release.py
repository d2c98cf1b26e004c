"""Settings of the release flow: polling, concurrency, task retries and gate defaults.

Read from `CRAFLOW_RELEASE_*` environment variables, e.g.
`CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS=900`.
"""

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

FailOn = Literal["critical", "high", "medium", "low", "none"]
UnknownAs = Literal["critical", "high", "medium", "low", "ignore"]


class ReleaseSettings(CraflowSettings):
    """Every number the release flow and its tasks use."""

    model_config = SettingsConfigDict(
        env_prefix="CRAFLOW_RELEASE_", extra="ignore", validate_default=True, frozen=True
    )

    poll_initial_seconds: float = Field(
        0.5, ge=0.01, le=60, description="First wait between two CRA-status polls."
    )
    poll_cap_seconds: float = Field(
        10.0, ge=0.01, le=300, description="Longest wait between two CRA-status polls."
    )
    poll_multiplier: float = Field(
        2.0, ge=1.0, le=10.0, description="Factor by which the poll wait grows after each poll."
    )
    poll_jitter: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Fraction of each poll wait that is randomised (0 = none, 1 = full jitter).",
    )
    poll_deadline_seconds: float = Field(
        600.0,
        ge=0.1,
        le=86_400,
        description="Overall time to wait for a scan to finish before the release is pending.",
    )
    max_workers: int = Field(
        4, ge=1, le=64, description="Threads of the flow's task runner (concurrent tasks)."
    )
    task_retries: int = Field(
        3, ge=0, le=10, description="Prefect retries of a task that failed transiently."
    )
    task_retry_delay_seconds: float = Field(
        2.0,
        ge=0.0,
        le=600,
        description="Wait before a task retry (applied to the tasks when a run starts).",
    )
    fail_on: FailOn = Field(
        "high", description="Default lowest severity of an open vulnerability that blocks."
    )
    unknown_as: UnknownAs = Field(
        "high",
        description="Default severity the gate counts a vulnerability without CVSS at "
        "('ignore' = not counted).",
    )
    promote: str = Field(
        "released",
        min_length=1,
        max_length=40,
        description="Default release state to promote a passing version to ('none' = do not).",
    )
    export: str | None = Field(
        None,
        max_length=2048,
        description="Default evidence archive root (s3://bucket/prefix or file:///dir).",
    )
    secret_block_name: str = Field(
        "craflow-api-key",
        min_length=1,
        max_length=200,
        description="Prefect Secret block holding the API key when CRA_EVIDENCE_API_KEY is unset.",
    )
    vulnerability_page_size: int = Field(
        100, ge=1, le=100, description="Page size when listing a version's vulnerabilities."
    )
    artifact_table_rows: int = Field(
        200, ge=1, le=5000, description="Most rows shown in one table artifact."
    )
