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
`scan-scopes.json`. A process keeps one copy of them per directory in memory, shared by
its `ScanHistory`s and threads: read on first use, read again when a file changed on disk
(another process wrote it; one `stat` per call tells). What a wait learns is seen at once
and written behind: at the end of a wait at most every `_WRITE_EVERY` (5) seconds
(`maybe_flush`), where a run ends (`flush`, `flush_all`) and at exit. A write merges
under the directory's `flock`: the file as it is now, this process's new intervals
appended to their scope's (the last 20 kept) and its versions moved to the end (the last
10 000 kept). Writes are atomic and best effort; an unreadable file is empty, unreadable
entries are skipped.
"""

import atexit
import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_HISTORY_FILE = "scan-durations.json"
_SCOPES_FILE = "scan-scopes.json"
_LOCK_FILE = ".scan-history.lock"  # held while a process merges its changes into the files
_WRITE_EVERY = 5.0  # seconds: the files are written behind, at most this often (and at exit)
_KEEP = 20  # intervals kept per scope
_VERSIONS = 10_000  # version scopes kept (the most recently waited on)
_RECENT = 8  # the expected end is derived from this many of the latest intervals
_POINT_SECONDS = 0.5  # a plain number (old files) is that duration +- this
_POINT_FRACTION = 0.05  # ... or this fraction of it, whichever is wider
_SLACK_SECONDS = 0.1  # jitter between scans of a stable duration: intervals this close
_SLACK_FRACTION = 0.01  # ... (or this fraction) overlap; the latest end gets this much more

Span = tuple[float, float]  # a scan ended after the first and by the second (seconds)
_Signature = tuple[int, int, int]  # a file's inode, mtime (ns) and size: changed on disk?


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


def _signature(path: Path) -> _Signature | None:
    """What tells a file's versions apart (inode, mtime, size), or None if there is none."""
    try:
        return _signature_of(os.stat(path))
    except OSError:
        return None


def _signature_of(stat: os.stat_result) -> _Signature:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _read_object(path: Path) -> tuple[_Signature | None, dict[str, object]]:
    """A JSON object file's signature and content; {} when it is missing, unreadable or not
    an object."""
    seen = None
    try:
        with path.open(encoding="utf-8") as handle:
            seen = _signature_of(os.fstat(handle.fileno()))
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return seen, {}
    content = {str(key): value for key, value in data.items()} if isinstance(data, dict) else {}
    return seen, content


def _write_object(path: Path, data: object) -> _Signature | None:
    """Replace *path* with *data* as JSON, atomically; best effort, never raises. The
    signature of the file written, or None if it was not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            written = _signature_of(os.fstat(handle.fileno()))  # a rename keeps it
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return None
    return written


@contextlib.contextmanager
def _directory_locked(directory: Path) -> Iterator[None]:
    """Hold the directory's write lock (`flock`), so processes merging into the same files
    take turns; best effort: without it (an unwritable directory) the write goes on."""
    with contextlib.ExitStack() as held:
        with contextlib.suppress(OSError):
            directory.mkdir(parents=True, exist_ok=True)
            handle = held.enter_context((directory / _LOCK_FILE).open("a"))
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


class _File(ABC):
    """One JSON file as this process knows it: what it held when last read or written (its
    signature `seen`) with this process's changes not yet written on top (`view`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loaded = False
        self.seen: _Signature | None = None

    def fresh(self) -> None:
        """Load the file, or reload it if it changed on disk since (one `stat`)."""
        if self.loaded and _signature(self.path) == self.seen:
            return
        self.seen, data = _read_object(self.path)
        self.loaded = True
        self.load(data)

    def write(self) -> None:
        """Write the view: the file as it is now (re-read if another process wrote it),
        our pending changes on top; they are written once it is."""
        self.fresh()
        written = _write_object(self.path, self.content())
        if written is not None:
            self.seen = written
            self.clear_pending()

    @abstractmethod
    def load(self, data: dict[str, object]) -> None:
        """The view: *data* (the file's content) with the pending changes on top."""

    @abstractmethod
    def content(self) -> object:
        """The view as JSON data."""

    @abstractmethod
    def dirty(self) -> bool:
        """True while there are changes not written yet."""

    @abstractmethod
    def clear_pending(self) -> None:
        """The changes are written."""


class _Durations(_File):
    """scan-durations.json: scope -> the last 20 intervals, oldest first."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.view: dict[str, list[Span]] = {}
        self.pending: dict[str, list[Span]] = {}

    def load(self, data: dict[str, object]) -> None:
        self.view = {}
        for scope, items in data.items():
            if isinstance(items, list):
                read = [_span(item) for item in items]
                self.view[scope] = [span for span in read if span is not None]
        for scope, spans in self.pending.items():
            self.view[scope] = [*self.view.get(scope, []), *spans][-_KEEP:]

    def add(self, scope: str, span: Span) -> None:
        self.pending[scope] = [*self.pending.get(scope, []), span][-_KEEP:]
        self.view[scope] = [*self.view.get(scope, []), span][-_KEEP:]

    def content(self) -> object:
        return self.view

    def dirty(self) -> bool:
        return bool(self.pending)

    def clear_pending(self) -> None:
        self.pending = {}


def _put(scopes: OrderedDict[str, str], version_id: str, scope: str) -> None:
    """*version_id*'s scope as the most recent entry; the oldest beyond 10 000 go."""
    scopes[version_id] = scope
    scopes.move_to_end(version_id)
    while len(scopes) > _VERSIONS:
        scopes.popitem(last=False)


class _Scopes(_File):
    """scan-scopes.json: version id -> scope, the most recently waited on last."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.view: OrderedDict[str, str] = OrderedDict()
        self.pending: OrderedDict[str, str] = OrderedDict()

    def load(self, data: dict[str, object]) -> None:
        self.view = OrderedDict()
        for version_id, scope in data.items():
            if isinstance(scope, str):
                _put(self.view, version_id, scope)
        for version_id, scope in self.pending.items():
            _put(self.view, version_id, scope)

    def put(self, version_id: str, scope: str) -> None:
        _put(self.pending, version_id, scope)
        _put(self.view, version_id, scope)

    def content(self) -> object:
        return self.view

    def dirty(self) -> bool:
        return bool(self.pending)

    def clear_pending(self) -> None:
        self.pending = OrderedDict()


class _Directory:
    """A state directory's two files in this process, shared by its `ScanHistory`s."""

    def __init__(self, directory: Path, clock: Callable[[], float]) -> None:
        self.directory = directory
        self.clock = clock
        self.lock = threading.Lock()
        self.durations = _Durations(directory / _HISTORY_FILE)
        self.scopes = _Scopes(directory / _SCOPES_FILE)
        self.written_at: float | None = None

    def flush(self, *, due_only: bool = False) -> None:
        """Write the files with changes not yet written (*due_only*: unless the last write
        was less than `_WRITE_EVERY` seconds ago)."""
        with self.lock:
            files = [file for file in (self.durations, self.scopes) if file.dirty()]
            if not files:
                return
            now = self.clock()
            if due_only and self.written_at is not None and now - self.written_at < _WRITE_EVERY:
                return
            self.written_at = now
            with _directory_locked(self.directory):
                for file in files:
                    file.write()


_clock: Callable[[], float] = time.monotonic  # when writes are due (tests inject their own)
_directories: dict[str, _Directory] = {}
_directories_lock = threading.Lock()


def _directory(directory: Path) -> _Directory:
    """This process's state of *directory*, made on first use."""
    key = os.path.abspath(directory)
    with _directories_lock:
        state = _directories.get(key)
        if state is None:
            state = _directories[key] = _Directory(Path(key), _clock)
        return state


def flush_all() -> None:
    """Write what this process learned and has not written yet, in every state directory
    (where a run ends, and at exit)."""
    with _directories_lock:
        states = list(_directories.values())
    for state in states:
        state.flush()


atexit.register(flush_all)


class ScanHistory:
    """What recent scans told of their end, per scope, and each version's scope (JSON).

    All instances of one directory share this process's copy of its files: read on first
    use and again when another process changed them, written behind (`maybe_flush`,
    `flush`)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / _HISTORY_FILE
        self.scopes_path = directory / _SCOPES_FILE
        self._state = _directory(directory)

    def spans(self, scope: str) -> list[Span]:
        """The intervals kept for *scope*, oldest first."""
        state = self._state
        with state.lock:
            state.durations.fresh()
            return list(state.durations.view.get(scope, []))

    def expected(self, scope: str) -> Expected | None:
        """The expected end of the next scan in *scope*, or None without history."""
        return expected_end(self.spans(scope))

    def record(self, scope: str, after: float, by: float) -> None:
        """Remember that a scan in *scope* ended after *after* and by *by* seconds (the last
        read that saw it not done, the first that saw it done); written behind."""
        span = _span([round(after, 3), round(by, 3)])
        if span is None:
            return
        state = self._state
        with state.lock:
            state.durations.fresh()
            state.durations.add(scope, span)

    def scope_of(self, version_id: str) -> str | None:
        """The scope the last wait on *version_id* found, or None."""
        state = self._state
        with state.lock:
            state.scopes.fresh()
            return state.scopes.view.get(version_id)

    def remember(self, version_id: str, scope: str) -> None:
        """Remember *scope* as *version_id*'s, the most recent entry (the oldest beyond
        10 000 are dropped); written behind."""
        state = self._state
        with state.lock:
            state.scopes.fresh()
            state.scopes.put(version_id, scope)

    def maybe_flush(self) -> None:
        """Write what is not written yet if the last write was `_WRITE_EVERY` seconds ago
        or more (cheap otherwise: the end of every wait calls it); never raises."""
        self._state.flush(due_only=True)

    def flush(self) -> None:
        """Write what is not written yet, now (merged with what other processes wrote);
        never raises."""
        self._state.flush()
