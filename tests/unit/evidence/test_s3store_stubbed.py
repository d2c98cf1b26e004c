"""S3Store against botocore's Stubber: error paths a loopback moto cannot produce."""

import base64
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from config.evidence import EvidenceSettings
from craflow.evidence.errors import (
    ArchiveAccessDeniedError,
    ArchiveNotFoundError,
    ChecksumMismatchError,
    ObjectLockNotEnabledError,
)
from craflow.evidence.hashing import digest_file
from craflow.evidence.s3store import S3Store, add_years
from craflow.evidence.store import WriteOptions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DATA = b"evidence bytes"
SHA_B64 = base64.b64encode(hashlib.sha256(DATA).digest()).decode()


@pytest.fixture(scope="module")
def client() -> "S3Client":
    return boto3.session.Session().client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stub(client: "S3Client") -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "gate.json"
    path.write_bytes(DATA)
    return path


def _store(client: "S3Client", **settings: object) -> S3Store:
    return S3Store(client, "bucket", EvidenceSettings.model_validate(settings), now=lambda: NOW)


def test_access_denied_on_the_bucket(client: "S3Client", stub: Stubber) -> None:
    stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    with pytest.raises(ArchiveAccessDeniedError, match="access denied"):
        _store(client).check_writable()


def test_missing_bucket(client: "S3Client", stub: Stubber) -> None:
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    with pytest.raises(ArchiveNotFoundError, match="bucket does not exist: s3://bucket"):
        _store(client).check_writable()


def test_retention_on_a_bucket_without_object_lock(client: "S3Client", stub: Stubber) -> None:
    stub.add_response("head_bucket", {})
    stub.add_client_error(
        "get_object_lock_configuration",
        service_error_code="ObjectLockConfigurationNotFoundError",
        http_status_code=404,
    )
    with pytest.raises(ObjectLockNotEnabledError, match="no Object Lock"):
        _store(client, retain_years=10).check_writable()


def test_put_sends_checksum_encryption_and_retention(
    client: "S3Client", stub: Stubber, small_file: Path
) -> None:
    stub.add_response(
        "put_object",
        {"VersionId": "v1"},
        {
            "Bucket": "bucket",
            "Key": "p/gate.json",
            "Body": ANY,
            "IfNoneMatch": "*",
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": SHA_B64,
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "alias/evidence",
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": datetime(2036, 3, 1, 9, 0, tzinfo=UTC),
            "ContentType": "application/json",
            "Metadata": {"sha256": hashlib.sha256(DATA).hexdigest()},
        },
    )
    stub.add_response(
        "head_object",
        {
            "ContentLength": len(DATA),
            "ChecksumSHA256": SHA_B64,
            "VersionId": "v1",
            "ObjectLockMode": "COMPLIANCE",
        },
        {"Bucket": "bucket", "Key": "p/gate.json", "ChecksumMode": "ENABLED"},
    )
    store = _store(
        client,
        sse="aws:kms",
        kms_key_id="alias/evidence",
        retain_years=10,
        retention_mode="COMPLIANCE",
    )
    digest = digest_file(small_file, part_size=len(DATA), chunk_bytes=4)
    version = store.put_file(
        "p/gate.json", small_file, digest, WriteOptions(content_type="application/json")
    )
    assert version == "v1"


def test_retention_is_applied_when_the_store_ignored_the_lock_headers(
    client: "S3Client", stub: Stubber, small_file: Path
) -> None:
    stub.add_response("put_object", {})
    stub.add_response(
        "head_object", {"ContentLength": len(DATA), "ChecksumSHA256": SHA_B64, "VersionId": "v7"}
    )
    stub.add_response(
        "put_object_retention",
        {},
        {
            "Bucket": "bucket",
            "Key": "k",
            "VersionId": "v7",
            "Retention": {
                "Mode": "GOVERNANCE",
                "RetainUntilDate": datetime(2036, 3, 1, 9, 0, tzinfo=UTC),
            },
            "ChecksumAlgorithm": "SHA256",
        },
    )
    digest = digest_file(small_file, part_size=len(DATA), chunk_bytes=4)
    assert _store(client, retain_years=10).put_file("k", small_file, digest, WriteOptions()) == "v7"


def test_read_back_with_another_checksum_is_a_mismatch(
    client: "S3Client", stub: Stubber, small_file: Path
) -> None:
    stub.add_response("put_object", {})
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    stub.add_response("head_object", {"ContentLength": len(DATA), "ChecksumSHA256": other})
    digest = digest_file(small_file, part_size=len(DATA), chunk_bytes=4)
    with pytest.raises(ChecksumMismatchError, match="differs"):
        _store(client).put_file("k", small_file, digest, WriteOptions())


def test_read_back_without_a_stored_checksum_streams_the_object(
    client: "S3Client", stub: Stubber, small_file: Path
) -> None:
    stub.add_response("put_object", {})
    stub.add_response("head_object", {"ContentLength": len(DATA)})
    stub.add_response(
        "get_object", {"Body": StreamingBody(io.BytesIO(b"tampered bytes"), len(DATA))}
    )
    digest = digest_file(small_file, part_size=len(DATA), chunk_bytes=4)
    with pytest.raises(ChecksumMismatchError):
        _store(client).put_file("k", small_file, digest, WriteOptions())


def test_access_denied_on_put_is_one_line(
    client: "S3Client", stub: Stubber, small_file: Path
) -> None:
    stub.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
    digest = digest_file(small_file, part_size=len(DATA), chunk_bytes=4)
    with pytest.raises(ArchiveAccessDeniedError) as caught:
        _store(client).put_file("k", small_file, digest, WriteOptions())
    assert str(caught.value) == "access denied to write s3://bucket/k (AccessDenied)"


def test_part_size_follows_s3transfer_limits(client: "S3Client") -> None:
    mib = 1024 * 1024
    store = _store(client, multipart_threshold_bytes=8 * mib, multipart_chunk_bytes=8 * mib)
    assert store.part_size_for(100) == 100
    assert store.part_size_for(100 * mib) == 8 * mib
    assert store.part_size_for(200 * 1024 * mib) == 32 * mib  # at most 10 000 parts


@pytest.mark.parametrize(
    ("moment", "years", "expected"),
    [
        (datetime(2026, 3, 1, tzinfo=UTC), 10, datetime(2036, 3, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 1, datetime(2029, 3, 1, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 4, datetime(2032, 2, 29, tzinfo=UTC)),
    ],
)
def test_add_years(moment: datetime, years: int, expected: datetime) -> None:
    assert add_years(moment, years) == expected
