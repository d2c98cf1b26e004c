"""Bounded waits, credentials in the URL, plain http, interruptible sleeps (virtual time)."""

import logging
import threading

import httpx
import pytest

from config.api import ApiSettings
from craflow import interrupts
from craflow.api import (
    ConfigurationError,
    CraEvidenceClient,
    ServerUnresponsiveError,
    is_transient,
)
from tests.unit.api.conftest import API_KEY, FakeClock, MockServer


def test_a_server_that_never_answers_ends_in_bounded_time(clock: FakeClock) -> None:
    settings = ApiSettings(url="https://cra.test", api_key=API_KEY)
    timeouts: list[float] = []

    def silent(request: httpx.Request) -> httpx.Response:
        read = request.extensions["timeout"]["read"]
        timeouts.append(read)
        clock.now += read  # the read timeout passes
        raise httpx.ReadTimeout("timed out", request=request)

    start = clock.now
    with (
        CraEvidenceClient(
            settings, transport=httpx.MockTransport(silent), clock=clock, sleep=clock.sleep
        ) as client,
        pytest.raises(ServerUnresponsiveError) as caught,
    ):
        for _ in range(100):  # the task-level retries that would follow
            try:
                client.get_product("p")
            except Exception as exc:
                if not is_transient(exc):
                    raise
    assert not is_transient(caught.value)
    assert timeouts[0] == settings.json_read_timeout < 60
    assert clock.now - start <= 120


def test_downloads_keep_the_progress_timeout(clock: FakeClock, server: MockServer) -> None:
    server.handler = lambda request: httpx.Response(200, content=b"zip")
    settings = ApiSettings(url="https://cra.test", api_key=API_KEY)
    with CraEvidenceClient(
        settings, transport=httpx.MockTransport(server), clock=clock, sleep=clock.sleep
    ) as client:
        response = client._session.request("GET", "/versions/v/export", stream=True)
        response.read()
        response.close()
    assert server.last.extensions["timeout"]["read"] == settings.read_timeout


@pytest.mark.parametrize(
    "url",
    [
        "http://cra_x@cra.test",
        "https://user:secret@cra.test/api/v1",
        "https://cra.test/?api_key=cra_x",
        "https://cra.test/?token=abc",
    ],
)
def test_credentials_in_the_url_are_refused_and_never_shown(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        ApiSettings(url=url)
    assert "secret" not in str(caught.value)
    assert "cra_x" not in str(caught.value)
    assert "nothing was sent" in str(caught.value)


def test_refused_before_anything_starts() -> None:
    refused = interrupts.refused_api_url({"CRA_EVIDENCE_URL": "http://cra_x@h.test"})
    assert refused is not None and "cra_x" not in refused
    plain = {"CRA_EVIDENCE_URL": "http://10.0.0.5:8765", "CRAFLOW_API_REQUIRE_TLS": "1"}
    assert "refusing plain http" in (interrupts.refused_api_url(plain) or "")
    assert interrupts.refused_api_url({**plain, "CRA_EVIDENCE_URL": "http://127.0.0.1:1"}) is None
    assert interrupts.refused_api_url({"CRA_EVIDENCE_URL": "http://10.0.0.5"}) is None


def test_plain_http_to_a_remote_host_warns_every_time_and_require_tls_refuses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="craflow.api")
    for _ in range(2):
        CraEvidenceClient(ApiSettings(url="http://cra.example.com", api_key=API_KEY)).close()
    assert sum("plain http" in r.getMessage() for r in caplog.records) == 2
    caplog.clear()
    CraEvidenceClient(ApiSettings(url="http://127.0.0.1:8765", api_key=API_KEY)).close()
    CraEvidenceClient(ApiSettings(url="http://localhost:8765", api_key=API_KEY)).close()
    assert caplog.records == []
    with pytest.raises(ConfigurationError, match="refusing plain http"):
        CraEvidenceClient(
            ApiSettings(url="http://cra.example.com", api_key=API_KEY, require_tls=True)
        )


def test_interruptible_sleep_ends_at_once_when_stopped() -> None:
    assert not interrupts.STOP.is_set()
    timer = threading.Timer(0.05, interrupts.STOP.set)
    timer.start()
    try:
        with pytest.raises(interrupts.Interrupted):
            interrupts.sleep(30)
    finally:
        timer.join()
        interrupts.STOP.clear()
