"""Virtual time and a case book on a temporary file:// archive."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from craflow.evidence.filestore import FileStore
from craflow.incident import CaseBook, CaseStore

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class VirtualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def make_book(tmp_path: Path, clock: VirtualClock) -> Callable[[], CaseBook]:
    def make() -> CaseBook:
        store = FileStore(tmp_path / "archive", part_size=8 * 1024 * 1024, chunk_bytes=65536)
        return CaseBook(CaseStore(store, "evidence"), clock=clock)

    return make


@pytest.fixture
def book(make_book: Callable[[], CaseBook]) -> CaseBook:
    return make_book()
