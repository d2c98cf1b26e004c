import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.sandbox import SandboxSettings
from craflow.sandbox.app import create_app
from craflow.sandbox.auth import TokenSigner, has_scope, mask_key
from craflow.sandbox.errors import ApiError
from craflow.sandbox.orgs import seed_default
from craflow.sandbox.state import open_state


class SyncClient:
    """Drives the ASGI app in-process with httpx's ASGI transport (no server, no sockets)."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self._transport, base_url="http://t") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("granted", "needed", "ok"),
    [
        (None, "product:delete", True),
        (frozenset({"product:read"}), "product:read", True),
        (frozenset({"product:read"}), "product:write", False),
        (frozenset({"product:write"}), "product:read", True),
        (frozenset({"product:delete"}), "product:write", True),
        (frozenset({"sbom:write"}), "product:read", False),
    ],
)
def test_write_implies_read_and_delete_implies_write(
    granted: frozenset[str] | None, needed: str, ok: bool
) -> None:
    assert has_scope(granted, needed) is ok


def test_keys_are_masked_to_their_last_four() -> None:
    assert mask_key("cra_abcdefgh1234") == "cra_****1234"


def test_token_expires_after_its_ttl() -> None:
    signer = TokenSigner(b"k" * 32)
    token = signer.issue("u", "o", now=100.0, ttl_seconds=900)
    assert signer.verify(token, now=999.0) == ("u", "o")
    with pytest.raises(ApiError) as caught:
        signer.verify(token, now=1000.0)
    assert caught.value.code == "TOKEN_EXPIRED"
    with pytest.raises(ApiError) as forged:
        TokenSigner(b"x" * 32).verify(token, now=101.0)
    assert forged.value.code == "AUTHENTICATION_REQUIRED"


@pytest.fixture
def app_and_clock(tmp_path: Path) -> Iterator[tuple[SyncClient, FakeClock, str, str]]:
    clock = FakeClock()
    state = open_state(SandboxSettings(jwt_ttl_seconds=900), tmp_path, clock=clock)
    seeded = seed_default(state, None)
    yield SyncClient(create_app(state)), clock, seeded.owner_email, seeded.owner_password
    state.db.close()


def test_jwt_expires_after_15_minutes_and_refresh_renews_it(
    app_and_clock: tuple[SyncClient, FakeClock, str, str],
) -> None:
    client, clock, email, password = app_and_clock
    login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    clock.now += 900
    expired = client.get("/api/v1/products", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "TOKEN_EXPIRED"
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    fresh = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/api/v1/products", headers=fresh).status_code == 200
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401


def test_wrong_password_is_401(app_and_clock: tuple[SyncClient, FakeClock, str, str]) -> None:
    client, _, email, _ = app_and_clock
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": "nope"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert answer.headers["x-request-id"] == answer.json()["error"]["request_id"]
