"""The shared budget on a real Redis: slots handed out one interval apart, holds shared."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from craflow.api.ratelimit import NoPacing
from craflow.budget import Adaptation, RedisBudget
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
        confirm_sends=False,  # the slot arithmetic alone (waits are not really slept)
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


def _adaptive(
    client: redis.Redis, prefix: str, waits: list[float], interval: float = HOUR
) -> RedisBudget:
    return RedisBudget(
        client,
        key_prefix=prefix,
        intervals={"read": interval},
        fallback=NoPacing(),
        adapt=Adaptation(jitter_seconds=0.0, max_jitter_seconds=0.004, decrease=0.5),
        confirm_sends=False,
        sleep=waits.append,
    )


def test_a_429_without_headers_widens_the_shared_spacing_for_every_process(
    client: redis.Redis, prefix: str
) -> None:
    waits_a: list[float] = []
    waits_b: list[float] = []
    first, second = _adaptive(client, prefix, waits_a), _adaptive(client, prefix, waits_b)
    first.acquire("read")
    first.throttled("read", None)  # jitter: the allowance widens to 2 ms, the pace holds
    first.throttled("read", None)  # the same request again: counted once
    jitter, cut = client.hmget(f"{prefix}:read:pace", "jitter", "cut")
    assert int(jitter or 0) == 2000
    assert cut is None
    second.acquire("read")  # the hold of the 429 (one spacing) comes first
    second.acquire("read")  # then slots one widened spacing apart
    assert waits_b[1] - waits_b[0] == pytest.approx(HOUR + 0.002, abs=5)


def test_a_429_with_retry_after_cuts_the_shared_pace_never_above_the_rate(
    client: redis.Redis, prefix: str
) -> None:
    waits_a: list[float] = []
    waits_b: list[float] = []
    first = _adaptive(client, prefix, waits_a, interval=1.0)
    second = _adaptive(client, prefix, waits_b, interval=1.0)
    first.acquire("read")
    first.throttled("read", 0.5)
    cut = client.hget(f"{prefix}:read:pace", "cut")
    assert float(cut or 0) == pytest.approx(0.5)
    second.acquire("read")  # the slot one interval on (the Retry-After is shorter)
    second.acquire("read")
    # one second after the cut the pace is min(0.5 + 5 %, 95 % + 1 %, 1) = 0.55
    assert waits_b[1] - waits_b[0] == pytest.approx(1.0 / 0.55, abs=0.05)
    assert client.pttl(f"{prefix}:read:pace") > 0  # forgotten after a while


def test_a_send_is_confirmed_against_the_last_real_send_of_any_process(
    client: redis.Redis, prefix: str
) -> None:
    """A process that wakes for its slot while another just sent waits one more spacing."""
    waits_a: list[float] = []
    waits_b: list[float] = []
    first = RedisBudget(
        client, key_prefix=prefix, intervals={"read": HOUR}, fallback=NoPacing(),
        sleep=waits_a.append,
    )  # fmt: skip
    second = RedisBudget(
        client, key_prefix=prefix, intervals={"read": HOUR}, fallback=NoPacing(),
        sleep=waits_b.append,
    )  # fmt: skip
    first.acquire("read")  # sent now: recorded as the last real send
    assert waits_a == []
    second.acquire("read")  # its slot is an hour on; (not really slept) then confirmed:
    assert waits_b[0] == pytest.approx(HOUR, abs=5)
    assert waits_b[1] == pytest.approx(HOUR, abs=5)  # the last real send was just now
    second.observe("read", {"X-RateLimit-Remaining": "7"})  # a server with room: no confirm
    waits_b.clear()
    second.acquire("read")
    assert len(waits_b) == 1
