import hashlib
import io
from pathlib import Path

import pytest

from craflow.sandbox.blobs import BlobStore
from craflow.sandbox.errors import ApiError


def test_staged_file_is_hashed_and_committed_by_content(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    staged = store.stage(io.BytesIO(b"hello"), max_bytes=10)
    assert staged.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert staged.size == 5
    final = store.commit(staged)
    assert final.read_bytes() == b"hello"
    assert not staged.tmp_path.exists()
    assert store.stored_hashes() == {staged.sha256}


def test_oversized_source_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(ApiError) as caught:
        store.stage(io.BytesIO(b"x" * 200_000), max_bytes=100_000)
    assert caught.value.status_code == 413
    assert list((tmp_path / "tmp").iterdir()) == []


def test_recover_removes_partial_and_unreferenced_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    kept = store.commit(store.stage(io.BytesIO(b"kept"), max_bytes=100))
    orphan = store.commit(store.stage(io.BytesIO(b"orphan"), max_bytes=100))
    (tmp_path / "tmp" / "crashed.part").write_bytes(b"half")
    removed = store.recover(lambda: [kept.name])
    assert kept.exists()
    assert not orphan.exists()
    assert sorted(removed) == sorted(["crashed.part", orphan.name])
