"""The shared API budget's choice, fingerprint and fallback (no Redis needed)."""

import logging

import pytest
import redis

from config.api import ApiSettings, RateLimitSettings
from config.budget import BudgetSettings
from craflow.api.ratelimit import BucketPacer, NoPacing
from craflow.budget import RedisBudget, choose_pacer, fingerprint, under_worker
from craflow.budget.choose import intervals

KEY = "cra_secret_key_123456"


def test_fingerprint_is_stable_normalised_and_hides_the_key() -> None:
    first = fingerprint("https://API.example.com/api/v1/", KEY)
    assert first == fingerprint("https://api.example.com", KEY)
    assert KEY not in first
    assert first != fingerprint("https://api.example.com", KEY + "x")
    assert first != fingerprint("https://other.example.com", KEY)


def test_under_worker_is_the_flow_run_id_a_worker_sets() -> None:
    assert under_worker({"PREFECT__FLOW_RUN_ID": "abc"})
    assert not under_worker({})
    assert not under_worker({"PREFECT__FLOW_RUN_ID": " "})


def test_intervals_follow_the_rates_and_headroom() -> None:
    rates = RateLimitSettings(read_per_minute=300, write_per_minute=60, window_scale=2.0)
    got = intervals(rates, 0.5)
    assert got["read"] == pytest.approx(30.0 / 300 / 0.5)
    assert got["write"] == pytest.approx(30.0 / 60 / 0.5)


def _never(_: BudgetSettings) -> redis.Redis:
    raise AssertionError("Redis must not be contacted")


def test_auto_outside_a_worker_paces_alone() -> None:
    pacer = choose_pacer(
        ApiSettings(), RateLimitSettings(), BudgetSettings(mode="auto"), environ={}, connect=_never
    )
    assert isinstance(pacer, BucketPacer)


def test_disabled_rates_mean_no_pacing() -> None:
    pacer = choose_pacer(
        ApiSettings(),
        RateLimitSettings(enabled=False),
        BudgetSettings(mode="shared"),
        environ={},
        connect=_never,
    )
    assert isinstance(pacer, NoPacing)


def test_unreachable_redis_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    def down(_: BudgetSettings) -> redis.Redis:
        raise redis.ConnectionError("refused")

    with caplog.at_level(logging.WARNING, logger="craflow.budget"):
        pacer = choose_pacer(
            ApiSettings(),
            RateLimitSettings(),
            BudgetSettings(mode="auto"),
            environ={"PREFECT__FLOW_RUN_ID": "run"},
            connect=down,
        )
    assert isinstance(pacer, BucketPacer)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "paces alone" in caplog.text


class _Recorder:
    def __init__(self) -> None:
        self.acquired: list[str] = []
        self.observed: list[str] = []

    def acquire(self, bucket: str) -> None:
        self.acquired.append(bucket)

    def observe(self, bucket: str, headers: object) -> None:
        self.observed.append(bucket)


class _BrokenScript:
    def __call__(self, **_: object) -> int:
        raise redis.ConnectionError("gone")


class _BrokenRedis:
    def register_script(self, _: str) -> _BrokenScript:
        return _BrokenScript()


def test_redis_lost_mid_run_degrades_to_the_local_pacer(caplog: pytest.LogCaptureFixture) -> None:
    local = _Recorder()
    budget = RedisBudget(
        _BrokenRedis(),  # type: ignore[arg-type]
        key_prefix="p",
        intervals={"read": 0.1},
        fallback=local,
        sleep=lambda _: None,
    )
    with caplog.at_level(logging.WARNING, logger="craflow.budget"):
        budget.acquire("read")
        budget.acquire("read")
    assert budget.degraded
    assert local.acquired == ["read", "read"]
    assert len(caplog.records) == 1


def test_secret_redis_url_is_not_printed() -> None:
    settings = BudgetSettings(redis_url="redis://:hunter2@127.0.0.1:6379/0")  # type: ignore[arg-type]
    assert "hunter2" not in repr(settings)


class _FakeRedis:
    def __init__(self) -> None:
        self.scripts: list[str] = []

    def ping(self) -> bool:
        return True

    def register_script(self, source: str) -> _BrokenScript:
        self.scripts.append(source)
        return _BrokenScript()


def test_under_a_worker_the_budget_is_shared_and_keyed_without_the_key() -> None:
    fake = _FakeRedis()
    api = ApiSettings(api_key=KEY)  # type: ignore[arg-type]
    pacer = choose_pacer(
        api,
        RateLimitSettings(),
        BudgetSettings(key_prefix="kp"),
        environ={"PREFECT__FLOW_RUN_ID": "run"},
        connect=lambda _: fake,  # type: ignore[arg-type,return-value]
    )
    assert isinstance(pacer, RedisBudget)
    key = pacer.key("read")
    assert key == f"kp:{fingerprint(api.url, KEY)}:read"
    assert KEY not in key
