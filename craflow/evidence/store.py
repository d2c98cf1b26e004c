"""The small interface both archive back ends implement (S3 and local disk)."""

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from craflow.evidence.hashing import FileDigest, ReadableStream


@dataclass(frozen=True)
class WriteOptions:
    """What travels with an object besides its bytes."""

    content_type: str | None = None
    metadata: Mapping[str, str] | None = None


class ObjectStore(Protocol):
    """Immutable object storage under one root; keys are `/`-separated and pre-checked."""

    def uri_for(self, key: str) -> str:
        """The URI of `key` (`s3://bucket/key` or `file:///path`)."""
        ...

    def part_size_for(self, size: int) -> int:
        """The part size an upload of `size` bytes uses (composite checksums depend on it)."""
        ...

    def check_writable(self) -> None:
        """Raise an `EvidenceError` if writes cannot succeed (missing bucket, no Object Lock)."""
        ...

    def put_file(
        self, key: str, path: Path, digest: FileDigest, options: WriteOptions
    ) -> str | None:
        """Write `path` at `key` unless it exists; verify; return the version id, if any."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored at `key`."""
        ...

    def open_read(self, key: str) -> AbstractContextManager[ReadableStream]:
        """A streaming reader of the object at `key`."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (a folder: `prefix/...`), in ascending key order."""
        ...
