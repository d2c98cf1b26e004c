"""Fakes for the client tests: a virtual clock and a scripted mock server."""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from config.api import ApiSettings, RateLimitSettings, RetrySettings
from craflow.api import CraEvidenceClient

API_KEY = "cra_test_key_0123456789abcdef"
START = 1_800_000_000.0  # a realistic Unix time, so X-RateLimit-Reset reads as one


class FakeClock:
    """Virtual time: `sleep` advances `now` and records the waits; nothing really sleeps."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class MockServer:
    """Answers requests with scripted handlers, in order, and records what it received."""

    handler: Handler | None = None
    queue: list[Handler | httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append(request)
        self.bodies.append(body)
        if self.queue:
            step = self.queue.pop(0)
            if isinstance(step, Exception):
                raise step
            if isinstance(step, httpx.Response):
                return step
            return step(request)
        assert self.handler is not None, f"unexpected request {request.method} {request.url}"
        return self.handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def error_response(
    status: int, code: str, detail: str = "it failed", *, request_id: str = "req-1", **extra: object
) -> httpx.Response:
    body: dict[str, object] = {
        "type": "https://api.craevidence.com/errors/x",
        "title": "Title",
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
        **extra,
    }
    return httpx.Response(status, json={"error": body}, headers={"X-Request-ID": request_id})


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: keep the developer's or CI's variables out."""
    for name in list(os.environ):
        if name.startswith(("CRA_EVIDENCE_", "CRAFLOW_")):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server() -> MockServer:
    return MockServer()


ClientFactory = Callable[..., CraEvidenceClient]


@pytest.fixture
def make_client(server: MockServer, clock: FakeClock) -> Iterator[ClientFactory]:
    """Build clients on the mock server and the fake clock; jitter is fixed at 0.5."""
    made: list[CraEvidenceClient] = []

    def factory(
        *,
        settings: ApiSettings | None = None,
        retry: RetrySettings | None = None,
        rates: RateLimitSettings | None = None,
        **kwargs: object,
    ) -> CraEvidenceClient:
        client = CraEvidenceClient(
            settings or ApiSettings(url="https://cra.test", api_key=API_KEY),
            retry=retry or RetrySettings(),
            rates=rates or RateLimitSettings(enabled=False),
            transport=httpx.MockTransport(server),
            clock=clock,
            sleep=clock.sleep,
            jitter=lambda: 0.5,
            **kwargs,  # type: ignore[arg-type]
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: ClientFactory) -> CraEvidenceClient:
    return make_client()
