"""Settings of the local CRA Evidence sandbox (`craflow sandbox`), `CRAFLOW_SANDBOX_*`."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings


class SandboxSettings(CraflowSettings):
    """Every number the sandbox server uses; the defaults follow the published API."""

    model_config = SettingsConfigDict(
        env_prefix="CRAFLOW_SANDBOX_", extra="ignore", validate_default=True, frozen=True
    )

    host: str = Field(default="127.0.0.1", description="Address the sandbox listens on.")
    port: int = Field(default=8765, ge=0, le=65535, description="TCP port; 0 picks a free port.")
    scan_seconds: float = Field(
        default=2.0, ge=0.0, le=3600.0, description="How long a scan runs before it completes."
    )
    rate_scale: float = Field(
        default=1.0,
        ge=0.001,
        le=3600.0,
        description="Every rate-limit window is divided by this (60 turns minutes into seconds).",
    )
    jwt_ttl_seconds: int = Field(
        default=900, ge=1, le=86_400, description="Lifetime of a JWT access token."
    )
    refresh_ttl_seconds: int = Field(
        default=7 * 86_400, ge=1, le=90 * 86_400, description="Lifetime of a refresh token."
    )
    max_upload_bytes: int = Field(
        default=50 * 2**20,
        ge=1,
        le=2**34,
        description="Largest accepted uploaded file; larger uploads answer 413.",
    )
    multipart_overhead_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=2**20,
        description="Room for form fields and boundaries above max_upload_bytes in a request.",
    )
    default_per_page: int = Field(
        default=50, ge=1, le=1000, description="Page size when `per_page` is not given."
    )
    max_per_page: int = Field(default=100, ge=1, le=1000, description="Largest `per_page`.")
    max_page: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Largest `page`; beyond it 400."
    )
    max_json_bytes: int = Field(
        default=2**20,
        ge=1024,
        le=2**30,
        description="Largest request body outside the upload routes (JSON or form); 413 beyond.",
    )
    max_notes_chars: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Longest triage note; 422 beyond."
    )
    allow_fake_oidc: bool = Field(
        default=False,
        description="Serve `/oidc/token`, which trusts any token (never on a shared machine).",
    )
    max_json_depth: int = Field(
        default=64, ge=4, le=500, description="Deepest nesting accepted in an uploaded JSON SBOM."
    )
    read_limit_per_minute: int = Field(
        default=300, ge=1, le=1_000_000, description="GET requests per key per minute."
    )
    write_limit_per_minute: int = Field(
        default=60, ge=1, le=1_000_000, description="POST/PUT/PATCH/DELETE per key per minute."
    )
    upload_limit_per_hour: int = Field(
        default=50, ge=1, le=1_000_000, description="SBOM uploads per key per hour."
    )
    auth_limit_per_minute: int = Field(
        default=5, ge=1, le=1_000_000, description="Authentication requests per address per minute."
    )
    release_anyway_min_chars: int = Field(
        default=10, ge=1, le=1000, description="Shortest accepted release-anyway reason."
    )
    release_anyway_max_chars: int = Field(
        default=2000, ge=10, le=100_000, description="Longest accepted release-anyway reason."
    )
    startup_timeout_seconds: float = Field(
        default=15.0, ge=0.5, le=300.0, description="How long to wait for `/health` at start."
    )
    health_poll_seconds: float = Field(
        default=0.01, ge=0.001, le=5.0, description="Interval between `/health` probes at start."
    )
    shutdown_timeout_seconds: float = Field(
        default=10.0, ge=0.5, le=300.0, description="How long to wait for the server to stop."
    )
    password_hash_iterations: int = Field(
        default=10_000,
        ge=1_000,
        le=10_000_000,
        description="PBKDF2 rounds for user passwords (a local test server; keeps start-up fast).",
    )
    api_key_random_bytes: int = Field(
        default=24, ge=16, le=64, description="Random bytes in a generated API key."
    )
