from config.sandbox import SandboxSettings
from craflow.sandbox.ratelimit import RateLimiter, bucket_name, buckets_from


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_fall_into_the_published_buckets() -> None:
    assert bucket_name("GET", "/api/v1/products") == "read"
    assert bucket_name("PATCH", "/api/v1/versions/x/release-state") == "write"
    assert bucket_name("POST", "/api/v1/sboms/ingest") == "upload"
    assert bucket_name("POST", "/api/v1/ci/upload") == "upload"
    assert bucket_name("POST", "/api/v1/auth/login") == "auth"
    assert bucket_name("POST", "/api/v1/oidc/token") == "auth"


def test_published_limits_and_scaled_windows() -> None:
    buckets = buckets_from(SandboxSettings(rate_scale=60))
    assert (buckets["read"].limit, buckets["write"].limit) == (300, 60)
    assert (buckets["upload"].limit, buckets["auth"].limit) == (50, 5)
    assert buckets["read"].window_seconds == 1.0
    assert buckets["upload"].window_seconds == 60.0


def test_limit_then_refusal_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(buckets_from(SandboxSettings()), clock)
    decisions = [limiter.hit("k", "auth") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.retry_after == 60
    assert refused.reset_at == 1060
    clock.now += 30
    assert limiter.hit("k", "auth").retry_after == 30
    assert limiter.hit("other", "auth").allowed  # another caller has its own bucket
    clock.now += 30
    assert limiter.hit("k", "auth").allowed
