"""Lazy pagination over envelopes and plain lists."""

import httpx
import pytest

from craflow.api import CraEvidenceClient
from tests.unit.api.conftest import MockServer


def _products(start: int, count: int) -> list[dict[str, str]]:
    return [{"id": f"p-{i}", "name": f"n{i}", "slug": f"s{i}"} for i in range(start, start + count)]


def _pages(request: httpx.Request) -> int:
    return int(request.url.params["page"])


def test_envelope_pages_are_fetched_lazily(client: CraEvidenceClient, server: MockServer) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = _pages(request)
        items = _products((page - 1) * 2, 2 if page < 3 else 1)
        return httpx.Response(
            200,
            json={"items": items, "total": 5, "page": page, "per_page": 2, "has_next": page < 3},
        )

    server.handler = handler
    products = client.list_products(per_page=2)
    assert server.requests == []  # nothing fetched until iterated
    first = next(products)
    assert first.id == "p-0"
    assert len(server.requests) == 1
    rest = list(products)
    assert [p.id for p in rest] == ["p-1", "p-2", "p-3", "p-4"]
    assert [_pages(r) for r in server.requests] == [1, 2, 3]


def test_envelope_without_has_next_uses_total(
    client: CraEvidenceClient, server: MockServer
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = _pages(request)
        return httpx.Response(200, json={"items": _products((page - 1) * 2, 2), "total": 4})

    server.handler = handler
    assert len(list(client.list_products(per_page=2))) == 4
    assert len(server.requests) == 2


def test_plain_list_shorter_than_a_page_is_complete(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(200, json=_products(0, 3)))
    assert len(list(client.list_products())) == 3
    assert len(server.requests) == 1


def test_paginated_plain_lists_are_followed(client: CraEvidenceClient, server: MockServer) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = _pages(request)
        return httpx.Response(200, json=_products((page - 1) * 2, 2 if page < 3 else 0))

    server.handler = handler
    assert [p.id for p in client.list_products(per_page=2)] == ["p-0", "p-1", "p-2", "p-3"]
    assert len(server.requests) == 3


def test_server_ignoring_page_does_not_loop_or_duplicate(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.handler = lambda request: httpx.Response(200, json=_products(0, 2))
    assert [p.id for p in client.list_products(per_page=2)] == ["p-0", "p-1"]
    assert len(server.requests) == 2


def test_empty_collection(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json={"items": [], "total": 0, "has_next": False}))
    assert list(client.list_versions("p-1")) == []


@pytest.mark.parametrize("shape", ["data", "results"])
def test_other_envelope_keys(client: CraEvidenceClient, server: MockServer, shape: str) -> None:
    server.queue.append(httpx.Response(200, json={shape: _products(0, 1), "has_next": False}))
    assert [p.id for p in client.list_products()] == ["p-0"]
