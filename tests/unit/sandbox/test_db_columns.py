"""A sandbox database file made before section 7 gains the new columns when opened."""

import sqlite3
from pathlib import Path

from craflow.sandbox.db import Database


def test_old_vulnerabilities_table_gains_justification_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE vulnerabilities (id TEXT PRIMARY KEY, version_id TEXT NOT NULL,"
            " vuln_id TEXT NOT NULL, component_key TEXT NOT NULL, status TEXT NOT NULL)"
        )
    for _ in range(2):  # idempotent
        db = Database(path)
        columns = {row["name"] for row in db.all("PRAGMA table_info(vulnerabilities)")}
        db.close()
        assert {"justification", "status_changed_at"} <= columns
