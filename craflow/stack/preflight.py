"""Checks before the stack starts: PostgreSQL and Redis reachable, the database there."""

import asyncio
import socket

import asyncpg
import redis

from config.stack import StackSettings

MIN_POSTGRES = (14, 9)


class StackError(Exception):
    """A problem `craflow stack` reports in one line."""


def _admin_dsn(settings: StackSettings, database: str) -> str:
    return f"{settings.postgres_url.get_secret_value().rstrip('/')}/{database}"


async def _ensure_database(settings: StackSettings) -> None:
    try:
        conn = await asyncpg.connect(_admin_dsn(settings, "postgres"), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise StackError(
            f"PostgreSQL unreachable at CRAFLOW_STACK_POSTGRES_URL ({type(error).__name__})"
        ) from None
    try:
        version = conn.get_server_version()
        if (version.major, version.minor) < MIN_POSTGRES and version.major < 15:
            raise StackError(f"PostgreSQL {version.major}.{version.minor} is older than 14.9")
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.database
        )
        if not exists:  # the name is validated by StackSettings: a plain identifier
            await conn.execute(f'CREATE DATABASE "{settings.database}"')
    finally:
        await conn.close()


async def _drop_database(settings: StackSettings) -> None:
    conn = await asyncpg.connect(_admin_dsn(settings, "postgres"), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{settings.database}" WITH (FORCE)')
    finally:
        await conn.close()


def ensure_database(settings: StackSettings) -> None:
    """Create the stack's database unless it exists; StackError when PostgreSQL is down."""
    asyncio.run(_ensure_database(settings))


def drop_database(settings: StackSettings) -> None:
    """Drop the stack's database (tests; `craflow stack down --drop`)."""
    asyncio.run(_drop_database(settings))


def check_redis(settings: StackSettings) -> None:
    """StackError unless Redis answers PING."""
    client = redis.Redis.from_url(
        settings.redis_url.get_secret_value(), socket_connect_timeout=3, socket_timeout=3
    )
    try:
        client.ping()
    except redis.RedisError as error:
        raise StackError(
            f"Redis unreachable at CRAFLOW_STACK_REDIS_URL ({type(error).__name__})"
        ) from None
    finally:
        client.close()


def free_port(host: str) -> int:
    """A port free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
