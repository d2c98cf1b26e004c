"""SHA-256 and SHA-512 of local files, streamed."""

import hashlib
from pathlib import Path

from craflow.sbom.model import Hash

DEFAULT_CHUNK_BYTES = 1024 * 1024


def file_hashes(path: Path, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> tuple[Hash, Hash]:
    """(SHA-256, SHA-512) of the file at `path`, read `chunk_bytes` at a time."""
    sha256 = hashlib.sha256()
    sha512 = hashlib.sha512()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            sha256.update(chunk)
            sha512.update(chunk)
    return Hash("SHA-256", sha256.hexdigest()), Hash("SHA-512", sha512.hexdigest())
