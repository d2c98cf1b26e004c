"""Settings of the shared API budget: one rate budget per API key across every process.

Read from `CRAFLOW_BUDGET_*`. The rates themselves are the client's (`CRAFLOW_RATE_*`,
`config.api.RateLimitSettings`); these settings say where the shared budget lives and
when it is used.
"""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings


class BudgetSettings(CraflowSettings):
    """Where the shared budget lives (Redis) and when craflow paces through it."""

    model_config = SettingsConfigDict(env_prefix="CRAFLOW_BUDGET_")

    mode: Literal["auto", "shared", "local"] = Field(
        default="auto",
        description=(
            "'shared': pace through Redis, shared by every process using the same API URL "
            "and key; 'local': pace in this process only; 'auto': shared when running "
            "under a Prefect worker (PREFECT__FLOW_RUN_ID set), local otherwise."
        ),
    )
    redis_url: SecretStr = Field(
        default=SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis URL of the shared budget (may hold a password: never logged).",
    )
    key_prefix: str = Field(
        default="craflow:budget",
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9:_\-.]+$",
        description="Prefix of the Redis keys (one key per API fingerprint and bucket).",
    )
    headroom: float = Field(
        default=0.96,
        gt=0.5,
        le=1.0,
        description=(
            "Fraction of the configured rate the shared pace uses: network jitter can bring "
            "two requests closer together on the server than they left the clients."
        ),
    )
    connect_timeout_seconds: float = Field(
        default=0.5,
        ge=0.05,
        le=30.0,
        description="Seconds to wait for Redis before falling back to per-process pacing.",
    )
    hold_cap_seconds: float = Field(
        default=300.0,
        ge=1.0,
        le=86_400.0,
        description="Longest pause a server's reset or Retry-After may impose on every process.",
    )
    memory_seconds: float = Field(
        default=3600.0,
        ge=1.0,
        le=7 * 86_400.0,
        description=(
            "How long the shared pace and jitter allowance learned from 429s are kept in "
            "Redis after the last 429 (the pace itself recovers within seconds)."
        ),
    )
