"""Skip helpers for tests that need the machine's PostgreSQL and Redis."""

import socket

import pytest

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
REDIS_TEST_DB = 15  # the tests delete only the keys they created


def _open(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=1.0):
            return True
    except OSError:
        return False


def need_redis() -> None:
    if not _open(REDIS):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379 (start Redis 7 to run this test)")


def need_postgres_and_redis() -> None:
    need_redis()
    if not _open(POSTGRES):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (start PostgreSQL >= 14.9)")
