import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from craflow.evidence.errors import (
    ArchiveAccessDeniedError,
    ArchiveEndpointError,
    ArchiveNotFoundError,
    ArchiveWriteError,
    ChecksumMismatchError,
    EvidenceError,
    ObjectExistsError,
    ObjectLockNotEnabledError,
)
from craflow.evidence.s3errors import translate_s3_error


def _client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "PutObject")


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("NoSuchBucket", "", ArchiveNotFoundError),
        ("404", "", ArchiveNotFoundError),
        ("NoSuchKey", "", ArchiveNotFoundError),
        ("AccessDenied", "", ArchiveAccessDeniedError),
        ("403", "", ArchiveAccessDeniedError),
        ("InvalidAccessKeyId", "", ArchiveAccessDeniedError),
        ("PreconditionFailed", "", ObjectExistsError),
        ("BadDigest", "", ChecksumMismatchError),
        ("ObjectLockConfigurationNotFoundError", "", ObjectLockNotEnabledError),
        ("InvalidRequest", "Bucket is missing ObjectLockConfiguration", ObjectLockNotEnabledError),
        ("InvalidRequest", "something else", ArchiveWriteError),
        ("InternalError", "We encountered\nan internal error", ArchiveWriteError),
    ],
)
def test_client_errors_map_to_one_line_evidence_errors(
    code: str, message: str, expected: type[EvidenceError]
) -> None:
    error = translate_s3_error(
        _client_error(code, message), action="write", where="s3://bucket/key"
    )
    assert type(error) is expected
    assert "\n" not in str(error)
    assert "s3://bucket" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_connection_trouble_is_an_endpoint_error(exc: Exception) -> None:
    error = translate_s3_error(exc, action="open bucket", where="s3://bucket")
    assert isinstance(error, ArchiveEndpointError)
    assert "too slow" in str(error)


def test_missing_credentials_is_access_denied() -> None:
    error = translate_s3_error(NoCredentialsError(), action="write", where="s3://b/k")
    assert isinstance(error, ArchiveAccessDeniedError)
    assert "credentials" in str(error)


def test_boto3_wrapped_upload_errors_are_unwrapped() -> None:
    try:
        try:
            raise _client_error("AccessDenied")
        except ClientError as inner:
            raise S3UploadFailedError(f"Failed to upload: {inner}")  # noqa: B904 - as boto3 does
    except S3UploadFailedError as wrapped:
        error = translate_s3_error(wrapped, action="write", where="s3://b/k")
    assert isinstance(error, ArchiveAccessDeniedError)


def test_evidence_errors_pass_through_and_others_become_write_errors() -> None:
    original = ObjectExistsError("exists")
    assert translate_s3_error(original, action="write", where="x") is original
    other = translate_s3_error(RuntimeError("odd\nthing"), action="write", where="s3://b/k")
    assert isinstance(other, ArchiveWriteError)
    assert str(other) == "failed to write s3://b/k: odd thing"
