"""Token buckets in virtual time, learning from the server's headers."""

import logging
import threading

import httpx
import pytest

from config.api import ApiSettings, RateLimitSettings, RetrySettings
from craflow.api import BucketPacer, CraEvidenceClient, TokenBucket, bucket_for
from craflow.api.ratelimit import reset_at
from tests.unit.api.conftest import START, FakeClock


@pytest.mark.parametrize(
    ("method", "path", "bucket"),
    [
        ("GET", "/products", "read"),
        ("HEAD", "/products", "read"),
        ("GET", "/api/v1/versions/1/cra-status", "read"),
        ("POST", "/products", "write"),
        ("PATCH", "/versions/1/release-state", "write"),
        ("DELETE", "/products/1", "write"),
        ("POST", "/sboms/ingest", "upload"),
        ("POST", "/api/v1/ci/upload", "upload"),
        ("POST", "/auth/login", "auth"),
        ("POST", "/auth/refresh", "auth"),
        ("POST", "/oidc/token", "auth"),
        ("GET", "/sboms/1/download", "read"),
    ],
)
def test_bucket_for(method: str, path: str, bucket: str) -> None:
    assert bucket_for(method, path) == bucket


def test_a_full_bucket_bursts_then_paces_at_the_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(300):
        assert bucket.acquire() == 0.0
    assert clock.now == START
    for _ in range(300):
        bucket.acquire()
    # 300 more at 5 per second take 60 virtual seconds
    assert clock.now - START == pytest.approx(60.0)
    assert len(clock.sleeps) == 300


def test_an_idle_bucket_refills_only_to_capacity(clock: FakeClock) -> None:
    bucket = TokenBucket(5, 60.0, clock=clock, sleep=clock.sleep)
    clock.now += 3600
    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == []
    assert bucket.acquire() == pytest.approx(12.0)


def test_remaining_zero_waits_until_reset(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    bucket.observe(0, START + 30)
    assert bucket.acquire() == pytest.approx(30.0)
    assert clock.now == pytest.approx(START + 30)
    # after the reset the server's count is unknown again and the bucket is still full
    assert bucket.acquire() == 0.0


def test_remaining_is_counted_down_locally(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    bucket.observe(2, START + 20)
    bucket.acquire()
    bucket.acquire()
    assert clock.sleeps == []
    assert bucket.acquire() == pytest.approx(20.0)


def test_a_rounded_up_reset_beyond_one_window_is_still_one_window(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 10.0, clock=clock, sleep=clock.sleep)
    reset = START + 10.7  # a server rounding its reset up to whole seconds
    bucket.observe(3, reset)
    clock.now += 0.2
    bucket.observe(5, reset)  # the same window, answered out of order: the lower count stays
    for _ in range(3):
        assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(10.0 - 0.2)  # capped at one window from observe


def test_requests_in_flight_when_a_window_is_learned_are_counted(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(4):  # four threads send before any answer arrives
        bucket.acquire()
    bucket.observe(10, START + 20)  # the first answer; three more may still be counted
    for _ in range(7):
        assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(20.0)


def test_stale_and_absurd_observations(clock: FakeClock) -> None:
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    bucket.observe(0, START + 1e9)  # absurdly far: capped at one window
    assert bucket.acquire() == pytest.approx(60.0)
    bucket.observe(0, clock.now - 1)  # already past: ignored
    assert bucket.acquire() == 0.0
    bucket = TokenBucket(300, 60.0, clock=clock, sleep=clock.sleep)
    bucket.observe(5, clock.now + 30)
    bucket.observe(9, clock.now + 30)  # same window: the lower count stays
    bucket.observe(100, clock.now + 10)  # an older window's answer: ignored
    for _ in range(5):
        bucket.acquire()
    assert bucket.acquire() == pytest.approx(30.0)


def test_bucket_is_thread_safe(clock: FakeClock) -> None:
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.now += seconds

    bucket = TokenBucket(50, 60.0, clock=clock, sleep=sleep)
    threads = [threading.Thread(target=bucket.acquire) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now == START  # exactly 50 tokens, none handed out twice
    assert bucket.acquire() == pytest.approx(60.0 / 50)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(int(START + 10)), START + 10),
        ("10", START + 10),
        ("nan", None),
        ("-1", None),
        ("x", None),
        (None, None),
    ],
)
def test_reset_at(value: str | None, expected: float | None) -> None:
    assert reset_at(value, now=START) == expected


def test_pacer_reads_headers_per_bucket(clock: FakeClock) -> None:
    pacer = BucketPacer(RateLimitSettings(), clock=clock, sleep=clock.sleep)
    headers = httpx.Headers(
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START + 7))}
    )
    pacer.observe("write", headers)
    pacer.acquire("read")
    assert clock.sleeps == []
    pacer.acquire("write")
    assert clock.sleeps == [pytest.approx(7.0)]
    pacer.observe("read", httpx.Headers({"X-RateLimit-Remaining": "many"}))  # ignored


def test_long_pacing_waits_are_logged_at_info(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = BucketPacer(RateLimitSettings(auth_per_minute=1), clock=clock, sleep=clock.sleep)
    caplog.set_level(logging.DEBUG, logger="craflow.api")
    pacer.acquire("auth")
    pacer.acquire("auth")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "rate limit: waited 61.80 s for the auth bucket")
    ]


def test_window_scale_shortens_every_window(clock: FakeClock) -> None:
    pacer = BucketPacer(
        RateLimitSettings(upload_per_hour=2, window_scale=60), clock=clock, sleep=clock.sleep
    )
    for _ in range(3):
        pacer.acquire("upload")
    # an hour / 60 / 2 uploads = 30 s apart (plus the 3 % margin and the 2 ms jitter
    # allowance), never a burst
    assert clock.sleeps == [pytest.approx(30.902), pytest.approx(30.902)]


class FixedWindowServer:
    """A server with a fixed-window limit per bucket, answering 429 above it."""

    def __init__(self, clock: FakeClock, limit: int, window: float, offset: float) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.count = 0
        self.window_start = clock.now - offset  # windows need not align with the client
        self.accepted = 0
        self.rejected = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.now
        while now >= self.window_start + self.window:
            self.window_start += self.window
            self.count = 0
        reset = str(int(self.window_start + self.window))
        if self.count >= self.limit:
            self.rejected += 1
            wait = str(int(self.window_start + self.window - now) + 1)
            return httpx.Response(
                429,
                json={"error": {"code": "RATE_LIMIT_EXCEEDED"}},
                headers={
                    "Retry-After": wait,
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": reset,
                },
            )
        self.count += 1
        self.accepted += 1
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - self.count),
            "X-RateLimit-Reset": reset,
        }
        return httpx.Response(200, json={"id": "p", "name": "n"}, headers=headers)


LIMIT = 20  # per minute: the same arithmetic as 300/min, fifteen times fewer requests


class SlidingWindowServer:
    """A server allowing `limit` requests in any `window` (a moving log), 429 above it."""

    def __init__(self, clock: FakeClock, limit: int, window: float) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.log: list[float] = []
        self.accepted = 0
        self.rejected = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.now
        self.log = [t for t in self.log if t > now - self.window]
        if len(self.log) >= self.limit:
            self.rejected += 1
            reset = self.log[0] + self.window
            headers = {"Retry-After": str(int(reset - now) + 1), "X-RateLimit-Remaining": "0"}
            return httpx.Response(
                429, json={"error": {"code": "RATE_LIMIT_EXCEEDED"}}, headers=headers
            )
        self.log.append(now)
        self.accepted += 1
        headers = {
            "X-RateLimit-Remaining": str(self.limit - len(self.log)),
            "X-RateLimit-Reset": str(self.log[0] + self.window),
        }
        return httpx.Response(200, json={"id": "p", "name": "n"}, headers=headers)


def test_alone_on_its_key_never_429_against_a_sliding_window(clock: FakeClock) -> None:
    fake_server = SlidingWindowServer(clock, limit=LIMIT, window=60.0)
    with CraEvidenceClient(
        ApiSettings(url="https://cra.test", api_key="cra_test_key_0123456789"),
        rates=RateLimitSettings(read_per_minute=LIMIT),
        transport=httpx.MockTransport(fake_server),
        clock=clock,
        sleep=clock.sleep,
    ) as client:
        for _ in range(6 * LIMIT):
            client.get_product("p")
        # an idle spell refills the local bucket; the server's count still rules
        clock.now += 30
        for _ in range(2 * LIMIT):
            client.get_product("p")
    assert fake_server.rejected == 0
    assert fake_server.accepted == 8 * LIMIT


@pytest.mark.parametrize("offset", [0.0, 20.0, 59.0])
@pytest.mark.parametrize("requests", [LIMIT - 1, 3 * LIMIT + 7, 6 * LIMIT])
def test_alone_on_its_key_never_429_and_near_full_rate(
    clock: FakeClock, requests: int, offset: float
) -> None:
    """Against a fixed window, aligned or not: no 429, evenly spaced at the published rate."""
    fake_server = FixedWindowServer(clock, limit=LIMIT, window=60.0, offset=offset)
    with CraEvidenceClient(
        ApiSettings(url="https://cra.test", api_key="cra_test_key_0123456789"),
        retry=RetrySettings(),
        rates=RateLimitSettings(read_per_minute=LIMIT),
        transport=httpx.MockTransport(fake_server),
        clock=clock,
        sleep=clock.sleep,
    ) as client:
        for _ in range(requests):
            client.get_product("p")
    assert fake_server.rejected == 0
    assert fake_server.accepted == requests
    elapsed = clock.now - START
    # a smooth pace: one request every window / limit; the 3 % margin and 2 ms only while
    # the server has not said it has room for two more (the first spacing, each window's
    # last two), so well within 1 % of the rate
    spacing = 60.0 / LIMIT
    assert (requests - 1) * spacing <= elapsed <= (requests - 1) * spacing * 1.01
