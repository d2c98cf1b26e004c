"""Everything one running sandbox holds: settings, database, blobs, vulnerability data, clock."""

import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.sandbox import SandboxSettings
from craflow.sandbox.auth import TokenSigner
from craflow.sandbox.blobs import BlobStore
from craflow.sandbox.db import Database
from craflow.sandbox.matching import VulnDb
from craflow.sandbox.ratelimit import RateLimiter, buckets_from


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class SandboxState:
    settings: SandboxSettings
    data_dir: Path
    db: Database
    blobs: BlobStore
    vulndb: VulnDb
    signer: TokenSigner
    limiter: RateLimiter
    clock: Callable[[], float] = time.time
    wake_scans: Callable[[], None] = field(default=lambda: None)

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).isoformat().replace("+00:00", "Z")

    def audit(
        self,
        org_id: str,
        event: str,
        details: dict[str, Any],
        product_id: str | None = None,
        version_id: str | None = None,
    ) -> None:
        with self.db.tx() as conn:
            self.audit_in(
                conn, org_id, event, details, product_id=product_id, version_id=version_id
            )

    def audit_in(
        self,
        conn: sqlite3.Connection,
        org_id: str,
        event: str,
        details: dict[str, Any],
        *,
        product_id: str | None = None,
        version_id: str | None = None,
    ) -> None:
        """Record an audit event inside the caller's open transaction."""
        conn.execute(
            "INSERT INTO audit (org_id, product_id, version_id, event, details, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (org_id, product_id, version_id, event, json.dumps(details), self.now_iso()),
        )


DB_FILE = "sandbox.sqlite3"
BLOB_DIR = "blobs"


class SandboxDataError(Exception):
    """The data folder cannot be opened as it is (one line, said to the user as is)."""


def _check_data_dir(data_dir: Path, reset: bool) -> None:
    """Refuse blobs without their database; with *reset*, start from an empty folder."""
    db_path, blob_dir = data_dir / DB_FILE, data_dir / BLOB_DIR
    if reset:
        for leftover in (db_path, data_dir / f"{DB_FILE}-wal", data_dir / f"{DB_FILE}-shm"):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(blob_dir, ignore_errors=True)
        return
    if not db_path.exists() and any((blob_dir / "sha256").glob("*/*")):
        raise SandboxDataError(
            f"{data_dir} holds uploaded files but no {DB_FILE}: refusing to start"
            " (restore the database, or start with --reset to delete everything)"
        )


def _open_db(path: Path) -> Database:
    try:
        return Database(path)
    except sqlite3.DatabaseError as exc:
        raise SandboxDataError(
            f"{path} is not a usable sandbox database ({exc}); restore it or start with --reset"
        ) from None


def open_state(
    settings: SandboxSettings,
    data_dir: Path,
    osv_paths: tuple[Path, ...] = (),
    clock: Callable[[], float] = time.time,
    *,
    reset: bool = False,
) -> SandboxState:
    """Open (or create) the database and blob store in *data_dir* and reconcile them.

    Raises SandboxDataError when the folder holds blobs without their database or
    a database that does not open; *reset* deletes both first.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    _check_data_dir(data_dir, reset)
    db = _open_db(data_dir / DB_FILE)
    blobs = BlobStore(data_dir / BLOB_DIR)
    try:
        referenced = {row["sha256"] for row in db.all("SELECT DISTINCT sha256 FROM sboms")}
    except sqlite3.DatabaseError as exc:
        db.close()
        raise SandboxDataError(
            f"{data_dir / DB_FILE} is not a usable sandbox database ({exc}); restore it or"
            " start with --reset"
        ) from None
    blobs.recover(lambda: referenced)
    vulndb = VulnDb(osv_paths)
    return SandboxState(
        settings=settings,
        data_dir=data_dir,
        db=db,
        blobs=blobs,
        vulndb=vulndb,
        signer=TokenSigner(),
        limiter=RateLimiter(buckets_from(settings), clock),
        clock=clock,
    )
