"""Streaming a response body to a file or a binary stream, hashing it on the way."""

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import BinaryIO

DEFAULT_FILENAME = "download.bin"


@dataclass(frozen=True)
class Download:
    """What was downloaded: where to, under which server name, how big, its SHA-256."""

    path: Path | None
    filename: str | None
    content_type: str
    size: int
    sha256: str
    request_id: str | None


def filename_from_disposition(value: str | None) -> str | None:
    """The file name a `Content-Disposition` header suggests, reduced to a safe base name."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    name = message.get_filename()
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(ch for ch in base if ch.isprintable())
    return cleaned or None


def write_chunks(
    chunks: Iterable[bytes],
    dest: Path | BinaryIO,
    *,
    filename: str | None,
    content_type: str,
    request_id: str | None,
) -> Download:
    """Write `chunks` to `dest` and describe the result.

    A path is written through a temporary file in the same folder and renamed at the end, so
    a failed download never leaves a partial file. An existing folder as `dest` receives the
    server's file name. A binary stream is written in place and left open.
    """
    digest = hashlib.sha256()
    size = 0
    if not isinstance(dest, Path):
        for chunk in chunks:
            dest.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        return Download(None, filename, content_type, size, digest.hexdigest(), request_id)
    target = dest / (filename or DEFAULT_FILENAME) if dest.is_dir() else dest
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
        dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Download(target, filename, content_type, size, digest.hexdigest(), request_id)
