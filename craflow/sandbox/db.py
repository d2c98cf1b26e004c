"""The sandbox database: one SQLite file in WAL mode, one connection behind a lock."""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE, last4 TEXT NOT NULL, scopes TEXT NOT NULL,
    expires_at REAL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL,
    category TEXT NOT NULL, created_at TEXT NOT NULL, target_markets TEXT NOT NULL DEFAULT '[]',
    UNIQUE (org_id, slug));
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, product_id TEXT NOT NULL,
    version_number TEXT NOT NULL, release_state TEXT NOT NULL, superseded_by TEXT,
    environment TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (product_id, version_number));
CREATE TABLE IF NOT EXISTS sboms (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, version_id TEXT NOT NULL,
    filename TEXT NOT NULL, content_type TEXT NOT NULL, format TEXT NOT NULL,
    spec_version TEXT NOT NULL, component_count INTEGER NOT NULL,
    quality_score INTEGER NOT NULL, sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL,
    components TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, version_id TEXT NOT NULL,
    sbom_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, due_at REAL NOT NULL,
    created_at TEXT NOT NULL, finished_at TEXT);
CREATE TABLE IF NOT EXISTS vulnerabilities (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, version_id TEXT NOT NULL,
    vuln_id TEXT NOT NULL, component_key TEXT NOT NULL, aliases TEXT NOT NULL,
    summary TEXT NOT NULL, severity TEXT NOT NULL, cvss_score REAL, kev INTEGER NOT NULL,
    comp_name TEXT NOT NULL, comp_version TEXT NOT NULL, comp_purl TEXT,
    fixed_versions TEXT NOT NULL, status TEXT NOT NULL, notes TEXT,
    active INTEGER NOT NULL, first_seen_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    justification TEXT, status_changed_at TEXT,
    UNIQUE (version_id, vuln_id, component_key));
CREATE TABLE IF NOT EXISTS release_overrides (
    id TEXT PRIMARY KEY, version_id TEXT NOT NULL, reason TEXT NOT NULL,
    blockers TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scan_faults (
    org_id TEXT NOT NULL, product_id TEXT NOT NULL, version_number TEXT NOT NULL,
    mode TEXT NOT NULL, reason TEXT, PRIMARY KEY (org_id, product_id, version_number));
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, product_id TEXT,
    version_id TEXT, event TEXT NOT NULL, details TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vex_documents (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, version_id TEXT NOT NULL,
    filename TEXT NOT NULL, content_type TEXT NOT NULL, format TEXT NOT NULL,
    sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, content BLOB NOT NULL,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS vuln_by_version ON vulnerabilities (version_id);
CREATE INDEX IF NOT EXISTS sbom_by_version ON sboms (version_id);
CREATE INDEX IF NOT EXISTS scan_by_version ON scans (version_id);
"""

#: Columns added after a table was first shipped: (table, column, type), added to older files.
ADDED_COLUMNS = (
    ("vulnerabilities", "justification", "TEXT"),
    ("vulnerabilities", "status_changed_at", "TEXT"),
    ("products", "target_markets", "TEXT NOT NULL DEFAULT '[]'"),
)


def add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a database file made by an older sandbox up to `SCHEMA` (idempotent)."""
    for table, column, kind in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


class Database:
    """A thread-safe wrapper: `tx()` for writes (BEGIN IMMEDIATE), `one`/`all` for reads."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)
        add_missing_columns(self._conn)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()
