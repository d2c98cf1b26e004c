"""Settings of the deployments, `craflow setup`, the local Prefect server and the demo.

- `DeploySettings` (`CRAFLOW_DEPLOY_*`): deployment names, the work pool, the sweep
  and incident-clock schedules and how many runs `craflow serve` runs at once.
- `PrefectServerSettings` (`CRAFLOW_PREFECT_SERVER_*`): starting and stopping a local
  `prefect server start` (the demo's `--ui` and the end-to-end tests).
- `DemoSettings` (`CRAFLOW_DEMO_*`): the demo's sample product and its time budget.

The API key's Secret block name is `ReleaseSettings.secret_block_name`; the rates are
`RateLimitSettings`, shared across workers through `craflow.budget`: one place for each.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class DeploySettings(CraflowSettings):
    """How the release and sweep deployments are named, scheduled and run."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_DEPLOY_")

    release_name: str = Field(
        default="release-on-event",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="Name of the release deployment (triggered by craflow.release.requested).",
    )
    sweep_name: str = Field(
        default="nightly-sweep",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="Name of the scheduled sweep deployment.",
    )
    sweep_product_name: str = Field(
        default="sweep-product",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="Name of the deployment that checks one chunk of a fanned-out sweep.",
    )
    incident_name: str = Field(
        default="incident-clock",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="Name of the hourly Art. 14 incident clock deployment.",
    )
    incident_cron: str = Field(
        default="5 * * * *",
        min_length=9,
        max_length=100,
        description="Cron expression (UTC) of the incident clock (default: hourly at :05).",
    )
    work_pool: str = Field(
        default="craflow-process",
        min_length=1,
        max_length=100,
        pattern=_NAME,
        description="Work pool `craflow deploy` registers the deployments with.",
    )
    work_pool_type: str = Field(
        default="process",
        min_length=1,
        max_length=40,
        description="Type of the work pool `craflow setup` creates (process, docker, kubernetes).",
    )
    sweep_cron: str = Field(
        default="0 2 * * *",
        min_length=9,
        max_length=100,
        description="Cron expression of the sweep schedule (default: nightly at 02:00).",
    )
    sweep_timezone: str = Field(
        default="Europe/Berlin",
        min_length=1,
        max_length=64,
        description="IANA time zone the sweep cron expression is read in.",
    )
    serve_limit: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Most flow runs `craflow serve` runs at the same time.",
    )
    emit_timeout_seconds: float = Field(
        default=30.0,
        ge=1.0,
        le=600.0,
        description="Longest wait for the Prefect API to accept an emitted event.",
    )

    @field_validator("sweep_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class PrefectServerSettings(CraflowSettings):
    """Starting, waiting for and stopping a local `prefect server start`."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_PREFECT_SERVER_")

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=255,
        description="Address the local Prefect server listens on (loopback by default).",
    )
    ui_port: int = Field(
        default=4200, ge=1, le=65535, description="Port of the server `craflow demo --ui` starts."
    )
    startup_timeout_seconds: float = Field(
        default=180.0,
        ge=5.0,
        le=1800.0,
        description="Longest wait for a fresh server to answer /api/health.",
    )
    health_poll_seconds: float = Field(
        default=0.5, ge=0.05, le=10.0, description="Seconds between two /api/health probes."
    )
    health_request_timeout_seconds: float = Field(
        default=2.0, ge=0.1, le=60.0, description="Timeout of one /api/health probe."
    )
    stop_timeout_seconds: float = Field(
        default=15.0,
        ge=0.5,
        le=300.0,
        description="Wait after SIGTERM before the server's process group is killed.",
    )
    ephemeral_startup_timeout_seconds: int = Field(
        default=180,
        ge=10,
        le=1800,
        description=(
            "Longest wait for Prefect's ephemeral API (used when PREFECT_API_URL is unset) to "
            "start; Prefect's own default of 20 s is too short on a busy CI runner. Applied "
            "unless PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS is set."
        ),
    )


class DemoSettings(CraflowSettings):
    """The demo's sample product and its bounds."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_DEMO_")

    product: str = Field(
        default="demo-webshop",
        min_length=3,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Slug of the sample product the demo releases.",
    )
    first_version: str = Field(
        default="1.0.0", min_length=1, max_length=40, description="The vulnerable version."
    )
    second_version: str = Field(
        default="1.1.0", min_length=1, max_length=40, description="The fixed version."
    )
    bucket: str = Field(
        default="craflow-demo-evidence",
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$",
        description="S3 bucket (on the loopback endpoint) the demo archives into.",
    )
    scan_seconds: float = Field(
        default=1.0,
        ge=0.0,
        le=60.0,
        description="How long the demo sandbox pretends a scan takes.",
    )
    poll_initial_seconds: float = Field(
        default=0.2,
        ge=0.01,
        le=10.0,
        description="First wait between two CRA-status polls during the demo.",
    )
    ephemeral_startup_timeout_seconds: int = Field(
        default=180,
        ge=10,
        le=1800,
        description="Longest wait for Prefect's ephemeral API to start (slow on busy machines).",
    )
    poll_cap_seconds: float = Field(
        default=1.0,
        ge=0.05,
        le=30.0,
        description="Longest wait between two CRA-status polls during the demo.",
    )
