"""The archive against moto's S3 server on loopback."""

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError

from config.evidence import EvidenceSettings
from craflow.evidence import (
    ArchiveEndpointError,
    ArchiveNotFoundError,
    EvidenceError,
    ObjectExistsError,
    ObjectLockNotEnabledError,
    fetch_to_path,
    open_archive,
    verify_run,
)
from craflow.sandbox.s3 import LocalS3, boto3_session_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _keys(client: "S3Client", bucket: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _open_uploads(client: "S3Client", bucket: str) -> list[Any]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_full_run_is_encrypted_checksummed_and_verifies(
    s3_client: "S3Client",
    s3_bucket: str,
    settings: EvidenceSettings,
    big_file: Path,
    tmp_path: Path,
) -> None:
    archive = open_archive(f"s3://{s3_bucket}/evidence", settings, s3_client=s3_client)
    run = archive.start_run("widget", "1.2.0", run_id="flow-run-1", started_at=STARTED)
    assert run.uri == f"s3://{s3_bucket}/evidence/widget/1.2.0/20260301T120000Z-flow-run-1/"
    zipped = run.put_file("technical-file.zip", big_file, source_request_id="req-1")
    run.put_bytes("compliance-report.pdf", b"%PDF-1.7 tiny")
    run.put_json("gate.json", {"passed": True})
    manifest = run.finish()

    assert zipped.sha256 == hashlib.sha256(big_file.read_bytes()).hexdigest()
    head = s3_client.head_object(Bucket=s3_bucket, Key=zipped.key, ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "AES256"
    data = big_file.read_bytes()
    part = 5 * 1024 * 1024
    parts = b"".join(hashlib.sha256(data[i : i + part]).digest() for i in range(0, len(data), part))
    composite = base64.b64encode(hashlib.sha256(parts).digest()).decode()
    assert head["ChecksumSHA256"].partition("-")[0] == composite  # moto may omit the "-3"
    assert head["ContentType"] == "application/zip"
    for obj in manifest.objects:
        again = fetch_to_path(obj.uri, tmp_path / "back" / obj.name, settings, s3_client=s3_client)
        assert hashlib.sha256(again.read_bytes()).hexdigest() == obj.sha256
    result = verify_run(run.uri, settings, s3_client=s3_client)
    assert result.ok, result.mismatches
    assert result.checked == 3
    assert archive.list_runs("widget", "1.2.0") == [run.uri]
    assert _open_uploads(s3_client, s3_bucket) == []


def test_tampered_object_fails_verification(
    s3_client: "S3Client", s3_bucket: str, settings: EvidenceSettings
) -> None:
    run = open_archive(f"s3://{s3_bucket}", settings, s3_client=s3_client).start_run(
        "widget", "1.0", run_id="r", started_at=STARTED
    )
    gate = run.put_bytes("gate.json", b'{"passed": true}')
    run.finish()
    s3_client.put_object(Bucket=s3_bucket, Key=gate.key, Body=b'{"passed": false}')
    result = verify_run(run.uri + "manifest.json", settings, s3_client=s3_client)
    assert not result.ok
    assert [m.name for m in result.mismatches] == ["gate.json"]


def test_object_lock_retention_on_a_locked_bucket(
    s3_client: "S3Client", locked_bucket: str, big_file: Path
) -> None:
    settings = EvidenceSettings(
        multipart_threshold_bytes=5 * 1024 * 1024,
        multipart_chunk_bytes=5 * 1024 * 1024,
        retain_years=10,
        retention_mode="COMPLIANCE",
    )
    archive = open_archive(f"s3://{locked_bucket}", settings, s3_client=s3_client)
    run = archive.start_run("widget", "1.0", run_id="r")
    small = run.put_bytes("gate.json", b"{}")
    large = run.put_file("technical-file.zip", big_file)
    run.finish()
    for obj in (small, large):
        assert obj.version_id
        head = s3_client.head_object(Bucket=locked_bucket, Key=obj.key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=9 * 365)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_client.delete_object(Bucket=locked_bucket, Key=small.key, VersionId=small.version_id)
    assert verify_run(run.uri, settings, s3_client=s3_client).ok


def test_retention_on_a_bucket_without_object_lock_writes_nothing(
    s3_client: "S3Client", s3_bucket: str
) -> None:
    archive = open_archive(
        f"s3://{s3_bucket}", EvidenceSettings(retain_years=10), s3_client=s3_client
    )
    with pytest.raises(ObjectLockNotEnabledError, match="no Object Lock"):
        archive.start_run("widget", "1.0", run_id="r")
    assert _keys(s3_client, s3_bucket) == []


def test_missing_bucket_is_a_clear_error(s3_client: "S3Client") -> None:
    archive = open_archive("s3://craflow-no-such-bucket/x", s3_client=s3_client)
    with pytest.raises(ArchiveNotFoundError, match="bucket does not exist"):
        archive.start_run("widget", "1.0", run_id="r")


def test_existing_objects_are_never_overwritten(
    s3_client: "S3Client", s3_bucket: str, settings: EvidenceSettings, big_file: Path
) -> None:
    archive = open_archive(f"s3://{s3_bucket}", settings, s3_client=s3_client)
    run = archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    folder = run.uri.removeprefix(f"s3://{s3_bucket}/")
    for name in ("gate.json", "technical-file.zip"):
        s3_client.put_object(Bucket=s3_bucket, Key=f"{folder}{name}", Body=b"first")
    with pytest.raises(ObjectExistsError):
        run.put_bytes("gate.json", b"second")  # If-None-Match on a single PUT
    with pytest.raises(ObjectExistsError):
        run.put_file("technical-file.zip", big_file)  # HEAD before a multipart upload
    for name in ("gate.json", "technical-file.zip"):
        body = s3_client.get_object(Bucket=s3_bucket, Key=f"{folder}{name}")["Body"].read()
        assert body == b"first"
    with pytest.raises(ObjectExistsError, match="run folder already exists"):
        archive.start_run("widget", "1.0", run_id="r", started_at=STARTED)
    assert _open_uploads(s3_client, s3_bucket) == []


def test_failed_multipart_upload_is_aborted_and_not_recorded(
    local_s3: LocalS3, s3_bucket: str, settings: EvidenceSettings, big_file: Path
) -> None:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=local_s3.endpoint_url,
        region_name=local_s3.region,
        aws_access_key_id=local_s3.access_key,
        aws_secret_access_key=local_s3.secret_key,
    )
    calls: list[str] = []

    def fail_second_part(**_: object) -> None:
        calls.append("part")
        if len(calls) == 2:
            raise ConnectionResetError("connection dropped mid-upload")

    client.meta.events.register("before-call.s3.UploadPart", fail_second_part)
    run = open_archive(f"s3://{s3_bucket}", settings, s3_client=client).start_run(
        "widget", "1.0", run_id="r"
    )
    with pytest.raises(EvidenceError, match="connection dropped") as caught:
        run.put_file("technical-file.zip", big_file)
    assert "\n" not in str(caught.value)
    assert _open_uploads(client, s3_bucket) == []
    assert _keys(client, s3_bucket) == []
    assert run.objects == ()
    manifest = run.finish()
    assert manifest.objects == ()


def test_endpoint_and_credentials_come_from_the_environment(
    local_s3: LocalS3,
    s3_bucket: str,
    settings: EvidenceSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in boto3_session_env(local_s3).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("CRAFLOW_EVIDENCE_DESTINATION", f"s3://{s3_bucket}/env")
    archive = open_archive(settings=EvidenceSettings(multipart_threshold_bytes=5 * 1024 * 1024))
    run = archive.start_run("widget", "1.0", run_id="r")
    sbom = run.put_bytes("sbom.cdx.json", b'{"bomFormat": "CycloneDX"}')
    run.finish()
    assert verify_run(run.uri).ok
    assert fetch_to_path(sbom.uri, tmp_path / "sbom.json").read_bytes().startswith(b'{"bom')


def test_a_silent_endpoint_times_out_with_a_clear_error(
    silent_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    settings = EvidenceSettings(
        read_timeout_seconds=0.2, connect_timeout_seconds=0.2, max_attempts=1
    )
    archive = open_archive("s3://some-bucket/x", settings)
    with pytest.raises(ArchiveEndpointError, match="too slow") as caught:
        archive.start_run("widget", "1.0", run_id="r")
    assert "\n" not in str(caught.value)


def test_sweep_snapshots_on_s3(s3_client: "S3Client", s3_bucket: str) -> None:
    archive = open_archive(f"s3://{s3_bucket}/p", s3_client=s3_client)
    assert archive.latest_sweep_snapshot() is None
    archive.write_sweep_snapshot("b", {"n": 1}, at=STARTED)
    uri = archive.write_sweep_snapshot("a", {"n": 2}, at=STARTED + timedelta(days=1))
    assert uri == f"s3://{s3_bucket}/p/sweeps/2026-03-02-a/snapshot.json"
    assert archive.latest_sweep_snapshot() == {"n": 2}
