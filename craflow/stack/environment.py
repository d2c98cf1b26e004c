"""The environment every process of the stack gets: Prefect on PostgreSQL and Redis.

Setting names checked against Prefect 3.9.1 and prefect-redis 0.3.0 (see docs/production.md).
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path

from config.stack import StackSettings

REDIS_MODULES = {
    "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
    "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
    "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
}


def database_url(settings: StackSettings) -> str:
    """SQLAlchemy URL of the stack's database through asyncpg (Prefect's driver)."""
    base = settings.postgres_url.get_secret_value().rstrip("/")
    scheme, rest = base.split("://", 1)
    driver = "postgresql+asyncpg" if scheme in {"postgresql", "postgres"} else scheme
    return f"{driver}://{rest}/{settings.database}"


def api_url(host: str, port: int) -> str:
    return f"http://{host}:{port}/api"


def stack_environment(
    settings: StackSettings, *, api: str, base: Mapping[str, str]
) -> dict[str, str]:
    """`base` (the caller's environment) plus the stack's Prefect settings for one process."""
    redis_url = settings.redis_url.get_secret_value()
    home = Path(settings.run_dir) / "prefect-home"
    env = {key: value for key, value in base.items() if not key.startswith("PREFECT_")}
    env.update(REDIS_MODULES)
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": api,
            "PREFECT_UI_API_URL": api,
            "PREFECT_API_DATABASE_CONNECTION_URL": database_url(settings),
            "PREFECT_API_DATABASE_MIGRATE_ON_START": "false",
            "PREFECT_REDIS_MESSAGING_URL": redis_url,
            "PREFECT_SERVER_DOCKET_URL": redis_url,
            "PREFECT_SERVER_DOCKET_NAME": f"craflow-{settings.database}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # runs send heartbeats; the automation `up` creates crashes the silent ones
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(settings.heartbeat_seconds),
        }
    )
    return env


def environment_digest(settings: StackSettings, *, api: str) -> str:
    """A digest of the stack's own variables for a process given `api`: `restart` checks
    that the settings still produce the environment `up` gave the process (the
    variables hold secrets, so only this digest is written to the state file)."""
    own = stack_environment(settings, api=api, base={})
    text = "\n".join(f"{key}={own[key]}" for key in sorted(own))
    return hashlib.sha256(text.encode()).hexdigest()[:24]
