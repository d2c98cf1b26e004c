"""Settings of the CRA Evidence API client: where, who, timeouts, retries, rate limits.

Three classes, each read from the environment:

- `ApiSettings`: the base URL (`CRA_EVIDENCE_URL`), credentials (`CRA_EVIDENCE_API_KEY`,
  or `CRA_EVIDENCE_EMAIL` + `CRA_EVIDENCE_PASSWORD`), TLS and timeouts (`CRAFLOW_*`).
- `RetrySettings` (`CRAFLOW_RETRY_*`): attempts, backoff and the cap on server-requested waits.
- `RateLimitSettings` (`CRAFLOW_RATE_*`): the client-side token buckets, one per contract bucket.
"""

import os
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

API_PREFIX = "/api/v1"
_CREDENTIAL_PARAMS = frozenset(
    {"api_key", "apikey", "key", "token", "access_token", "password", "secret", "auth"}
)


def safe_url(value: str) -> str:
    """The URL with any userinfo and query removed (fit for messages and logs)."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    port = f":{parts.port}" if _port_or_none(parts) is not None else ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def _port_or_none(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def url_credentials_problem(value: str) -> str | None:
    """Why a base URL carrying credentials (userinfo, a key in the query) is refused, or None."""
    parts = urlsplit(value)
    if "@" in parts.netloc:
        return (
            "CRA_EVIDENCE_URL must not carry credentials (user:password@ or key@ before the "
            "host): set CRA_EVIDENCE_API_KEY instead; nothing was sent"
        )
    names = {name.lower() for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if names & _CREDENTIAL_PARAMS or "cra_" in parts.query.lower():
        return (
            "CRA_EVIDENCE_URL must not carry credentials in its query: set "
            "CRA_EVIDENCE_API_KEY instead; nothing was sent"
        )
    if parts.query or parts.fragment:
        return "CRA_EVIDENCE_URL must not have a query or fragment"
    return None


def is_loopback(value: str) -> bool:
    """True when the URL's host is loopback (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(value).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


DEFAULT_URL = "http://127.0.0.1:8765"


class ApiSettings(CraflowSettings):
    """Where the CRA Evidence API lives, how to authenticate, and how long to wait for it."""

    model_config = SettingsConfigDict(
        env_prefix="CRAFLOW_", populate_by_name=True, hide_input_in_errors=True
    )

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
        default=60.0,
        ge=0.1,
        le=3600.0,
        description="Seconds to wait between bytes received on uploads and downloads.",
    )
    json_read_timeout: float = Field(
        default=15.0,
        ge=0.1,
        le=3600.0,
        description="Seconds to wait for the answer to a small JSON call.",
    )
    unresponsive_after_seconds: float = Field(
        default=75.0,
        ge=1.0,
        le=86400.0,
        description=(
            "Give up (not transient) once the server has answered nothing for this long "
            "while requests kept timing out."
        ),
    )
    run_deadline_seconds: float = Field(
        default=3600.0,
        ge=1.0,
        le=7 * 86400.0,
        description=(
            "Overall deadline of one client's work (one run), counted from its creation; "
            "429 waits and retries never go past it."
        ),
    )
    require_tls: bool = Field(
        default=False,
        validation_alias=AliasChoices("CRAFLOW_API_REQUIRE_TLS", "require_tls"),
        description=(
            "Refuse plain http:// to a host other than loopback (CRAFLOW_API_REQUIRE_TLS); "
            "without it such a URL is only warned about, on every run."
        ),
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
            raise ValueError(
                f"CRA_EVIDENCE_URL must start with http:// or https://, got {safe_url(value)!r}"
            )
        problem = url_credentials_problem(value)
        if problem is not None:
            raise ValueError(problem)
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
    safety_margin: float = Field(
        default=0.03,
        ge=0.0,
        le=0.5,
        description=(
            "Space requests this fraction wider than the configured rate allows, so network "
            "jitter cannot bring two closer than a strict limiter accepts (not while the "
            "server's X-RateLimit-Remaining says it has room for two more)."
        ),
    )
    jitter_allowance_seconds: float = Field(
        default=0.002,
        ge=0.0,
        le=1.0,
        description=(
            "Absolute seconds added to every spacing for the variance between leaving the "
            "pacer and reaching the server's clock; widened by 429s without Retry-After."
        ),
    )
    max_jitter_allowance_seconds: float = Field(
        default=0.05,
        ge=0.0,
        le=5.0,
        description=(
            "Widest the jitter allowance grows; a 429 without Retry-After beyond it cuts "
            "the pace instead."
        ),
    )
    decrease_factor: float = Field(
        default=0.8,
        gt=0.0,
        lt=1.0,
        description="On a 429 the pace drops to this fraction of what it was.",
    )
    recover_per_second: float = Field(
        default=0.05,
        gt=0.0,
        le=1.0,
        description=(
            "After a 429 the pace climbs back by this fraction of the configured rate per "
            "second, never above it."
        ),
    )
    shared: bool = Field(
        default=True,
        description=(
            "Share one pacer per (API URL, API key) across every client of the process "
            "(release, sweep, compare, export)."
        ),
    )


class PollSettings(CraflowSettings):
    """Where the client keeps what it learns between runs (scan durations)."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_")

    state_dir: Path | None = Field(
        default=None,
        description=(
            "Directory for learned state such as scan durations (CRAFLOW_STATE_DIR); "
            "default $XDG_CACHE_HOME/craflow or ~/.cache/craflow."
        ),
    )
    learn_scan_durations: bool = Field(
        default=True,
        description="Learn scan durations and poll densely only around the expected end.",
    )
    steady_poll_seconds: float = Field(
        default=2.0,
        ge=0.1,
        le=60.0,
        description=(
            "Longest wait between two CRA-status polls while waiting for a scan (2 s: a "
            "finish is noticed within 1 s on median at 0.5 polls/s)."
        ),
    )

    def directory(self) -> Path:
        """The state directory to use."""
        if self.state_dir is not None:
            return self.state_dir
        cache = os.environ.get("XDG_CACHE_HOME")
        return (Path(cache) if cache else Path.home() / ".cache") / "craflow"
