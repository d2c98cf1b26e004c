"""Settings of the CRA Evidence API client: where, who, timeouts, retries, rate limits.

Three classes, each read from the environment:

- `ApiSettings`: the base URL (`CRA_EVIDENCE_URL`), credentials (`CRA_EVIDENCE_API_KEY`,
  or `CRA_EVIDENCE_EMAIL` + `CRA_EVIDENCE_PASSWORD`), TLS and timeouts (`CRAFLOW_*`).
- `RetrySettings` (`CRAFLOW_RETRY_*`): attempts, backoff and the cap on server-requested waits.
- `RateLimitSettings` (`CRAFLOW_RATE_*`): the client-side token buckets, one per contract bucket.
"""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

API_PREFIX = "/api/v1"
DEFAULT_URL = "http://127.0.0.1:8765"


class ApiSettings(CraflowSettings):
    """Where the CRA Evidence API lives, how to authenticate, and how long to wait for it."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_", populate_by_name=True)

    url: str = Field(
        default=DEFAULT_URL,
        validation_alias=AliasChoices("CRA_EVIDENCE_URL"),
        description=(
            "Base URL of the CRA Evidence API (CRA_EVIDENCE_URL), with or without the "
            "'/api/v1' suffix. Defaults to the local sandbox."
        ),
        min_length=1,
        max_length=2048,
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CRA_EVIDENCE_API_KEY"),
        description="API key (CRA_EVIDENCE_API_KEY), starts with 'cra_'. Never logged.",
    )
    email: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CRA_EVIDENCE_EMAIL"),
        description="Login e-mail (CRA_EVIDENCE_EMAIL), used only when no API key is set.",
    )
    password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CRA_EVIDENCE_PASSWORD"),
        description="Login password (CRA_EVIDENCE_PASSWORD), used only with email. Never logged.",
    )
    ca_bundle: Path | None = Field(
        default=None,
        description="PEM file of CA certificates to trust instead of the default bundle.",
    )
    verify_tls: bool = Field(
        default=True,
        description="Verify TLS certificates. Turning it off logs a warning on every client.",
    )
    connect_timeout: float = Field(
        default=10.0, ge=0.1, le=300.0, description="Seconds to wait for a TCP/TLS connection."
    )
    read_timeout: float = Field(
        default=60.0, ge=0.1, le=3600.0, description="Seconds to wait between bytes received."
    )
    write_timeout: float = Field(
        default=60.0, ge=0.1, le=3600.0, description="Seconds to wait between bytes sent."
    )
    pool_timeout: float = Field(
        default=30.0, ge=0.1, le=3600.0, description="Seconds to wait for a free pooled connection."
    )
    max_connections: int = Field(
        default=20, ge=1, le=1000, description="Most connections the client keeps open at once."
    )
    download_chunk_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Bytes read per chunk when streaming a download to disk.",
    )
    error_body_max_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Most bytes of an error response body read to build the exception.",
    )
    token_refresh_margin_seconds: float = Field(
        default=30.0,
        ge=0.0,
        le=600.0,
        description="Refresh a login token this many seconds before it expires.",
    )

    @field_validator("url")
    @classmethod
    def _must_be_http(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
            raise ValueError(f"CRA_EVIDENCE_URL must start with http:// or https://, got {value!r}")
        return value

    @property
    def api_base(self) -> str:
        """The URL every path is relative to; always ends in '/api/v1'."""
        base = self.url.rstrip("/")
        if base.endswith(API_PREFIX):
            return base
        return base + API_PREFIX


class RetrySettings(CraflowSettings):
    """How the client repeats failed requests (see docs/client.md)."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_RETRY_")

    max_attempts: int = Field(
        default=5, ge=1, le=20, description="Attempts per logical request, the first included."
    )
    backoff_base_seconds: float = Field(
        default=0.5, ge=0.0, le=60.0, description="Backoff before the second attempt (doubles)."
    )
    backoff_cap_seconds: float = Field(
        default=30.0, ge=0.0, le=600.0, description="Longest backoff between two attempts."
    )
    rate_limit_wait_cap_seconds: float = Field(
        default=120.0,
        ge=0.0,
        le=3600.0,
        description="Longest wait honoured from Retry-After / X-RateLimit-Reset on a 429.",
    )


class RateLimitSettings(CraflowSettings):
    """Client-side pacing: one token bucket per rate-limit bucket of the API contract."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_RATE_")

    read_per_minute: int = Field(
        default=300, ge=1, le=1_000_000, description="GET requests per minute."
    )
    write_per_minute: int = Field(
        default=60, ge=1, le=1_000_000, description="POST/PUT/PATCH/DELETE requests per minute."
    )
    upload_per_hour: int = Field(
        default=50,
        ge=1,
        le=1_000_000,
        description="SBOM uploads (/sboms/ingest, /ci/upload) per hour.",
    )
    auth_per_minute: int = Field(
        default=5,
        ge=1,
        le=1_000_000,
        description="Authentication requests (/auth/*, /oidc/token) per minute.",
    )
    window_scale: float = Field(
        default=1.0,
        ge=1.0,
        le=3600.0,
        description=(
            "Divide every window by this factor (60 makes 'per minute' mean 'per second'); "
            "matches the sandbox's --rate-scale."
        ),
    )
    log_wait_above_seconds: float = Field(
        default=1.0,
        ge=0.0,
        le=3600.0,
        description="Pacing waits at least this long are logged at INFO (shorter ones at DEBUG).",
    )
    enabled: bool = Field(default=True, description="Pace requests on the client side.")
