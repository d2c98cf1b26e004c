"""Pick the release a new version is compared with: the latest released one before it."""

from collections.abc import Iterable
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class VersionFacts:
    """What the picker needs to know about a version."""

    id: str
    number: str
    release_state: str
    created_at: str = ""


def _order_key(number: str) -> tuple[int, Version | None, str]:
    try:
        return (1, Version(number), number)
    except InvalidVersion:
        return (0, None, number)


def _sorts_before(candidate: str, current: str) -> bool:
    a, b = _order_key(candidate), _order_key(current)
    if a[1] is not None and b[1] is not None:
        return a[1] < b[1]
    return True  # not comparable as versions: any other release may be the predecessor


def pick_previous_release(
    versions: Iterable[VersionFacts], current: str, *, states: Iterable[str] = ("released",)
) -> VersionFacts | None:
    """The newest version in *states* that is not *current* and sorts before it.

    Version numbers are ordered as PEP 440 versions where they parse (so 1.10
    follows 1.9), otherwise by creation time.
    """
    wanted = set(states)
    found = [
        v
        for v in versions
        if v.number != current and v.release_state in wanted and _sorts_before(v.number, current)
    ]
    if not found:
        return None
    parsed = [v for v in found if _order_key(v.number)[1] is not None]
    if parsed:
        return max(parsed, key=lambda v: (_order_key(v.number)[1], v.created_at))
    return max(found, key=lambda v: v.created_at)
