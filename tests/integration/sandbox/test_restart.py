"""Restart safety: SIGKILL the server during an upload, restart on the same data dir."""

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.sandbox.helpers import REQUESTS_2_19, cyclonedx, raw

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "cra_restart_test_key_0001"
STARTUP_SECONDS = 60


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """`craflow sandbox` as a subprocess; returns it and its base URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "craflow.cli",
            "sandbox",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--api-key",
            KEY,
            "--scan-seconds",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if line.startswith("CRA Evidence sandbox at "):
            url = line.split()[4]
        assert KEY not in line  # a given key is only ever shown masked
        if line.startswith("Press Ctrl-C"):
            return process, url
    raise AssertionError(f"sandbox exited early with {process.wait()}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=STARTUP_SECONDS)
        if process.stdout is not None:
            process.stdout.close()


def blob_and_rows(data_dir: Path) -> tuple[set[str], list[str], list[Path]]:
    with sqlite3.connect(data_dir / "sandbox.sqlite3") as conn:
        rows = [r[0] for r in conn.execute("SELECT sha256 FROM sboms")]
    blobs = {p.name for p in (data_dir / "blobs" / "sha256").glob("*/*")}
    parts = list((data_dir / "blobs" / "tmp").glob("*"))
    return blobs, rows, parts


def test_killed_upload_leaves_a_consistent_store(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    process, url = start(tmp_path)
    processes.append(process)
    headers = {"Authorization": f"Bearer {KEY}"}
    with raw(url) as http:
        created = http.post(
            "/api/v1/products", json={"name": "crash", "slug": "crash"}, headers=headers
        )
        product_id = created.json()["id"]
        version = http.post(
            "/api/v1/versions",
            headers=headers,
            json={"product_id": product_id, "version_number": "1.0"},
        ).json()
    content = cyclonedx(REQUESTS_2_19)
    host, port = url.removeprefix("http://").split(":")
    body_start = (
        b'--b\r\nContent-Disposition: form-data; name="version_id"\r\n\r\n'
        + version["id"].encode()
        + b"\r\n--b\r\nContent-Disposition: form-data; "
        b'name="file"; filename="bom.json"\r\n\r\n' + content[:40]
    )
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /api/v1/sboms/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            + b"Content-Length: 100000\r\n\r\n"
            + body_start
        )
        process.send_signal(signal.SIGKILL)  # the upload is in flight
        process.wait(timeout=STARTUP_SECONDS)
    # What a crash at the worst moments would leave: a half-written temporary file,
    # and a renamed file whose row never committed.
    (tmp_path / "blobs" / "tmp" / "crashed.part").write_bytes(content[:10])
    orphan_sha = hashlib.sha256(b"orphan").hexdigest()
    orphan = tmp_path / "blobs" / "sha256" / orphan_sha[:2] / orphan_sha
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"orphan")

    process, url = start(tmp_path)
    processes.append(process)
    blobs, rows, parts = blob_and_rows(tmp_path)
    assert rows == []
    assert blobs == set()
    assert parts == []
    with raw(url) as http:
        retry = http.post(
            "/api/v1/sboms/ingest",
            headers=headers,
            files={"file": ("bom.json", content, "application/json")},
            data={"version_id": version["id"]},
        )
        assert retry.status_code == 201, retry.text
        listed = http.get(f"/api/v1/versions/{version['id']}/sboms", headers=headers).json()
        assert listed["total"] == 1
    blobs, rows, parts = blob_and_rows(tmp_path)
    assert rows == [hashlib.sha256(content).hexdigest()]
    assert blobs == set(rows)
    assert parts == []
