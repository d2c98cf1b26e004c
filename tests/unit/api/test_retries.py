"""The retry loop: what is repeated, how long it waits, the idempotency key, the logs."""

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from config.api import ApiSettings, RetrySettings
from craflow.api import (
    ApiTimeoutError,
    CraEvidenceClient,
    DeadlineExceededError,
    NetworkError,
    ServerError,
    is_transient,
)
from tests.unit.api.conftest import (
    API_KEY,
    START,
    ClientFactory,
    FakeClock,
    MockServer,
    error_response,
)

PRODUCT = {"id": "p-1", "name": "Widget", "slug": "widget"}
SBOM = {"id": "s-1", "version_id": "v-1"}


def _connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def test_get_retries_gateway_errors_then_succeeds(
    client: CraEvidenceClient, server: MockServer, clock: FakeClock
) -> None:
    server.queue += [
        httpx.Response(502, text="<html>bad gateway</html>"),
        error_response(503, "UNAVAILABLE"),
        httpx.Response(504),
        _read_timeout,
        httpx.Response(200, json=PRODUCT),
    ]
    assert client.get_product("p-1").id == "p-1"
    assert len(server.requests) == 5
    # full jitter fixed at 0.5 of 0.5, 1, 2, 4 seconds
    assert clock.sleeps == [
        pytest.approx(0.25),
        pytest.approx(0.5),
        pytest.approx(1.0),
        pytest.approx(2.0),
    ]


def test_attempts_are_bounded(
    make_client: ClientFactory, server: MockServer, clock: FakeClock
) -> None:
    client = make_client(retry=RetrySettings(max_attempts=3))
    server.handler = lambda request: httpx.Response(503, json={"error": {"code": "UNAVAILABLE"}})
    with pytest.raises(ServerError) as caught:
        client.get_product("p-1")
    assert caught.value.status == 503
    assert is_transient(caught.value)
    assert len(server.requests) == 3
    assert len(clock.sleeps) == 2


def test_500_is_retried_for_a_read(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue += [error_response(500, "INTERNAL_ERROR"), httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert len(server.requests) == 2


def test_500_on_a_read_is_retried_a_bounded_number_of_times(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(retry=RetrySettings(max_attempts=3))
    server.handler = lambda request: error_response(500, "INTERNAL_ERROR")
    with pytest.raises(ServerError) as caught:
        client.get_product("p-1")
    assert not is_transient(caught.value)
    assert len(server.requests) == 3


def test_other_5xx_stay_as_they_are(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(error_response(501, "NOT_IMPLEMENTED"))
    with pytest.raises(ServerError):
        client.get_product("p-1")
    assert len(server.requests) == 1


def test_429_waits_for_retry_after(
    client: CraEvidenceClient, server: MockServer, clock: FakeClock
) -> None:
    limited = error_response(429, "RATE_LIMIT_EXCEEDED")
    limited.headers["Retry-After"] = "7"
    server.queue += [limited, httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert clock.sleeps == [7.0]


def test_429_waits_until_reset_when_no_retry_after(
    client: CraEvidenceClient, server: MockServer, clock: FakeClock
) -> None:
    limited = error_response(429, "RATE_LIMIT_EXCEEDED")
    limited.headers["X-RateLimit-Reset"] = str(int(START + 42))
    server.queue += [limited, httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert clock.sleeps == [pytest.approx(42.0)]


@pytest.mark.parametrize("hostile", ["-5", "nan", "inf", "abc", ""])
def test_429_with_hostile_retry_after_falls_back_to_backoff(
    client: CraEvidenceClient, server: MockServer, clock: FakeClock, hostile: str
) -> None:
    limited = error_response(429, "RATE_LIMIT_EXCEEDED")
    limited.headers["Retry-After"] = hostile
    server.queue += [limited, httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert clock.sleeps == [pytest.approx(0.25)]


def test_429_absurd_wait_is_capped(
    make_client: ClientFactory, server: MockServer, clock: FakeClock
) -> None:
    client = make_client(retry=RetrySettings(rate_limit_wait_cap_seconds=90))
    limited = error_response(429, "RATE_LIMIT_EXCEEDED")
    limited.headers["Retry-After"] = "1e308"
    server.queue += [limited, httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert clock.sleeps == [90.0]


def test_429_is_back_pressure_not_an_attempt(
    make_client: ClientFactory, server: MockServer
) -> None:
    """More 429s than attempts: waited out, and the request still succeeds."""
    client = make_client(retry=RetrySettings(max_attempts=2))
    limited = error_response(429, "RATE_LIMIT_EXCEEDED")
    limited.headers["Retry-After"] = "3"
    server.queue += [limited] * 6 + [httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert len(server.requests) == 7


def test_endless_429_ends_at_the_run_deadline_not_transient(
    make_client: ClientFactory, server: MockServer, clock: FakeClock
) -> None:
    client = make_client(
        settings=ApiSettings(url="https://cra.test", api_key=API_KEY, run_deadline_seconds=100)
    )

    def limited(request: httpx.Request) -> httpx.Response:
        response = error_response(429, "RATE_LIMIT_EXCEEDED")
        response.headers["Retry-After"] = "7"
        return response

    server.handler = limited
    start = clock.now
    with pytest.raises(DeadlineExceededError) as caught:
        client.get_product("p-1")
    assert not is_transient(caught.value)
    assert clock.now - start <= 100


def test_idempotency_key_is_stable_across_attempts(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue += [
        _connect_error,
        error_response(503, "UNAVAILABLE"),
        error_response(429, "RATE_LIMIT_EXCEEDED"),
        httpx.Response(201, json=PRODUCT),
    ]
    client.create_product("Widget", slug="widget")
    keys = [request.headers["idempotency-key"] for request in server.requests]
    assert len(keys) == 4
    assert len(set(keys)) == 1
    server.queue.append(httpx.Response(201, json=PRODUCT))
    client.create_product("Widget", slug="widget")
    assert server.last.headers["idempotency-key"] != keys[0]  # a new logical request


def test_get_requests_carry_no_idempotency_key(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(200, json=PRODUCT))
    client.get_product("p-1")
    assert "idempotency-key" not in server.last.headers


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (lambda request: error_response(500, "INTERNAL_ERROR"), ServerError),
        (lambda request: httpx.Response(502, text="bad gateway"), ServerError),
        (lambda request: httpx.Response(504, text="timeout"), ServerError),
        (_read_timeout, ApiTimeoutError),
        (
            lambda request: (_ for _ in ()).throw(
                httpx.RemoteProtocolError("reset", request=request)
            ),
            NetworkError,
        ),
    ],
)
def test_unsafe_requests_are_not_repeated_when_the_server_may_have_acted(
    client: CraEvidenceClient,
    server: MockServer,
    tmp_path: Path,
    failure: object,
    expected: type[Exception],
) -> None:
    sbom = tmp_path / "bom.json"
    sbom.write_text("{}")
    operations: list[Callable[[], object]] = [
        lambda: client.ingest_sbom("v-1", sbom),
        lambda: client.create_product("Widget"),
        lambda: client.create_version("p-1", "1.0"),
        lambda: client.trigger_scan("v-1"),
        lambda: client.compare_versions("v-1", "v-2"),
    ]
    for operation in operations:
        server.requests.clear()
        server.queue.append(failure)  # type: ignore[arg-type]
        with pytest.raises(expected):
            operation()
        assert len(server.requests) == 1


def test_unsafe_upload_is_repeated_after_connect_error_and_reopens_the_file(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    sbom = tmp_path / "bom.json"
    sbom.write_bytes(b'{"bomFormat": "CycloneDX", "pad": "' + b"x" * 200_000 + b'"}')
    server.queue += [
        _connect_error,
        error_response(429, "RATE_LIMIT_EXCEEDED"),
        error_response(503, "UNAVAILABLE"),
        httpx.Response(201, json=SBOM),
    ]
    result = client.ingest_sbom("v-1", sbom)
    assert result.sbom.id == "s-1"
    assert len(server.requests) == 4
    # every attempt carried the whole file, read again from disk
    assert all(sbom.read_bytes() in body for body in server.bodies)


def test_safe_patch_is_repeated_after_a_read_timeout(
    client: CraEvidenceClient, server: MockServer
) -> None:
    version = {"id": "v-1", "version_number": "1.0", "release_state": "released"}
    server.queue += [_read_timeout, httpx.Response(200, json=version)]
    assert client.set_release_state("v-1", "released").release_state == "released"
    server.queue += [httpx.Response(502), httpx.Response(200, json={"id": "u-1"})]
    client.triage_vulnerability("u-1", status="fixed")
    assert len(server.requests) == 4


def _cut_body(request: httpx.Request) -> httpx.Response:
    def body() -> Iterator[bytes]:
        yield b'{"id": "p-1", "na'
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    return httpx.Response(200, content=body(), headers={"Content-Type": "application/json"})


def test_a_get_whose_body_is_cut_is_retried(
    client: CraEvidenceClient, server: MockServer, clock: FakeClock
) -> None:
    server.queue += [_cut_body, httpx.Response(200, json=PRODUCT)]
    assert client.get_product("p-1").id == "p-1"
    assert len(server.requests) == 2
    assert clock.sleeps == [pytest.approx(0.25)]


def test_a_post_whose_body_is_cut_is_not_repeated(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(_cut_body)
    with pytest.raises(NetworkError, match="connection lost on POST /products"):
        client.create_product("Widget")
    assert len(server.requests) == 1


def test_connect_error_after_all_attempts_is_a_network_error(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(retry=RetrySettings(max_attempts=2))
    server.handler = _connect_error
    with pytest.raises(NetworkError, match="connect error on GET /products/p-1"):
        client.get_product("p-1")
    assert len(server.requests) == 2


def test_every_retry_is_logged_at_info(
    client: CraEvidenceClient, server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.queue += [_connect_error, httpx.Response(503), httpx.Response(200, json=PRODUCT)]
    with caplog.at_level(logging.INFO, logger="craflow.api"):
        client.get_product("p-1")
    retries = [r for r in caplog.records if r.name == "craflow.api" and r.levelno == logging.INFO]
    assert [r.getMessage() for r in retries] == [
        "retrying GET /products/p-1 (attempt 2 of 5) after connect error: waiting 0.25 s",
        "retrying GET /products/p-1 (attempt 3 of 5) after HTTP 503: waiting 0.50 s",
    ]
