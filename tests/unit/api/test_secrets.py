"""The API key never appears in logs, reprs or exception text."""

import logging

import httpx
import pytest

from config.api import ApiSettings, RetrySettings
from craflow.api import CraEvidenceError, NetworkError
from tests.unit.api.conftest import ClientFactory, MockServer

SECRET_KEY = "cra_live_SuperSecretValue_9f8e7d6c"
PASSWORD = "Pa55word-NEVER-LOG"


@pytest.mark.parametrize(
    "failure",
    [
        lambda request: httpx.Response(
            401, json={"error": {"code": "AUTHENTICATION_REQUIRED", "detail": "bad key"}}
        ),
        lambda request: httpx.Response(503, text="<html>down</html>"),
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)),
    ],
)
def test_key_is_nowhere_after_a_failing_request(
    make_client: ClientFactory,
    server: MockServer,
    caplog: pytest.LogCaptureFixture,
    failure: object,
) -> None:
    settings = ApiSettings(url="https://cra.test", api_key=SECRET_KEY)
    client = make_client(settings=settings, retry=RetrySettings(max_attempts=2))
    server.handler = failure  # type: ignore[assignment]
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "craflow.api"):
        caplog.set_level(logging.DEBUG, logger=name)
    with pytest.raises(CraEvidenceError) as caught:
        client.get_product("p-1")
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET_KEY}"  # it was sent
    secret_part = SECRET_KEY[4:-4]
    texts = [
        caplog.text,
        repr(client),
        str(client),
        repr(settings),
        str(settings),
        str(caught.value),
        repr(caught.value),
        repr(caught.value.__dict__),
    ]
    for text in texts:
        assert secret_part not in text
    assert "cra_****7d6c" in repr(client)
    assert caplog.records  # something was logged, and it was clean


def test_password_and_tokens_are_nowhere(
    make_client: ClientFactory, server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ApiSettings(url="https://cra.test", email="owner@example.com", password=PASSWORD)
    client = make_client(settings=settings, retry=RetrySettings(max_attempts=1))
    token = "eyJhbGciOiJIUzI1NiJ9.TOKEN-SECRET"
    server.queue += [
        httpx.Response(
            200, json={"access_token": token, "refresh_token": "REFRESH-SECRET", "expires_in": 900}
        ),
        httpx.Response(500, text="boom"),
    ]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CraEvidenceError) as caught:
        client.get_product("p-1")
    for text in (caplog.text, repr(client), repr(settings), str(caught.value)):
        assert PASSWORD not in text
        assert "TOKEN-SECRET" not in text
        assert "REFRESH-SECRET" not in text


def test_transport_error_text_names_the_request_not_the_headers(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(
        settings=ApiSettings(url="https://cra.test", api_key=SECRET_KEY),
        retry=RetrySettings(max_attempts=1),
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        hostile = f"refused {request.headers['authorization']} key={SECRET_KEY}"  # a leaky library
        raise httpx.ConnectError(hostile, request=request)

    server.handler = refuse
    with pytest.raises(NetworkError) as caught:
        client.get_product("p-1")
    text = str(caught.value)
    assert text.startswith("connect error on GET /products/p-1: ConnectError")
    assert SECRET_KEY not in text
    assert "Bearer ****" in text
    assert "cra_****7d6c" in text


def test_a_server_echoing_the_key_is_scrubbed(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=ApiSettings(url="https://cra.test", api_key=SECRET_KEY))
    detail = f"API key {SECRET_KEY} is revoked"
    server.queue.append(
        httpx.Response(401, json={"error": {"code": "AUTHENTICATION_REQUIRED", "detail": detail}})
    )
    with pytest.raises(CraEvidenceError) as caught:
        client.get_product("p-1")
    assert str(caught.value) == "401 AUTHENTICATION_REQUIRED: API key cra_****7d6c is revoked"
    assert SECRET_KEY not in repr(caught.value.__dict__)
