"""The archive on local disk: layout, immutability, manifest, verification, snapshots."""

import json
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from config.evidence import EvidenceSettings
from craflow.evidence import (
    EvidenceError,
    InvalidArchiveUriError,
    ObjectExistsError,
    ObjectLockNotEnabledError,
    fetch_to_path,
    open_archive,
    read_manifest,
    verify_run,
)
from craflow.evidence.filestore import FileStore

STARTED = datetime(2026, 3, 1, 12, 30, 45, tzinfo=UTC)


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "export.zip"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04" + os.urandom(5000))
    return path


def _make_writable(path: Path) -> None:
    path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_run_layout_manifest_and_verification(tmp_path: Path, export_file: Path) -> None:
    archive = open_archive(f"file://{tmp_path}/archive")
    run = archive.start_run("widget", "1.2.0", run_id="run-1", started_at=STARTED)
    assert run.uri == (tmp_path / "archive/widget/1.2.0/20260301T123045Z-run-1").as_uri() + "/"

    zipped = run.put_file("technical-file.zip", export_file, source_request_id="req-9")
    gate = run.put_json("gate.json", {"passed": True, "at": STARTED})
    run.put_bytes("compliance-report.html", b"<html></html>")
    manifest = run.finish(extra={"flow": "release"})

    folder = tmp_path / "archive/widget/1.2.0/20260301T123045Z-run-1"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["compliance-report.html", "gate.json", "manifest.json", "technical-file.zip"]
    assert (folder / "technical-file.zip").read_bytes() == export_file.read_bytes()
    assert zipped.size == export_file.stat().st_size
    assert zipped.content_type == "application/zip"
    assert json.loads((folder / "gate.json").read_text()) == {
        "passed": True,
        "at": "2026-03-01T12:30:45Z",
    }
    written = json.loads((folder / "manifest.json").read_text())
    assert written["run_id"] == "run-1"
    assert written["extra"] == {"flow": "release"}
    assert [o["name"] for o in written["objects"]] == [o.name for o in manifest.objects]
    assert written["objects"][0]["source_request_id"] == "req-9"
    assert written["objects"][1]["sha256"] == gate.sha256
    assert stat.S_IMODE((folder / "technical-file.zip").stat().st_mode) & 0o222 == 0

    result = verify_run(run.uri)
    assert result.ok
    assert result.checked == 3
    assert read_manifest(run.uri) == manifest == result.manifest
    assert verify_run(run.uri + "manifest.json").ok


def test_verify_reports_tampered_missing_and_unlisted_objects(
    tmp_path: Path, export_file: Path
) -> None:
    archive = open_archive(tmp_path)
    run = archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    run.put_file("technical-file.zip", export_file)
    run.put_bytes("gate.json", b"{}")
    run.put_bytes("comparison.json", b"{}")
    run.finish()
    folder = Path(run.uri.removeprefix("file://"))
    zipped = folder / "technical-file.zip"
    _make_writable(zipped)
    zipped.write_bytes(zipped.read_bytes()[:-1] + b"X")
    (folder / "gate.json").unlink()
    (folder / "sneaked-in.txt").write_text("x")

    result = verify_run(run.uri)
    assert not result.ok
    reasons = {m.name: m.reason for m in result.mismatches}
    assert reasons["technical-file.zip"].startswith("sha256")
    assert reasons["gate.json"] == "missing"
    assert reasons["sneaked-in.txt"] == "not listed in the manifest"
    assert "comparison.json" not in reasons


def test_unfinished_run_has_no_manifest_and_is_not_listed(
    tmp_path: Path, export_file: Path
) -> None:
    archive = open_archive(tmp_path)
    done = archive.start_run("widget", "1.0", run_id="a", started_at=STARTED)
    done.put_file("technical-file.zip", export_file)
    done.finish()
    later = archive.start_run("widget", "1.0", run_id="b", started_at=STARTED + timedelta(hours=1))
    later.put_file("technical-file.zip", export_file)  # never finished
    newest = archive.start_run("widget", "1.0", run_id="c", started_at=STARTED + timedelta(days=1))
    newest.finish()

    assert archive.list_runs("widget", "1.0") == [done.uri, newest.uri]
    assert archive.list_runs("widget", "2.0") == []
    with pytest.raises(EvidenceError, match="no manifest"):
        verify_run(later.uri)


def test_objects_are_never_overwritten(tmp_path: Path, export_file: Path) -> None:
    archive = open_archive(tmp_path)
    run = archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    run.put_file("technical-file.zip", export_file)
    with pytest.raises(ObjectExistsError):
        run.put_file("technical-file.zip", export_file)
    with pytest.raises(ObjectExistsError, match="run folder already exists"):
        archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    with pytest.raises(InvalidArchiveUriError, match=r"manifest\.json"):
        run.put_bytes("manifest.json", b"{}")
    run.finish()
    with pytest.raises(EvidenceError, match="finished"):
        run.put_bytes("late.json", b"{}")
    with pytest.raises(EvidenceError, match="finished"):
        run.finish()


def test_file_store_refuses_an_existing_file_and_leaves_it_intact(
    tmp_path: Path, export_file: Path
) -> None:
    archive = open_archive(tmp_path)
    run = archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    folder = Path(run.uri.removeprefix("file://"))
    folder.mkdir(parents=True)
    (folder / "gate.json").write_bytes(b"original")
    with pytest.raises(ObjectExistsError, match="never overwrite"):
        run.put_bytes("gate.json", b"replacement")
    assert (folder / "gate.json").read_bytes() == b"original"
    assert sorted(p.name for p in folder.iterdir()) == ["gate.json"]  # no temp file left


@pytest.mark.parametrize(
    ("product", "version"),
    [
        ("..", "1.0"),
        ("widget", "../../etc"),
        ("a/b", "1"),
        ("w", "1\\2"),
        ("w\x07", "1"),
        ("", "1"),
    ],
)
def test_unsafe_product_or_version_is_refused_before_writing(
    tmp_path: Path, product: str, version: str
) -> None:
    archive = open_archive(tmp_path / "root")
    with pytest.raises(InvalidArchiveUriError):
        archive.start_run(product, version, run_id="r", started_at=STARTED)
    assert not (tmp_path / "root").exists()


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a\\b", "x\ny", "."])
def test_unsafe_object_names_are_refused(tmp_path: Path, export_file: Path, name: str) -> None:
    run = open_archive(tmp_path).start_run("w", "1", run_id="r", started_at=STARTED)
    with pytest.raises(InvalidArchiveUriError):
        run.put_file(name, export_file)


def test_file_store_refuses_keys_that_escape_the_root(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "root", part_size=1024, chunk_bytes=1024)
    for key in ["../x", "a/../../x", "a//b", "a\\..\\b"]:
        with pytest.raises(InvalidArchiveUriError):
            store.path_for(key)


def test_started_at_is_stored_in_utc_and_naive_times_are_refused(tmp_path: Path) -> None:
    archive = open_archive(tmp_path)
    cest = timezone(timedelta(hours=2))
    run = archive.start_run(
        "w", "1", run_id="r", started_at=datetime(2026, 6, 1, 2, 0, tzinfo=cest)
    )
    assert "/20260601T000000Z-r/" in run.uri
    with pytest.raises(InvalidArchiveUriError, match="time zone"):
        archive.start_run("w", "1", run_id="r", started_at=datetime(2026, 6, 1))


def test_retention_on_a_local_archive_is_a_clear_error(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "root", EvidenceSettings(retain_years=10))
    with pytest.raises(ObjectLockNotEnabledError, match="Object Lock"):
        archive.start_run("w", "1", run_id="r", started_at=STARTED)
    assert not (tmp_path / "root").exists()


def test_sweep_snapshots_latest_by_key_order(tmp_path: Path) -> None:
    archive = open_archive(tmp_path)
    assert archive.latest_sweep_snapshot() is None
    first = archive.write_sweep_snapshot("run-a", {"n": 1}, at=STARTED)
    archive.write_sweep_snapshot("run-b", {"n": 2}, at=STARTED + timedelta(days=1))
    assert first.endswith("/sweeps/2026-03-01-run-a/snapshot.json")
    assert archive.latest_sweep_snapshot() == {"n": 2}
    with pytest.raises(ObjectExistsError):
        archive.write_sweep_snapshot("run-a", {"n": 3}, at=STARTED)


def test_fetch_to_path_copies_a_local_object(tmp_path: Path, export_file: Path) -> None:
    dest = tmp_path / "out" / "sbom.json"
    assert fetch_to_path(export_file.as_uri(), dest) == dest
    assert dest.read_bytes() == export_file.read_bytes()
    assert fetch_to_path(str(export_file), tmp_path / "again.zip").exists()
    with pytest.raises(EvidenceError, match="not found"):
        fetch_to_path(str(tmp_path / "missing.json"), tmp_path / "x")
    with pytest.raises(InvalidArchiveUriError):
        fetch_to_path("s3://bucket", tmp_path / "x")


def test_put_json_refuses_unserialisable_values(tmp_path: Path) -> None:
    run = open_archive(tmp_path).start_run("w", "1", run_id="r", started_at=STARTED)
    with pytest.raises(EvidenceError, match="JSON"):
        run.put_json("gate.json", {"x": object()})
    assert run.objects == ()


def test_a_tampered_manifest_naming_paths_outside_the_run_does_not_verify(
    tmp_path: Path,
) -> None:
    run = open_archive(tmp_path).start_run("w", "1", run_id="r", started_at=STARTED)
    run.put_bytes("gate.json", b"{}")
    run.finish()
    manifest_path = Path(run.uri.removeprefix("file://")) / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["objects"][0]["name"] = "../../../etc/passwd"
    _make_writable(manifest_path)
    manifest_path.write_text(json.dumps(data))
    reasons = {m.name: m.reason for m in verify_run(run.uri).mismatches}
    assert reasons == {
        "../../../etc/passwd": "unsafe name in manifest",
        "gate.json": "not listed in the manifest",
    }


def test_a_file_that_is_not_a_manifest_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"product": 1}')
    with pytest.raises(EvidenceError, match="not a craflow manifest") as caught:
        verify_run(folder)
    assert "\n" not in str(caught.value)
