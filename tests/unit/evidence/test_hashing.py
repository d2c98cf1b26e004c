import base64
import hashlib
import io
from pathlib import Path

import pytest

from craflow.evidence.hashing import (
    StreamingDigest,
    digest_file,
    digest_stream,
    spool_chunks,
)

DATA = bytes(range(256)) * 41  # 10 496 bytes, not a multiple of the part sizes below


def _composite(data: bytes, part: int) -> str:
    digests = [hashlib.sha256(data[i : i + part]).digest() for i in range(0, len(data), part)]
    joined = hashlib.sha256(b"".join(digests)).digest()
    return f"{base64.b64encode(joined).decode()}-{len(digests)}"


@pytest.mark.parametrize("chunk", [1, 7, 1000, 4096, 20000])
@pytest.mark.parametrize("part", [1000, 4096, 10496])
def test_streaming_digest_matches_hashlib_for_any_chunking(chunk: int, part: int) -> None:
    result = digest_stream(io.BytesIO(DATA), part_size=part, chunk_bytes=chunk)
    assert result.size == len(DATA)
    assert result.sha256 == hashlib.sha256(DATA).hexdigest()
    assert result.composite_sha256() == _composite(DATA, part)
    assert len(result.part_sha256) == -(-len(DATA) // part)


def test_sha256_base64_is_what_s3_reports_for_a_single_part() -> None:
    result = digest_stream(io.BytesIO(b"hi"), part_size=10, chunk_bytes=10)
    assert result.sha256_base64 == base64.b64encode(hashlib.sha256(b"hi").digest()).decode()


def test_empty_stream_has_one_empty_part() -> None:
    result = StreamingDigest(5).result()
    assert result.size == 0
    assert result.part_sha256 == (hashlib.sha256(b"").digest(),)


def test_part_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        StreamingDigest(0)


def test_spool_chunks_writes_and_hashes(tmp_path: Path) -> None:
    dest = tmp_path / "export.zip"
    result = spool_chunks([DATA[:100], b"", DATA[100:]], dest, part_size=4096)
    assert dest.read_bytes() == DATA
    assert result == digest_file(dest, part_size=4096, chunk_bytes=333)


def test_spool_chunks_refuses_to_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "exists"
    dest.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        spool_chunks([b"new"], dest, part_size=10)
    assert dest.read_bytes() == b"keep"
