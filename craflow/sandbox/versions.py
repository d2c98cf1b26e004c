"""Version ordering per ecosystem, and OSV range evaluation.

PyPI uses PEP 440 (`packaging`); npm, Go and crates.io use SemVer (`semver`);
every other ecosystem (Maven, Packagist, ...) uses a plain ordering: the
version is split into runs of digits and letters, digits compare as numbers,
letters as text, and a numeric part sorts after a textual one.
"""

import re
from collections.abc import Callable
from typing import Any

import semver
from packaging.version import InvalidVersion, Version

SEMVER_ECOSYSTEMS = frozenset({"npm", "Go", "crates.io"})
_PLAIN_PARTS = re.compile(r"\d+|[A-Za-z]+")

VersionKey = Callable[[str], Any]


class UnorderableVersionError(ValueError):
    """The version cannot be placed in its ecosystem's order."""


def _pep440(value: str) -> Version:
    try:
        return Version(value)
    except InvalidVersion as exc:
        raise UnorderableVersionError(value) from exc


def _semver(value: str) -> semver.Version:
    try:
        return semver.Version.parse(value.removeprefix("v"), optional_minor_and_patch=True)
    except (ValueError, TypeError) as exc:
        raise UnorderableVersionError(value) from exc


def _plain(value: str) -> tuple[tuple[int, int, str], ...]:
    parts = _PLAIN_PARTS.findall(value)
    if not parts:
        raise UnorderableVersionError(value)
    return tuple((1, int(p), "") if p.isdigit() else (0, 0, p.lower()) for p in parts)


def version_key(ecosystem: str) -> VersionKey:
    """The sort key of *ecosystem*'s versions; raises UnorderableVersionError."""
    if ecosystem == "PyPI":
        return _pep440
    if ecosystem in SEMVER_ECOSYSTEMS:
        return _semver
    return _plain


def in_range(version: str, events: list[dict[str, str]], key: VersionKey) -> bool:
    """OSV ECOSYSTEM range semantics: introduced / fixed / last_affected events."""
    try:
        mine = key(version)
    except UnorderableVersionError:
        return False

    def event_key(event: dict[str, str]) -> tuple[int, Any]:
        value = next(iter(event.values()))
        if event.get("introduced") == "0":
            return (0, None)
        return (1, key(value))

    ordered: list[tuple[tuple[int, Any], dict[str, str]]] = []
    for event in events:
        if not event or "limit" in event:
            continue
        try:
            ordered.append((event_key(event), event))
        except UnorderableVersionError:
            continue
    ordered.sort(key=lambda pair: (pair[0][0], pair[0][1]) if pair[0][0] else (0, 0))
    affected = False
    for (rank, bound), event in ordered:
        if "introduced" in event:
            if rank == 0 or bound <= mine:
                affected = True
        elif "fixed" in event:
            if bound <= mine:
                affected = False
        elif "last_affected" in event and bound < mine:
            affected = False
    return affected
