"""N parallel identical writes per route: one winner, one row, one blob (issue 12, "Keep them
out"). The release-state races are in test_sandbox_integrity.py (item 2)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from config.sandbox import SandboxSettings
from craflow.sandbox.runner import SandboxServer
from tests.integration.sandbox.helpers import REQUESTS_2_19, cyclonedx

pytestmark = pytest.mark.integration
N = 10


@pytest.fixture
def server(tmp_path: Path) -> SandboxServer:
    running = SandboxServer(
        SandboxSettings(port=0, scan_seconds=0.05, rate_scale=3600.0), tmp_path, None, ()
    )
    running.start_background()
    yield running  # type: ignore[misc]
    running.close()


def _owner(server: SandboxServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.info.api_url,
        headers={"Authorization": f"Bearer {server.info.api_key}"},
        timeout=60,
    )


def _parallel(server: SandboxServer, call: Callable[[httpx.Client], httpx.Response]) -> list[int]:
    def one(_: int) -> int:
        with _owner(server) as api:
            return call(api).status_code

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(one, range(N)))


def _count(server: SandboxServer, sql: str, *params: object) -> int:
    row = server.state.db.one(sql, params)
    assert row is not None
    return int(row[0])


def test_parallel_product_creates_one_winner(server: SandboxServer) -> None:
    codes = _parallel(
        server, lambda api: api.post("/products", json={"name": "Twin", "slug": "twin"})
    )
    assert sorted(codes) == [201] + [409] * (N - 1)
    assert _count(server, "SELECT COUNT(*) FROM products WHERE slug = 'twin'") == 1


def test_parallel_version_creates_one_winner(server: SandboxServer) -> None:
    with _owner(server) as api:
        product_id = api.post("/products", json={"name": "V", "slug": "v"}).json()["id"]
    body = {"product_id": product_id, "version_number": "1.0.0"}
    codes = _parallel(server, lambda api: api.post("/versions", json=body))
    assert sorted(codes) == [201] + [409] * (N - 1)
    assert _count(server, "SELECT COUNT(*) FROM versions WHERE product_id = ?", product_id) == 1


def test_parallel_ci_uploads_creating_one_product_make_one_row_and_one_blob(
    server: SandboxServer,
) -> None:
    content = cyclonedx(REQUESTS_2_19)

    def upload(api: httpx.Client) -> httpx.Response:
        return api.post(
            "/ci/upload",
            files={"file": ("bom.json", content, "application/json")},
            data={"product": "fresh", "version": "2.0.0", "create_product": "true",
                  "create_version": "true", "target_markets": "DE", "scan": "false"},
        )  # fmt: skip

    codes = _parallel(server, upload)
    assert codes == [201] * N
    assert _count(server, "SELECT COUNT(*) FROM products WHERE slug = 'fresh'") == 1
    assert _count(server, "SELECT COUNT(*) FROM versions WHERE version_number = '2.0.0'") == 1
    assert _count(server, "SELECT COUNT(DISTINCT sha256) FROM sboms") == 1
    assert len(server.state.blobs.stored_hashes()) == 1
    assert not list((server.data_dir / "blobs" / "tmp").glob("*"))
