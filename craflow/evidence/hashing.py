"""SHA-256 computed while bytes stream past, whole-object and S3-composite.

S3 reports a multipart object's SHA-256 as the SHA-256 of the concatenated
part digests, base64-encoded, followed by `-{number of parts}`; a single-part
object reports the whole-object SHA-256 in base64. `StreamingDigest` computes
both in one pass so a file is read once.
"""

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ReadableStream(Protocol):
    """What a streaming read gives: `read(n)` returns at most n bytes, b"" at the end."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class FileDigest:
    """Size and SHA-256 of a byte stream, plus the per-part digests for one part size."""

    size: int
    sha256: str
    part_size: int
    part_sha256: tuple[bytes, ...]

    @property
    def sha256_base64(self) -> str:
        """The whole-object SHA-256 as S3's `ChecksumSHA256` header carries it."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def composite_sha256(self) -> str:
        """S3's multipart checksum: base64(sha256(part digests)) + `-N`."""
        joined = hashlib.sha256(b"".join(self.part_sha256)).digest()
        return f"{base64.b64encode(joined).decode()}-{len(self.part_sha256)}"


class StreamingDigest:
    """Feed bytes with `update`; `result()` gives the `FileDigest`."""

    def __init__(self, part_size: int) -> None:
        if part_size <= 0:
            raise ValueError("part_size must be positive")
        self._part_size = part_size
        self._whole = hashlib.sha256()
        self._part = hashlib.sha256()
        self._part_filled = 0
        self._parts: list[bytes] = []
        self._size = 0

    def update(self, data: bytes) -> None:
        self._whole.update(data)
        self._size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), self._part_size - self._part_filled)
            self._part.update(view[:take])
            self._part_filled += take
            view = view[take:]
            if self._part_filled == self._part_size:
                self._parts.append(self._part.digest())
                self._part = hashlib.sha256()
                self._part_filled = 0

    def result(self) -> FileDigest:
        parts = list(self._parts)
        if self._part_filled or not parts:
            parts.append(self._part.digest())
        return FileDigest(
            size=self._size,
            sha256=self._whole.hexdigest(),
            part_size=self._part_size,
            part_sha256=tuple(parts),
        )


def digest_stream(stream: ReadableStream, *, part_size: int, chunk_bytes: int) -> FileDigest:
    """Hash a readable binary stream to its end, `chunk_bytes` at a time."""
    digest = StreamingDigest(part_size)
    while chunk := stream.read(chunk_bytes):
        digest.update(chunk)
    return digest.result()


def digest_file(path: Path, *, part_size: int, chunk_bytes: int) -> FileDigest:
    """Hash a local file, reading `chunk_bytes` at a time."""
    with path.open("rb") as stream:
        return digest_stream(stream, part_size=part_size, chunk_bytes=chunk_bytes)


def spool_chunks(chunks: Iterable[bytes], dest: Path, *, part_size: int) -> FileDigest:
    """Write chunks (e.g. an HTTP body) to `dest`, hashing them on the way; memory stays flat."""
    digest = StreamingDigest(part_size)
    with dest.open("xb") as out:
        for chunk in chunks:
            if chunk:
                out.write(chunk)
                digest.update(chunk)
    return digest.result()
