"""The scan history off the hot path: one copy in memory per directory and process, files
written behind (at most every few seconds, on `flush`, at exit), merged across processes."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from craflow.api import CraStatus, scan_history
from craflow.api.polling import PollResult, ScanHistory, ScanPoller
from tests.unit.api.conftest import FakeClock
from tests.unit.api.test_polling_upfront import _wait as wait_on_scan

API = "https://cra.test/api/v1"
SMALL = f"{API}|c16"  # 40 components
LARGE = f"{API}|c4096"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The clock that says when a write is due (states made from now on use it)."""
    fake = FakeClock()
    monkeypatch.setattr(scan_history, "_clock", fake)
    return fake


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files written, one per write."""
    written: list[str] = []
    real = scan_history._write_object

    def counting(path: Path, data: object) -> object:
        written.append(path.name)
        return real(path, data)

    monkeypatch.setattr(scan_history, "_write_object", counting)
    return written


def _another_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """ScanHistory instances made from now on have their own copy, as another process's."""
    monkeypatch.setattr(scan_history, "_directories", {})


def _wait(history: ScanHistory, version_id: str) -> PollResult[CraStatus]:
    """One wait on an 8 s scan of 40 components, in virtual time, learning."""
    result, _ = wait_on_scan(ScanPoller(history, API, 2.0), 8.0, version_id=version_id)
    return result


def _file(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_many_waits_write_the_files_at_most_once_per_interval(
    tmp_path: Path, clock: FakeClock, writes: list[str]
) -> None:
    history = ScanHistory(tmp_path)
    for n in range(40):  # a wait ends every 0.25 s: 10 s in all
        assert _wait(history, f"v{n}").done
        clock.now += 0.25
    # written at the first wait and 5 s later, not per wait
    assert sorted(writes) == ["scan-durations.json"] * 2 + ["scan-scopes.json"] * 2
    assert history.scope_of("v39") == SMALL  # memory sees every wait at once
    assert len(history.spans(SMALL)) == 20
    assert "v39" not in _file(history.scopes_path)
    history.flush()
    assert len(writes) == 6
    assert list(_file(history.scopes_path)) == [f"v{n}" for n in range(40)]
    assert len(_file(history.path)[SMALL]) == 20
    history.flush()  # nothing new: nothing written
    _wait(history, "v0")
    assert len(writes) == 6  # 5 s since the last write (the flush) have not passed
    clock.now += 5.0
    _wait(history, "v0")  # due: the wait's end writes
    assert len(writes) == 6 + 2 and list(_file(history.scopes_path))[-1] == "v0"


def test_memory_sees_changes_at_once_and_flush_writes_them(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    history.record(SMALL, 7.6, 8.0)
    history.remember("v1", SMALL)
    again = ScanHistory(tmp_path)  # one copy per directory in a process
    assert (again.spans(SMALL), again.scope_of("v1")) == ([(7.6, 8.0)], SMALL)
    assert not history.path.exists() and not history.scopes_path.exists()
    again.flush()
    assert _file(history.path) == {SMALL: [[7.6, 8.0]]}
    assert _file(history.scopes_path) == {"v1": SMALL}


def test_the_files_are_read_once_until_they_change_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[str] = []
    real = scan_history._read_object

    def counting(path: Path) -> object:
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(scan_history, "_read_object", counting)
    history = ScanHistory(tmp_path)
    for n in range(50):
        history.remember(f"v{n}", SMALL)
        history.scope_of(f"v{n}")
        history.record(SMALL, 7.6, 8.0)
        history.expected(SMALL)
    history.flush()  # its own write is not a change to read back
    assert history.scope_of("v0") == SMALL
    assert sorted(reads) == ["scan-durations.json", "scan-scopes.json"]
    history.scopes_path.write_text(json.dumps({"v1": LARGE}))  # another process
    assert (history.scope_of("v1"), history.scope_of("v0")) == (LARGE, None)
    assert reads.count("scan-scopes.json") == 2


def test_processes_merge_rather_than_overwrite_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ScanHistory(tmp_path)
    first.remember("v1", SMALL)
    first.record(SMALL, 7.6, 8.0)
    first.flush()
    _another_process(monkeypatch)
    second = ScanHistory(tmp_path)
    second.remember("v2", LARGE)  # reads what the first wrote
    second.record(SMALL, 7.7, 8.1)
    second.remember("v1", LARGE)  # the first's version, found again: the most recent
    first.remember("v3", SMALL)
    first.record(SMALL, 7.8, 8.2)
    first.flush()  # the second has not written: nothing of it to keep
    second.flush()  # the file changed since the second read it: read again, ours on top
    assert list(_file(first.scopes_path).items()) == [("v3", SMALL), ("v2", LARGE), ("v1", LARGE)]
    assert _file(first.path) == {SMALL: [[7.6, 8.0], [7.8, 8.2], [7.7, 8.1]]}
    # the first sees what the second learned (its file changed on disk)
    assert (first.scope_of("v2"), first.scope_of("v1")) == (LARGE, LARGE)
    assert first.spans(SMALL) == [(7.6, 8.0), (7.8, 8.2), (7.7, 8.1)]


def test_the_bounds_hold_after_a_merge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """10 000 versions and 20 intervals per scope, the most recent kept, across processes."""
    first = ScanHistory(tmp_path)
    _another_process(monkeypatch)
    second = ScanHistory(tmp_path)
    for n in range(6000):
        first.remember(f"a{n}", SMALL)
        second.remember(f"b{n}", LARGE)
    for n in range(15):
        first.record(SMALL, 1.0, 2.0 + n)
        second.record(SMALL, 3.0, 40.0 + n)
    first.flush()
    second.flush()
    scopes = list(_file(first.scopes_path))
    assert len(scopes) == 10_000
    assert (scopes[0], scopes[3999], scopes[4000], scopes[-1]) == ("a2000", "a5999", "b0", "b5999")
    spans = [(1.0, 2.0 + n) for n in range(10, 15)] + [(3.0, 40.0 + n) for n in range(15)]
    assert second.spans(SMALL) == spans
    assert _file(first.path) == {SMALL: [list(span) for span in spans]}
    assert (second.scope_of("a1999"), second.scope_of("a2000")) == (None, SMALL)
    assert first.scope_of("a1999") is None  # the first reads the merge back


def test_a_corrupt_or_unwritable_file_is_still_tolerated(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    history.scopes_path.write_text("{not json")
    history.path.write_text(json.dumps({SMALL: [[1.0, 2.0], "x", [3.0]], LARGE: "y"}))
    assert history.scope_of("v1") is None
    assert (history.spans(SMALL), history.spans(LARGE)) == ([(1.0, 2.0)], [])
    history.remember("v1", SMALL)
    history.record(SMALL, 7.6, 8.0)
    history.flush()  # unreadable entries are not written back
    assert _file(history.scopes_path) == {"v1": SMALL}
    assert _file(history.path) == {SMALL: [[1.0, 2.0], [7.6, 8.0]]}
    history.remember("v2", SMALL)
    history.scopes_path.write_text("{not json")  # corrupted while v2 is not written yet
    assert (history.scope_of("v1"), history.scope_of("v2")) == (None, SMALL)
    history.flush()
    assert _file(history.scopes_path) == {"v2": SMALL}
    (tmp_path / "file").write_text("")
    nowhere = ScanHistory(tmp_path / "file" / "state")  # cannot be written: never raises
    nowhere.record(SMALL, 7.6, 8.0)
    nowhere.flush()
    nowhere.maybe_flush()
    assert nowhere.spans(SMALL) == [(7.6, 8.0)]


def test_flush_all_writes_every_directory(tmp_path: Path) -> None:
    one, two = ScanHistory(tmp_path / "one"), ScanHistory(tmp_path / "two")
    one.record(SMALL, 7.6, 8.0)
    two.remember("v1", SMALL)
    scan_history.flush_all()
    assert _file(one.path) == {SMALL: [[7.6, 8.0]]}
    assert _file(two.scopes_path) == {"v1": SMALL}


def test_what_a_process_learned_is_written_at_its_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from craflow.api.scan_history import ScanHistory
        history = ScanHistory(Path({str(tmp_path)!r}))
        history.remember("v1", {SMALL!r})
        history.record({SMALL!r}, 7.6, 8.0)
        assert not history.path.exists() and not history.scopes_path.exists()
        """
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
    assert _file(tmp_path / "scan-scopes.json") == {"v1": SMALL}
    assert _file(tmp_path / "scan-durations.json") == {SMALL: [[7.6, 8.0]]}
