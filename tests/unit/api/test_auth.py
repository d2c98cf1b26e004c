"""Credentials: API key, lazy login, refresh on TOKEN_EXPIRED once per request."""

import json
import logging

import httpx
import pytest

from config.api import ApiSettings
from craflow.api import (
    AuthenticationError,
    ConfigurationError,
    CraEvidenceClient,
    TokenExpiredError,
)
from tests.unit.api.conftest import ClientFactory, FakeClock, MockServer, error_response

PRODUCT = {"id": "p-1", "name": "Widget"}
LOGIN = ApiSettings(url="https://cra.test", email="owner@example.com", password="s3cret-pass")


def _tokens(access: str, refresh: str = "refresh-1", expires_in: int = 900) -> httpx.Response:
    body = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": expires_in,
    }
    return httpx.Response(200, json=body)


def test_login_happens_lazily_and_once(make_client: ClientFactory, server: MockServer) -> None:
    client = make_client(settings=LOGIN)
    assert server.requests == []
    server.queue += [
        _tokens("access-1"),
        httpx.Response(200, json=PRODUCT),
        httpx.Response(200, json=PRODUCT),
    ]
    client.get_product("p-1")
    client.get_product("p-1")
    login, first, second = server.requests
    assert login.url.path == "/api/v1/auth/login"
    assert json.loads(login.content) == {"email": "owner@example.com", "password": "s3cret-pass"}
    assert "authorization" not in login.headers
    assert first.headers["authorization"] == "Bearer access-1"
    assert second.headers["authorization"] == "Bearer access-1"
    assert "login owner@example.com" in repr(client)


def test_token_expired_refreshes_once_and_resends(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=LOGIN)
    server.queue += [
        _tokens("access-1", "refresh-1"),
        error_response(401, "TOKEN_EXPIRED"),
        _tokens("access-2", "refresh-2"),
        httpx.Response(201, json=PRODUCT),
    ]
    client.create_product("Widget")
    paths = [r.url.path.removeprefix("/api/v1") for r in server.requests]
    assert paths == ["/auth/login", "/products", "/auth/refresh", "/products"]
    assert json.loads(server.requests[2].content) == {"refresh_token": "refresh-1"}
    assert server.requests[3].headers["authorization"] == "Bearer access-2"
    # the refreshed attempt is the same logical request
    assert (
        server.requests[1].headers["idempotency-key"]
        == server.requests[3].headers["idempotency-key"]
    )


def test_second_token_expired_in_one_request_is_a_clear_error(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=LOGIN)
    server.queue += [
        _tokens("access-1"),
        error_response(401, "TOKEN_EXPIRED", "token expired"),
        _tokens("access-2"),
        error_response(401, "TOKEN_EXPIRED", "token expired"),
    ]
    with pytest.raises(TokenExpiredError, match="401 TOKEN_EXPIRED: token expired"):
        client.get_product("p-1")
    assert len(server.requests) == 4


def test_failed_refresh_falls_back_to_a_new_login(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=LOGIN)
    server.queue += [
        _tokens("access-1"),
        error_response(401, "TOKEN_EXPIRED"),
        error_response(401, "AUTHENTICATION_REQUIRED", "refresh token expired"),
        _tokens("access-3"),
        httpx.Response(200, json=PRODUCT),
    ]
    client.get_product("p-1")
    paths = [r.url.path.removeprefix("/api/v1") for r in server.requests]
    assert paths == [
        "/auth/login",
        "/products/p-1",
        "/auth/refresh",
        "/auth/login",
        "/products/p-1",
    ]
    assert server.last.headers["authorization"] == "Bearer access-3"


def test_token_is_refreshed_before_it_expires(
    make_client: ClientFactory, server: MockServer, clock: FakeClock
) -> None:
    client = make_client(settings=LOGIN)
    server.queue += [_tokens("access-1", expires_in=900), httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    clock.now += 880  # inside the 30 s margin
    server.queue += [_tokens("access-2"), httpx.Response(200, json=PRODUCT)]
    client.get_product("p-1")
    assert server.requests[2].url.path == "/api/v1/auth/refresh"
    assert server.last.headers["authorization"] == "Bearer access-2"


def test_bad_password_is_an_authentication_error(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=LOGIN)
    server.queue.append(error_response(401, "AUTHENTICATION_REQUIRED", "invalid credentials"))
    with pytest.raises(AuthenticationError, match="invalid credentials"):
        client.get_product("p-1")
    assert len(server.requests) == 1


def test_api_key_token_expired_is_not_refreshed(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(error_response(401, "TOKEN_EXPIRED"))
    with pytest.raises(TokenExpiredError):
        client.get_product("p-1")
    assert len(server.requests) == 1


def test_api_key_wins_over_login(make_client: ClientFactory, server: MockServer) -> None:
    settings = ApiSettings(
        url="https://cra.test", api_key="cra_key_000000001111", email="a@b.c", password="pw"
    )
    client = make_client(settings=settings)
    server.queue.append(httpx.Response(200, json=PRODUCT))
    client.get_product("p-1")
    assert server.last.headers["authorization"] == "Bearer cra_key_000000001111"


def test_no_credentials_is_a_configuration_error(
    make_client: ClientFactory, server: MockServer
) -> None:
    client = make_client(settings=ApiSettings(url="https://cra.test"))
    with pytest.raises(ConfigurationError, match="CRA_EVIDENCE_API_KEY"):
        client.get_product("p-1")
    assert server.requests == []


def test_bad_ca_bundle_is_a_configuration_error(tmp_path: object) -> None:
    settings = ApiSettings(url="https://cra.test", api_key="cra_x", ca_bundle="/nonexistent/ca.pem")
    with pytest.raises(ConfigurationError, match="CA bundle"):
        CraEvidenceClient(settings)


def test_disabled_tls_verification_warns_every_time(caplog: pytest.LogCaptureFixture) -> None:
    settings = ApiSettings(url="https://cra.test", api_key="cra_x", verify_tls=False)
    with caplog.at_level(logging.WARNING, logger="craflow.api"):
        CraEvidenceClient(settings).close()
        CraEvidenceClient(settings).close()
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "TLS verification is OFF" in r.getMessage()
    ]
    assert len(warnings) == 2
