"""The local-disk back end: the same layout as S3, under a root folder.

Writes go to a temporary file in the target folder, are hashed while copied,
and are then hard-linked into place: the link fails if the name exists, so an
object is never overwritten and never visible half-written. Written files are
made read-only.
"""

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from craflow.evidence.errors import (
    ArchiveAccessDeniedError,
    ArchiveNotFoundError,
    ArchiveWriteError,
    ChecksumMismatchError,
    EvidenceError,
    InvalidArchiveUriError,
    ObjectExistsError,
    ObjectLockNotEnabledError,
)
from craflow.evidence.hashing import FileDigest, ReadableStream, StreamingDigest
from craflow.evidence.store import WriteOptions

_TEMP_PREFIX = ".craflow-tmp-"
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


def _os_error(exc: OSError, action: str, where: str) -> EvidenceError:
    if isinstance(exc, PermissionError):
        return ArchiveAccessDeniedError(f"permission denied to {action} {where}")
    if isinstance(exc, FileNotFoundError):
        return ArchiveNotFoundError(f"not found: {where}")
    return ArchiveWriteError(f"failed to {action} {where}: {exc.strerror or exc}")


class FileStore:
    """An `ObjectStore` rooted in a local folder."""

    def __init__(
        self, root: Path, *, part_size: int, chunk_bytes: int, retention_asked: bool = False
    ) -> None:
        self._root = root.absolute()
        self._part_size = part_size
        self._chunk_bytes = chunk_bytes
        self._retention_asked = retention_asked

    def path_for(self, key: str) -> Path:
        """The local path of `key`, refusing any key that would leave the root."""
        parts = key.split("/") if key else []
        if any(part in {"", ".", ".."} or "\\" in part for part in parts):
            raise InvalidArchiveUriError(f"unsafe archive key {key!a}")
        path = self._root.joinpath(*parts)
        if not path.resolve().is_relative_to(self._root.resolve()):
            raise InvalidArchiveUriError(f"archive key {key!a} escapes the archive root")
        return path

    def uri_for(self, key: str) -> str:
        return self.path_for(key).as_uri()

    def part_size_for(self, size: int) -> int:
        return self._part_size

    def check_writable(self) -> None:
        if self._retention_asked:
            raise ObjectLockNotEnabledError(
                "retention needs an S3 bucket with Object Lock; "
                f"{self._root.as_uri()} cannot hold it"
            )
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error(exc, "create", self._root.as_uri()) from exc
        if not os.access(self._root, os.W_OK):
            raise ArchiveAccessDeniedError(f"permission denied to write {self._root.as_uri()}")

    def put_file(self, key: str, path: Path, digest: FileDigest, options: WriteOptions) -> None:
        final = self.path_for(key)
        where = final.as_uri()
        if final.exists():
            raise ObjectExistsError(f"object already exists, archives never overwrite: {where}")
        tmp_name: str | None = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            copied = StreamingDigest(digest.part_size)
            with (
                path.open("rb") as src,
                tempfile.NamedTemporaryFile(
                    "wb", dir=final.parent, prefix=_TEMP_PREFIX, delete=False
                ) as tmp,
            ):
                tmp_name = tmp.name
                while chunk := src.read(self._chunk_bytes):
                    tmp.write(chunk)
                    copied.update(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            written = copied.result()
            if (written.size, written.sha256) != (digest.size, digest.sha256):
                raise ChecksumMismatchError(f"bytes of {path} changed while archiving to {where}")
            os.chmod(tmp_name, _READ_ONLY)
            os.link(tmp_name, final)
        except FileExistsError as exc:
            raise ObjectExistsError(
                f"object already exists, archives never overwrite: {where}"
            ) from exc
        except OSError as exc:
            raise _os_error(exc, "write", where) from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def open_read(self, key: str) -> AbstractContextManager[ReadableStream]:
        return self._open_read(key)

    @contextmanager
    def _open_read(self, key: str) -> Iterator[ReadableStream]:
        path = self.path_for(key)
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise _os_error(exc, "read", path.as_uri()) from exc
        with stream:
            yield stream

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self.path_for(prefix)
        if not base.is_dir():
            return
        keys: list[str] = []
        for folder, _dirs, files in os.walk(base):
            rel = Path(folder).relative_to(self._root).as_posix()
            for name in files:
                if not name.startswith(_TEMP_PREFIX):
                    keys.append(name if rel == "." else f"{rel}/{name}")
        yield from sorted(keys)

    def download_to(self, key: str, dest: Path) -> None:
        """Copy the file at `key` to `dest`."""
        source = self.path_for(key)
        try:
            shutil.copyfile(source, dest)
        except OSError as exc:
            raise _os_error(exc, "copy", source.as_uri()) from exc
