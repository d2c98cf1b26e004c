"""Lazy iteration over a paginated collection, envelope or plain list."""

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM_KEYS = ("items", "data", "results")


def _page_items(payload: object) -> list[Any]:
    if isinstance(payload, list):
        return payload
    if isinstance(payload, Mapping):
        for key in _ITEM_KEYS:
            items = payload.get(key)
            if isinstance(items, list):
                return items
    return []


def _has_next(payload: object, *, page: int, per_page: int, count: int) -> bool:
    if isinstance(payload, Mapping):
        has_next = payload.get("has_next")
        if isinstance(has_next, bool):
            return has_next
        total = payload.get("total")
        if isinstance(total, int) and not isinstance(total, bool):
            return page * per_page < total
    return count >= per_page


def iterate_pages(
    fetch: Callable[[int], object],
    parse: Callable[[Any], T],
    *,
    per_page: int,
    key: Callable[[T], str],
) -> Iterator[T]:
    """Yield every item of a collection, fetching page after page only as needed.

    `fetch(page)` returns the decoded JSON of one page: the contract's envelope or a bare
    list. A server that ignores `page` (a bare list repeated) stops the iteration as soon as
    a page brings nothing new, so no item is yielded twice.
    """
    seen: set[str] = set()
    page = 1
    while True:
        payload = fetch(page)
        raw_items = _page_items(payload)
        fresh = 0
        for raw in raw_items:
            item = parse(raw)
            identity = key(item)
            if identity in seen:
                continue
            seen.add(identity)
            fresh += 1
            yield item
        if fresh == 0 or not _has_next(payload, page=page, per_page=per_page, count=len(raw_items)):
            return
        page += 1
