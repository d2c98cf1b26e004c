"""Everything one running sandbox holds: settings, database, blobs, vulnerability data, clock."""

import json
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
            conn.execute(
                "INSERT INTO audit (org_id, product_id, version_id, event, details, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (org_id, product_id, version_id, event, json.dumps(details), self.now_iso()),
            )


def open_state(
    settings: SandboxSettings,
    data_dir: Path,
    osv_paths: tuple[Path, ...] = (),
    clock: Callable[[], float] = time.time,
) -> SandboxState:
    """Open (or create) the database and blob store in *data_dir* and reconcile them."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(data_dir / "sandbox.sqlite3")
    blobs = BlobStore(data_dir / "blobs")
    blobs.recover(lambda: [row["sha256"] for row in db.all("SELECT DISTINCT sha256 FROM sboms")])
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
