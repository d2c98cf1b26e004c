"""What earlier scans told of their end, and which scope each version's scans belong to.

`ScanHistory` keeps, per scope (API URL + component-count class), what the recent scans
told: each ended after its last read that saw it not done and by the first that saw it
done, an interval (after, by] in seconds since the wait began (a scan done at the
immediate read tells nothing; one done at the first read of a wait without an immediate
read tells (0, by]). If the last eight intervals overlap (within a slack of max(0.1 s,
1 %) for jitter), durations look stable and the next end is expected in their
intersection; otherwise from the smallest to the largest "by". The latest expected end
gets the slack on top. One interval is enough. Plain numbers (files written before
intervals) read as that duration ± max(0.5 s, 5 %).

It also remembers the scope each version's last wait found (the 10 000 versions waited
on most recently), so the next wait on that version knows its scope before its first read.

Two small JSON files under the state directory (`PollSettings.directory()`:
`CRAFLOW_STATE_DIR`, default the user's cache directory), `scan-durations.json` and
`scan-scopes.json`, written atomically and best effort; an unreadable file is empty,
unreadable entries are skipped.
"""

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

_HISTORY_FILE = "scan-durations.json"
_SCOPES_FILE = "scan-scopes.json"
_KEEP = 20  # intervals kept per scope
_VERSIONS = 10_000  # version scopes kept (the most recently waited on)
_RECENT = 8  # the expected end is derived from this many of the latest intervals
_POINT_SECONDS = 0.5  # a plain number (old files) is that duration +- this
_POINT_FRACTION = 0.05  # ... or this fraction of it, whichever is wider
_SLACK_SECONDS = 0.1  # jitter between scans of a stable duration: intervals this close
_SLACK_FRACTION = 0.01  # ... (or this fraction) overlap; the latest end gets this much more

Span = tuple[float, float]  # a scan ended after the first and by the second (seconds)


@dataclass(frozen=True)
class Expected:
    """When a scan is expected to end: between `earliest` and `latest` seconds."""

    earliest: float
    latest: float
    dense_seconds: float = 0.4


def _slack(seconds: float) -> float:
    return max(_SLACK_SECONDS, _SLACK_FRACTION * seconds)


def _span(item: object) -> Span | None:
    """An entry of the history file as an interval, or None if it is not one.

    `[after, by]` as written; a plain number (files from before intervals, which kept one
    estimate per scan) as that duration +- max(0.5 s, 5 %).
    """
    if isinstance(item, int | float) and not isinstance(item, bool):
        if not 0 < item < 86400:
            return None
        margin = max(_POINT_SECONDS, _POINT_FRACTION * item)
        return (max(0.0, item - margin), item + margin)
    if not isinstance(item, list) or len(item) != 2:
        return None
    after, by = item
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in item)
    if not numbers or not 0 <= after <= by < 86400 or by <= 0:
        return None
    return (float(after), float(by))


def expected_end(spans: list[Span]) -> Expected | None:
    """When the next scan is expected to end, from what the recent ones told (or None).

    Overlapping intervals (within the slack): the end lies in their intersection if
    durations are stable. Otherwise durations vary: from the smallest to the largest
    "by" (each recent scan ended by its own). The latest end gets the slack for jitter.
    """
    recent = spans[-_RECENT:]
    if not recent:
        return None
    after = max(span[0] for span in recent)
    by = min(span[1] for span in recent)
    if after <= by + _slack(by):
        earliest, latest = min(after, by), max(after, by)
    else:
        earliest, latest = by, max(span[1] for span in recent)
    return Expected(earliest=earliest, latest=latest + _slack(latest))


def _read_object(path: Path) -> dict[str, object]:
    """A JSON object file's content; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}


def _write_object(path: Path, data: object) -> None:
    """Replace *path* with *data* as JSON, atomically; best effort, never raises."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except OSError:
        return


class ScanHistory:
    """What recent scans told of their end, per scope, and each version's scope (JSON)."""

    _lock = threading.Lock()

    def __init__(self, directory: Path) -> None:
        self.path = directory / _HISTORY_FILE
        self.scopes_path = directory / _SCOPES_FILE

    def _load(self) -> dict[str, list[Span]]:
        history: dict[str, list[Span]] = {}
        for scope, items in _read_object(self.path).items():
            if isinstance(items, list):
                spans = [_span(item) for item in items]
                history[scope] = [span for span in spans if span is not None]
        return history

    def spans(self, scope: str) -> list[Span]:
        """The intervals kept for *scope*, oldest first."""
        with self._lock:
            return self._load().get(scope, [])

    def expected(self, scope: str) -> Expected | None:
        """The expected end of the next scan in *scope*, or None without history."""
        return expected_end(self.spans(scope))

    def record(self, scope: str, after: float, by: float) -> None:
        """Remember that a scan in *scope* ended after *after* and by *by* seconds (the last
        read that saw it not done, the first that saw it done); best effort, never raises."""
        span = _span([round(after, 3), round(by, 3)])
        if span is None:
            return
        with self._lock:
            data = self._load()
            data[scope] = [*data.get(scope, []), span][-_KEEP:]
            _write_object(self.path, data)

    def _scopes(self) -> dict[str, str]:
        loaded = _read_object(self.scopes_path).items()
        return {version: scope for version, scope in loaded if isinstance(scope, str)}

    def scope_of(self, version_id: str) -> str | None:
        """The scope the last wait on *version_id* found, or None."""
        with self._lock:
            return self._scopes().get(version_id)

    def remember(self, version_id: str, scope: str) -> None:
        """Remember *scope* as *version_id*'s, the most recent entry (the oldest beyond
        10 000 are dropped); best effort, never raises."""
        with self._lock:
            scopes = self._scopes()
            scopes.pop(version_id, None)
            scopes[version_id] = scope
            _write_object(self.scopes_path, dict(list(scopes.items())[-_VERSIONS:]))
