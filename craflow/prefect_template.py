"""One migrated Prefect database per Prefect version, copied into every new ephemeral slot.

Prefect's ephemeral server migrates its SQLite database at start-up: ≈ 14 CPU-seconds
on a fresh file (most of a release's start-up), ≈ 1 on a migrated one. So the first
`craflow` process that needs a new slot migrates one template (in a subprocess, under
an exclusive `flock`, so concurrent processes wait for it instead of migrating too),
and every new slot gets a copy made with SQLite's backup API while the lock is held
(no writer can touch the template then). The template is a single file in rollback-
journal mode: no `-wal` file to forget.

Best effort: when the template cannot be built or copied, the slot is left empty and
Prefect migrates it itself, as it would without craflow. Import cost: standard library.
"""

import fcntl
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

TEMPLATE_LOCK = "template.lock"
#: the template's migration on a busy runner (≈ 55 s measured at load 14 on 2 cores)
BUILD_TIMEOUT_SECONDS = 600
URL_VARIABLE = "PREFECT_SERVER_DATABASE_CONNECTION_URL"

TemplateBuilder = Callable[[Path, Mapping[str, str]], bool]


def prefect_version() -> str:
    """The installed Prefect's version (a template is only valid for its own migrations)."""
    try:
        return version("prefect")
    except PackageNotFoundError:
        return "unknown"


def template_path(root: Path) -> Path:
    """The template database for the installed Prefect under *root*."""
    return root / f"template-prefect-{prefect_version()}.db"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on *path* (waiting for it) while the block runs."""
    with path.open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _remove_database(path: Path) -> None:
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        (path.parent / name).unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """Write a consistent copy of the SQLite database *source* to *target*, atomically.

    The copy goes to a temporary name first and is renamed into place, so a crash
    never leaves a half-copied database that a later process would take as migrated.
    """
    partial = target.with_name(f"{target.name}.partial")
    _remove_database(partial)
    _remove_database(target)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
        src.backup(dst)
    os.replace(partial, target)


def build_template(template: Path, environ: Mapping[str, str]) -> bool:
    """Migrate a new Prefect database at *template* in a subprocess; False on any failure."""
    partial = template.with_name(f"{template.name}.partial")
    _remove_database(partial)
    env = {**environ, URL_VARIABLE: f"sqlite+aiosqlite:///{partial}"}
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter, a fixed module
            [sys.executable, "-m", __name__],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    if done.returncode != 0 or not partial.exists():
        return False
    with closing(sqlite3.connect(partial)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    os.replace(partial, template)
    return True


def seed_slot_database(
    database: Path, environ: Mapping[str, str], build: TemplateBuilder = build_template
) -> bool:
    """Copy the template into *database* (building it first if needed); False: left to Prefect.

    *database* is `<root>/slot-N/prefect.db`; the template and its lock live in `<root>`.
    """
    root = database.parent.parent
    try:
        with locked(root / TEMPLATE_LOCK):
            template = template_path(root)
            if not template.exists() and not build(template, environ):
                return False
            copy_database(template, database)
    except (OSError, sqlite3.Error):
        _remove_database(database)
        return False
    return True


async def _migrate() -> None:
    """What the ephemeral server does at start-up: migrations, then block registration."""
    from prefect.server.database import provide_database_interface
    from prefect.server.models.block_registration import run_block_auto_registration

    db = provide_database_interface()
    await db.create_db()
    async with await db.session() as session:
        await run_block_auto_registration(session=session)
        await session.commit()
    await (await db.engine()).dispose()


if __name__ == "__main__":  # the template builder's subprocess
    import asyncio

    asyncio.run(_migrate())
