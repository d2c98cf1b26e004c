"""Uploaded files on disk, addressed by SHA-256.

A file is first written to `tmp/` (hashing and counting as it goes), then
renamed into `sha256/<aa>/<hash>` before the database row that names it is
committed: a crash leaves at worst an unreferenced file, never a row without
its file. `recover()` at start-up removes temporary leftovers and moves files no
row names to `orphaned/` (never deletes what the database does not explain).
"""

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from craflow.sandbox.errors import ApiError

_CHUNK = 1 << 16


@dataclass(frozen=True)
class StagedBlob:
    """A fully written temporary file, not yet in the store."""

    tmp_path: Path
    sha256: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        return self._root / "sha256" / sha256[:2] / sha256

    def stage(self, source: BinaryIO, max_bytes: int) -> StagedBlob:
        """Copy *source* to a temporary file; 413 as soon as it passes *max_bytes*."""
        tmp_path = self._tmp / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with tmp_path.open("wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ApiError(
                            413,
                            "PAYLOAD_TOO_LARGE",
                            f"File is larger than the limit of {max_bytes} bytes",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        return StagedBlob(tmp_path=tmp_path, sha256=digest.hexdigest(), size=size)

    def commit(self, staged: StagedBlob) -> Path:
        """Move a staged file into the store (atomic rename); identical content is shared."""
        final = self.path_of(staged.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.tmp_path, final)
        return final

    def discard(self, staged: StagedBlob) -> None:
        staged.tmp_path.unlink(missing_ok=True)

    def recover(self, referenced: Callable[[], Iterable[str]]) -> list[str]:
        """Remove temporary leftovers, set aside files no row references; return both."""
        removed = [p.name for p in self._tmp.glob("*.part")]
        for part in self._tmp.glob("*.part"):
            part.unlink(missing_ok=True)
        keep = set(referenced())
        store = self._root / "sha256"
        if store.is_dir():
            for blob in store.glob("*/*"):
                if blob.name not in keep:
                    aside = self._root / "orphaned"
                    aside.mkdir(exist_ok=True)
                    os.replace(blob, aside / blob.name)
                    removed.append(blob.name)
        return removed

    def stored_hashes(self) -> set[str]:
        store = self._root / "sha256"
        return {p.name for p in store.glob("*/*")} if store.is_dir() else set()
