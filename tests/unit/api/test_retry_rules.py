"""The three pure retry functions, as tables."""

import math
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from config.api import RetrySettings
from craflow.api.retry import (
    Failure,
    Outcome,
    backoff_delay,
    parse_reset,
    parse_retry_after,
    retry_delay,
    retry_reason,
    server_wait,
)

NOW = 1_800_000_000.0


def _http_date(offset: float) -> str:
    return format_datetime(datetime.fromtimestamp(NOW + offset, tz=UTC), usegmt=True)


@pytest.mark.parametrize(
    ("outcome", "repeatable", "expected"),
    [
        # safe-to-repeat requests: gateway statuses, 429 and every transport failure
        (Outcome(status=429), True, "HTTP 429"),
        (Outcome(status=502), True, "HTTP 502"),
        (Outcome(status=503), True, "HTTP 503"),
        (Outcome(status=504), True, "HTTP 504"),
        (Outcome(failure=Failure.CONNECT), True, "connect error"),
        (Outcome(failure=Failure.READ_TIMEOUT), True, "read timeout"),
        (Outcome(failure=Failure.CONNECTION_LOST), True, "connection lost"),
        (Outcome(failure=Failure.POOL_TIMEOUT), True, "pool timeout"),
        (Outcome(status=500), True, "HTTP 500"),
        (Outcome(status=400), True, None),
        (Outcome(status=401), True, None),
        (Outcome(status=404), True, None),
        (Outcome(status=409), True, None),
        (Outcome(status=422), True, None),
        # unsafe requests: only when the server cannot have acted
        (Outcome(status=429), False, "HTTP 429"),
        (Outcome(status=503), False, "HTTP 503"),
        (Outcome(failure=Failure.CONNECT), False, "connect error"),
        (Outcome(failure=Failure.POOL_TIMEOUT), False, "pool timeout"),
        (Outcome(status=500), False, None),
        (Outcome(status=502), False, None),
        (Outcome(status=504), False, None),
        (Outcome(failure=Failure.READ_TIMEOUT), False, None),
        (Outcome(failure=Failure.WRITE_TIMEOUT), False, None),
        (Outcome(failure=Failure.CONNECTION_LOST), False, None),
    ],
)
def test_retry_reason_table(outcome: Outcome, repeatable: bool, expected: str | None) -> None:
    assert retry_reason(outcome, repeatable=repeatable, attempt=1, max_attempts=5) == expected


def test_retry_reason_stops_at_the_last_attempt() -> None:
    outcome = Outcome(status=503)
    assert retry_reason(outcome, repeatable=True, attempt=4, max_attempts=5) == "HTTP 503"
    assert retry_reason(outcome, repeatable=True, attempt=5, max_attempts=5) is None
    assert retry_reason(outcome, repeatable=True, attempt=1, max_attempts=1) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("1e308", 1e308),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("Wed, 32 Foo 2026 99:99:99 GMT", None),
        (_http_date(30), 30.0),
        (_http_date(-30), None),  # a date in the past
        ("Sun, 06 Nov 1994 08:49:37", None),  # no zone: ambiguous
    ],
)
def test_parse_retry_after_table(value: str | None, expected: float | None) -> None:
    result = parse_retry_after(value, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(int(NOW + 42)), 42.0),
        ("15", 15.0),  # too small for a Unix time: delta-seconds
        (str(int(NOW - 10)), None),  # already past
        ("nan", None),
        ("-3", None),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_reset_table(value: str | None, expected: float | None) -> None:
    result = parse_reset(value, now=NOW)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "10"}, 10.0),
        ({"Retry-After": "10", "X-RateLimit-Reset": str(int(NOW + 50))}, 10.0),
        ({"Retry-After": "abc", "X-RateLimit-Reset": str(int(NOW + 50))}, 50.0),
        ({"X-RateLimit-Reset": str(int(NOW + 50))}, 50.0),
        ({"Retry-After": "1e308"}, 120.0),  # capped
        ({"Retry-After": "99999"}, 120.0),
        ({"Retry-After": "-5"}, None),
        ({"Retry-After": "inf"}, None),
        ({}, None),
    ],
)
def test_server_wait_prefers_retry_after_and_caps(
    headers: dict[str, str], expected: float | None
) -> None:
    result = server_wait(httpx.Headers(headers), now=NOW, cap=120.0)
    assert result == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        (1, 1.0, 0.5),
        (2, 1.0, 1.0),
        (3, 1.0, 2.0),
        (4, 0.5, 2.0),
        (7, 1.0, 30.0),  # 0.5 * 2**6 = 32, capped at 30
        (500, 1.0, 30.0),  # huge attempt numbers do not overflow
        (3, 0.0, 0.0),
        (3, 7.0, 2.0),  # a broken jitter source cannot exceed the ceiling
    ],
)
def test_backoff_delay_is_capped_full_jitter(attempt: int, jitter: float, expected: float) -> None:
    delay = backoff_delay(attempt, base=0.5, cap=30.0, jitter=lambda: jitter)
    assert delay == pytest.approx(expected)
    assert math.isfinite(delay)


@pytest.mark.parametrize(
    ("outcome", "headers", "expected"),
    [
        (Outcome(status=429), {"Retry-After": "12"}, 12.0),
        (Outcome(status=429), {"X-RateLimit-Reset": str(int(NOW + 40))}, 40.0),
        (Outcome(status=429), {"Retry-After": "nan"}, 0.25),  # hostile: falls back to backoff
        (Outcome(status=429), {"Retry-After": _http_date(9)}, 9.0),
        (Outcome(status=503), {"Retry-After": "3"}, 3.0),
        # a 503's X-RateLimit-Reset names the rate bucket, not the outage: backoff instead
        (Outcome(status=503), {"X-RateLimit-Reset": str(int(NOW + 40))}, 0.25),
        (Outcome(status=502), {}, 0.25),
        (Outcome(failure=Failure.CONNECT), {}, 0.25),
    ],
)
def test_retry_delay_combines_server_wait_and_backoff(
    outcome: Outcome, headers: dict[str, str], expected: float
) -> None:
    delay = retry_delay(
        outcome,
        httpx.Headers(headers),
        attempt=1,
        now=NOW,
        settings=RetrySettings(),
        jitter=lambda: 0.5,
    )
    assert delay == pytest.approx(expected)
