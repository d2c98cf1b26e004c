"""craflow/prefect_template.py: one migrated template per Prefect version, copied into new slots."""

import sqlite3
import threading
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from craflow.prefect_template import (
    TEMPLATE_LOCK,
    copy_database,
    locked,
    seed_slot_database,
    template_path,
)


def _make_database(path: Path, rows: int = 3, wal: bool = False) -> None:
    with closing(sqlite3.connect(path)) as db:
        if wal:
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE alembic_version (version_num TEXT)")
        db.executemany("INSERT INTO alembic_version VALUES (?)", [(f"v{i}",) for i in range(rows)])
        db.commit()


def _rows(path: Path) -> list[tuple[str]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT version_num FROM alembic_version ORDER BY 1").fetchall()


class Builder:
    """A template builder that records its calls and writes a small database."""

    def __init__(self, succeed: bool = True) -> None:
        self.calls = 0
        self.succeed = succeed

    def __call__(self, template: Path, environ: Mapping[str, str]) -> bool:
        self.calls += 1
        if self.succeed:
            _make_database(template)
        return self.succeed


def _slot_database(root: Path, index: int = 0) -> Path:
    slot = root / f"slot-{index}"
    slot.mkdir(parents=True, exist_ok=True)
    return slot / "prefect.db"


def test_the_template_is_built_once_and_copied_into_every_new_slot(tmp_path: Path) -> None:
    build = Builder()
    first, second = _slot_database(tmp_path, 0), _slot_database(tmp_path, 1)
    assert seed_slot_database(first, {}, build=build)
    assert seed_slot_database(second, {}, build=build)
    assert build.calls == 1
    assert _rows(first) == _rows(second) == _rows(template_path(tmp_path))


def test_the_template_is_named_after_the_prefect_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    assert template_path(tmp_path).name == f"template-prefect-{version('prefect')}.db"


def test_a_failed_build_leaves_the_slot_to_prefect(tmp_path: Path) -> None:
    database = _slot_database(tmp_path)
    assert not seed_slot_database(database, {}, build=Builder(succeed=False))
    assert not database.exists()
    assert not template_path(tmp_path).exists()


def test_a_failed_copy_leaves_no_database_behind(tmp_path: Path) -> None:
    template_path(tmp_path).write_bytes(b"not a database, not even close" * 10)
    database = _slot_database(tmp_path)
    assert not seed_slot_database(database, {}, build=Builder())
    assert not database.exists()


def test_a_copy_holds_what_the_wal_held_and_replaces_stale_files(tmp_path: Path) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    _make_database(source, rows=5, wal=True)
    (tmp_path / "target.db-wal").write_bytes(b"stale")
    copy_database(source, target)
    assert len(_rows(target)) == 5
    assert not (tmp_path / "target.db-wal").exists()
    assert not (tmp_path / "target.db.partial").exists()


def test_a_slot_waits_while_another_process_builds_the_template(tmp_path: Path) -> None:
    seeded = threading.Event()

    def seed() -> None:
        seed_slot_database(_slot_database(tmp_path), {}, build=Builder())
        seeded.set()

    with locked(tmp_path / TEMPLATE_LOCK):
        # fcntl locks are per open file description: a second open() in another
        # thread contends like another process does
        worker = threading.Thread(target=seed)
        worker.start()
        assert not seeded.is_set()
    worker.join(timeout=10)
    assert seeded.is_set()
