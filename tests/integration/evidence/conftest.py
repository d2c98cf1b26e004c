"""Helpers for the archive's integration tests: settings, big files, a silent endpoint."""

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.evidence import EvidenceSettings

MIB = 1024 * 1024


@pytest.fixture
def settings() -> EvidenceSettings:
    """Smallest parts S3 allows, so an 11 MiB file is a three-part upload."""
    return EvidenceSettings(
        multipart_threshold_bytes=5 * MIB, multipart_chunk_bytes=5 * MIB, max_concurrency=2
    )


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "technical-file.zip"
    path.write_bytes(os.urandom(11 * MIB))
    return path


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
