"""Smooth, adaptive pacing against the four common limiter kinds, in virtual time."""

import itertools
import random

import httpx
import pytest

from config.api import ApiSettings, RateLimitSettings, RetrySettings
from craflow.api import CraEvidenceClient, SmoothBucket, shared_pacer
from craflow.api.registry import forget_pacers
from tests.chaos.limiters import KINDS, make_limiter
from tests.unit.api.conftest import API_KEY, START, FakeClock

PRODUCT = {"id": "p", "name": "n"}


class LimitedServer:
    """A mock server answering 200 or 429 as its limiter says, counting both."""

    def __init__(self, clock: FakeClock, kind: str, per_minute: int) -> None:
        self.clock = clock
        self.limiter = make_limiter(kind, per_minute, start=START - 17.0)
        self.accepted = 0
        self.rejected = 0

    def arrival(self) -> float:
        """When the request reaches the limiter's clock."""
        return self.clock.now

    def __call__(self, request: httpx.Request) -> httpx.Response:
        allowed, headers = self.limiter.admit(self.arrival())
        if not allowed:
            self.rejected += 1
            body = {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down"}}
            return httpx.Response(429, json=body, headers=headers)
        self.accepted += 1
        return httpx.Response(200, json=PRODUCT, headers=headers)


def _client(clock: FakeClock, server: LimitedServer, per_minute: int) -> CraEvidenceClient:
    return CraEvidenceClient(
        ApiSettings(url="https://cra.test", api_key=API_KEY, run_deadline_seconds=86400),
        retry=RetrySettings(),
        rates=RateLimitSettings(read_per_minute=per_minute),
        transport=httpx.MockTransport(server),
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_configured_rate_never_429_and_near_the_bound(clock: FakeClock, kind: str) -> None:
    per_minute, requests = 300, 200
    server = LimitedServer(clock, kind, per_minute)
    with _client(clock, server, per_minute) as client:
        for _ in range(requests):
            client.get_product("p")
    assert server.rejected == 0
    assert server.accepted == requests
    bound = requests / (per_minute / 60.0)  # the sustained rate the limits allow
    assert (clock.now - START) / bound <= 1.05


@pytest.mark.parametrize("kind", KINDS)
def test_a_stricter_server_is_learned_and_no_request_fails(clock: FakeClock, kind: str) -> None:
    """Configured 300/min, the server allows 150/min: 429s slow the pace, none fails."""
    server = LimitedServer(clock, kind, 150)
    with _client(clock, server, 300) as client:
        for _ in range(300):
            client.get_product("p")
    assert server.accepted == 300
    # learned, not hammered (a limiter without headers first costs the few 429s that
    # widen the jitter allowance to its cap: 2, 4, 8, 16, 32, 50 ms)
    assert server.rejected < 60 + 6


def test_adapts_down_on_429_and_back_up_never_above_the_rate(clock: FakeClock) -> None:
    bucket = SmoothBucket(60, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    assert bucket.interval() == pytest.approx(1.0)
    bucket.acquire()
    bucket.throttled(5.0)
    assert bucket.fraction() == pytest.approx(0.8)
    bucket.throttled(5.0)  # the same burst of 429s (sent before the cut): counted once
    assert bucket.fraction() == pytest.approx(0.8)
    start = clock.now
    bucket.acquire()
    assert clock.now - start == pytest.approx(5.0)  # Retry-After honoured
    # climbed back 5 % a second up to 95 % of the pace of the 429, then 1 % a second
    assert bucket.fraction() == pytest.approx(0.95 + 0.05)
    clock.now += 0.5
    bucket.acquire()
    bucket.throttled(7.0)  # a later 429: cut again, from where it was
    assert bucket.fraction() == pytest.approx(0.8)
    clock.now += 60.0
    assert bucket.fraction() == 1.0  # recovered, and never above the configured rate
    assert bucket.interval() == pytest.approx(1.0)  # 429s with Retry-After never widen


def test_a_429_without_headers_widens_before_it_cuts(clock: FakeClock) -> None:
    bucket = SmoothBucket(
        60, 60.0, clock=clock, sleep=clock.sleep, margin=0.0, max_jitter_seconds=0.01
    )
    widths = []
    for _ in range(4):
        bucket.acquire()
        bucket.throttled(None)
        bucket.throttled(None)  # the same request's burst: counted once
        widths.append(bucket.jitter_seconds)
        assert bucket.fraction() == 1.0  # jitter, not a stricter server: the pace holds
    assert widths == pytest.approx([0.002, 0.004, 0.008, 0.01])
    bucket.acquire()
    bucket.throttled(None)  # at the cap: now it is taken for a stricter server
    assert bucket.fraction() == pytest.approx(0.8)


def test_spacing_counts_from_when_a_request_really_goes(clock: FakeClock) -> None:
    """A thread that wakes late delays the next request instead of bunching with it."""
    late = 0.3

    def oversleep(seconds: float) -> None:
        clock.sleep(seconds + late)

    bucket = SmoothBucket(60, 60.0, clock=clock, sleep=oversleep, margin=0.0)
    sent = []
    for _ in range(4):
        bucket.acquire()
        sent.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 1.0


class JitteredServer(LimitedServer):
    """A no-burst limiter whose clock sees each request up to *jitter* seconds late."""

    def __init__(self, clock: FakeClock, per_minute: int, jitter: float, seed: int) -> None:
        super().__init__(clock, "token-bucket-no-burst", per_minute)
        self.random = random.Random(seed)
        self.jitter = jitter

    def arrival(self) -> float:
        return self.clock.now + self.random.uniform(0.0, self.jitter)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_burst_limiter_with_jittered_arrivals_learns_the_jitter(
    clock: FakeClock, seed: int
) -> None:
    """nginx limit_req without burst, arrivals 0-8 ms late: a few 429s, then none, near rate."""
    per_minute, requests = 300, 600
    server = JitteredServer(clock, per_minute, jitter=0.008, seed=seed)
    with _client(clock, server, per_minute) as client:
        for _ in range(requests // 2):
            client.get_product("p")
        early = server.rejected
        for _ in range(requests // 2):
            client.get_product("p")
    assert server.accepted == requests
    assert early <= 4  # the allowance is learned in a few 429s (2, 4, 8 ms)
    assert server.rejected == early  # ... and then it holds: no more 429s
    bound = requests / (per_minute / 60.0)
    assert (clock.now - START) / bound <= 1.10


class JitteredRoomServer(JitteredServer):
    """A limiter that reports its room (window or GCRA), arrivals up to *jitter* s late."""

    def __init__(self, clock: FakeClock, kind: str, per_minute: int, jitter: float) -> None:
        super().__init__(clock, per_minute, jitter, seed=7)
        # a fixed window's reset is rounded up to the second (0.6 s here), as servers do
        self.limiter = make_limiter(kind, per_minute, start=START - 17.6)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        answer = super().__call__(request)
        self.clock.now += 0.015  # the answer takes 15 ms to come back
        return answer


@pytest.mark.parametrize("kind", ["fixed-window", "sliding-window", "gcra-small-burst"])
def test_a_server_with_room_gets_the_exact_rate_and_no_429(clock: FakeClock, kind: str) -> None:
    """While the server says it has room for two more, no margin is spent: the bound, 0 x 429
    (and a few left spread to the reset count from the request, not from its late answer)."""
    per_minute, requests = 300, 600
    server = JitteredRoomServer(clock, kind, per_minute, jitter=0.008)
    with _client(clock, server, per_minute) as client:
        for _ in range(requests):
            client.get_product("p")
    assert server.rejected == 0
    bound = requests / (per_minute / 60.0)
    # the margin (3 % + 2 ms) would make this 1.04; it is spent on the first spacing and
    # at a fixed window's end (its last two), which also holds until the rounded-up reset
    assert (clock.now - START) / bound <= 1.005


def test_the_margin_returns_when_the_room_runs_low(clock: FakeClock) -> None:
    bucket = SmoothBucket(60, 60.0, clock=clock, sleep=clock.sleep, margin=0.03)
    assert bucket.interval() == pytest.approx(1.03)  # nothing known: the margin
    bucket.observe(5, None)
    assert bucket.interval() == pytest.approx(1.0)  # room for two more: exact
    bucket.observe(1, None)
    assert bucket.interval() == pytest.approx(1.03)  # one left: it may be another's
    bucket.observe(5, None)
    clock.now += 61.0
    assert bucket.interval() == pytest.approx(1.03)  # what the server said is a window old
    bucket.observe(5, None)
    bucket.throttled(None)
    assert bucket.interval() > 1.03  # a 429 ends it (and widens the allowance)


class LateToTheSocket(httpx.BaseTransport):
    """Each request reaches the socket 0-6 ms after the pacer let it go (the interpreter
    lock, a busy core: what was measured on loopback), and the limiter stamps it then."""

    def __init__(self, clock: FakeClock, server: LimitedServer) -> None:
        self.clock = clock
        self.server = server
        self.random = random.Random(5)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.clock.now += self.random.uniform(0.0, 0.006)
        trace = request.extensions.get("trace")
        if trace is not None:
            trace("http11.send_request_headers.started", {})
        return self.server(request)


def test_spacing_counts_from_the_socket_write_not_the_turnstile(clock: FakeClock) -> None:
    """No margin, no allowance, a limiter without burst: requests held up on their way to
    the socket still arrive one full spacing apart, so none is refused."""
    per_minute = 1500
    server = LimitedServer(clock, "token-bucket-no-burst", per_minute)
    rates = RateLimitSettings(
        read_per_minute=per_minute, safety_margin=0.0, jitter_allowance_seconds=0.0
    )
    with CraEvidenceClient(
        ApiSettings(url="https://cra.test", api_key=API_KEY, run_deadline_seconds=86400),
        rates=rates,
        transport=LateToTheSocket(clock, server),
        clock=clock,
        sleep=clock.sleep,
    ) as client:
        for _ in range(200):
            client.get_product("p")
    assert server.rejected == 0
    assert server.accepted == 200


def test_a_late_socket_write_moves_the_next_slot(clock: FakeClock) -> None:
    bucket = SmoothBucket(60, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    bucket.acquire()
    clock.now += 0.006  # held up on the way to the socket
    written = clock.now
    bucket.sent()
    bucket.acquire()
    assert clock.now - written == pytest.approx(1.0)
    bucket.observe(5, None)  # a server with room: the plan rules, a late write is caught up
    planned = clock.now + 1.0
    clock.now += 0.006
    bucket.sent()
    bucket.acquire()
    assert clock.now - planned == pytest.approx(0.0, abs=1e-6)


def test_no_burst_after_an_idle_spell(clock: FakeClock) -> None:
    bucket = SmoothBucket(60, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    clock.now += 3600
    for _ in range(5):
        bucket.acquire()
    assert clock.sleeps == [pytest.approx(1.0)] * 4


def test_remaining_zero_holds_until_reset_and_few_left_are_spread(clock: FakeClock) -> None:
    bucket = SmoothBucket(600, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    bucket.observe(0, clock.now + 4.0)
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(4.0)]
    bucket.observe(1, clock.now + 10.0)  # someone else spends the key: spread what is left
    bucket.acquire()
    assert clock.sleeps[-1] == pytest.approx(5.0)
    sent = clock.now
    clock.now += 0.5  # the answer comes 0.5 s later: spread from the request, not the answer
    bucket.observe(1, sent + 10.0)
    bucket.acquire()
    assert clock.now - sent == pytest.approx(5.0)


def test_one_pacer_per_url_and_key_across_the_process() -> None:
    forget_pacers()
    rates = RateLimitSettings()
    first = shared_pacer("https://a.test/api/v1", "cra_one", rates)
    assert shared_pacer("https://a.test/api/v1/", "cra_one", rates) is first
    assert shared_pacer("https://a.test/api/v1", "cra_two", rates) is not first
    assert shared_pacer("https://b.test/api/v1", "cra_one", rates) is not first
    settings = ApiSettings(url="https://a.test", api_key="cra_one")
    with CraEvidenceClient(settings) as one, CraEvidenceClient(settings) as two:
        assert one.pacer is two.pacer is first
    forget_pacers()


def _upload_bucket(clock: FakeClock) -> SmoothBucket:
    """The contract's upload bucket: 50 an hour, 72 s apart when nothing is known."""
    return SmoothBucket(50, 3600.0, clock=clock, sleep=clock.sleep, margin=0.0)


def test_a_slow_bucket_spends_the_room_the_server_says_it_has(clock: FakeClock) -> None:
    bucket = _upload_bucket(clock)
    bucket.acquire()  # the SBOM upload
    bucket.observe(49, clock.now + 1800.0)
    bucket.acquire()  # the VEX upload of the same release: no 72 s wait
    assert clock.sleeps == []
    bucket.observe(1, clock.now + 60.0)  # one left: kept for a client with one in flight
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(72.0)]


def test_a_slow_bucket_without_headers_keeps_the_even_pace(clock: FakeClock) -> None:
    bucket = _upload_bucket(clock)
    bucket.acquire()
    bucket.acquire()  # nginx-style: the limiter says nothing, so nothing is granted
    assert clock.sleeps == [pytest.approx(72.0)]


def test_a_429_takes_back_what_the_server_granted(clock: FakeClock) -> None:
    bucket = _upload_bucket(clock)
    bucket.acquire()
    bucket.observe(49, clock.now + 1800.0)
    bucket.throttled(30.0)
    bucket.acquire()
    assert clock.sleeps[0] >= 30.0


def test_a_fast_bucket_is_never_granted_a_burst(clock: FakeClock) -> None:
    bucket = SmoothBucket(300, 60.0, clock=clock, sleep=clock.sleep, margin=0.0)
    bucket.acquire()
    bucket.observe(299, clock.now + 60.0)
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.2)]
