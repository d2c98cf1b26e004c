"""The shared budget on a real Redis: slots handed out one interval apart, holds shared."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from craflow.api.ratelimit import NoPacing
from craflow.budget import RedisBudget
from tests.integration.services import REDIS_TEST_DB, need_redis

pytestmark = pytest.mark.stack
HOUR = 3600.0  # an interval so long that the test's own run time is negligible


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    need_redis()
    connection = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB)
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    name = f"craflow:test:{uuid.uuid4().hex}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def _budget(client: redis.Redis, prefix: str, waits: list[float]) -> RedisBudget:
    return RedisBudget(
        client,
        key_prefix=prefix,
        intervals={"read": HOUR, "write": HOUR},
        fallback=NoPacing(),
        sleep=waits.append,
    )


def test_processes_sharing_a_prefix_get_consecutive_slots(client: redis.Redis, prefix: str) -> None:
    waits_a: list[float] = []
    waits_b: list[float] = []
    first, second = _budget(client, prefix, waits_a), _budget(client, prefix, waits_b)
    first.acquire("read")  # the first slot is now: no sleep
    second.acquire("read")
    first.acquire("read")
    second.acquire("write")  # another bucket has its own schedule
    assert waits_a == [pytest.approx(2 * HOUR, abs=5)]
    assert waits_b == [pytest.approx(HOUR, abs=5)]


def test_a_servers_retry_after_holds_every_process(client: redis.Redis, prefix: str) -> None:
    waits: list[float] = []
    budget = _budget(client, prefix, waits)
    budget.observe("write", {"Retry-After": "200"})
    budget.acquire("write")
    assert waits == [pytest.approx(200, abs=5)]


def test_remaining_zero_holds_until_the_reset(client: redis.Redis, prefix: str) -> None:
    waits: list[float] = []
    budget = _budget(client, prefix, waits)
    budget.observe("write", {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "100"})
    budget.observe("write", {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "900"})
    budget.acquire("write")
    assert waits == [pytest.approx(100, abs=5)]


def test_a_hold_is_capped(client: redis.Redis, prefix: str) -> None:
    waits: list[float] = []
    budget = _budget(client, prefix, waits)
    budget.observe("read", {"Retry-After": "86400"})  # default cap: 300 s
    budget.acquire("read")
    assert waits == [pytest.approx(300, abs=5)]
