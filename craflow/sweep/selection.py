"""Which products a sweep covers: all of them, exact slugs, or glob patterns on slugs."""

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

_GLOB_CHARS = frozenset("*?[")


def is_pattern(text: str) -> bool:
    return any(c in _GLOB_CHARS for c in text)


def select_slugs(
    available: Iterable[str], wanted: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Pick product slugs from *available*.

    *wanted* None or empty means every product. Each entry is an exact slug or a
    glob pattern (`web-*`, `api-?`). Returns the chosen slugs (sorted, unique)
    and the entries that matched nothing (exact slugs that do not exist, or
    patterns that hit no product), which the caller reports as failures.
    """
    slugs = sorted(set(available))
    if not wanted:
        return slugs, []
    chosen: set[str] = set()
    unmatched: list[str] = []
    for entry in wanted:
        hits = (
            [s for s in slugs if fnmatchcase(s, entry)]
            if is_pattern(entry)
            else [s for s in slugs if s == entry]
        )
        if hits:
            chosen.update(hits)
        else:
            unmatched.append(entry)
    return sorted(chosen), unmatched
