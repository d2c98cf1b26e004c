"""Issue 12, items 7 and 9: a damaged data folder never starts a sandbox that deletes evidence.

The command runs in a subprocess with a timeout: before the fix it started (and served).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.sandbox import SandboxSettings
from craflow.exitcodes import ExitCode
from craflow.sandbox.state import SandboxDataError, open_state

pytestmark = pytest.mark.integration
_BLOB = "ab" * 32


def _run_sandbox(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    code = "from craflow.cli import app; app()"
    return subprocess.run(
        [sys.executable, "-c", code, "sandbox", "--port", "0", "--data-dir", str(data_dir), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        check=False,
    )


def _blob(data_dir: Path) -> Path:
    path = data_dir / "blobs" / "sha256" / _BLOB[:2] / _BLOB
    path.parent.mkdir(parents=True)
    path.write_bytes(b"evidence")
    return path


def test_7_blobs_without_their_database_refuse_to_start(tmp_path: Path) -> None:
    blob = _blob(tmp_path)
    try:
        result = _run_sandbox(tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("the sandbox started on blobs without a database")
    assert result.returncode == ExitCode.CONFIGURATION
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "--reset" in result.stderr
    assert blob.read_bytes() == b"evidence"
    assert not (tmp_path / "sandbox.sqlite3").exists()


def test_7_reset_deletes_on_request(tmp_path: Path) -> None:
    blob = _blob(tmp_path)
    state = open_state(SandboxSettings(), tmp_path, reset=True)
    state.db.close()
    assert not blob.exists()


def test_7_unreferenced_blobs_are_set_aside_not_deleted(tmp_path: Path) -> None:
    open_state(SandboxSettings(), tmp_path).db.close()
    blob = _blob(tmp_path)
    open_state(SandboxSettings(), tmp_path).db.close()
    assert not blob.exists()
    assert (tmp_path / "blobs" / "orphaned" / _BLOB).read_bytes() == b"evidence"


def test_9_a_corrupt_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "sandbox.sqlite3").write_bytes(b"this is not SQLite" * 100)
    try:
        result = _run_sandbox(tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("the sandbox started on a corrupt database")
    assert result.returncode == ExitCode.CONFIGURATION
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    with pytest.raises(SandboxDataError):
        open_state(SandboxSettings(), tmp_path)
