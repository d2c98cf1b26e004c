"""Translate boto3/botocore failures into `EvidenceError` subclasses, at one boundary."""

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
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

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_DENIED = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}
_EXISTS = {"412", "PreconditionFailed", "ConditionalRequestConflict"}
_DIGEST = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
_LOCK = {"ObjectLockConfigurationNotFoundError", "InvalidBucketState"}


def _root_cause(exc: BaseException) -> BaseException:
    """Follow `raise ... from` / implicit context to the botocore error boto3 wrapped."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ClientError, BotoCoreError)):
            return current
        nested = getattr(current, "last_exception", None)  # boto3 RetriesExceededError
        nxt = current.__cause__ or current.__context__ or nested
        if not isinstance(nxt, BaseException):
            break
        current = nxt
    return exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _client_error(exc: ClientError, action: str, where: str) -> EvidenceError:  # noqa: PLR0911
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")) or "unknown"
    message = _one_line(str(error.get("Message", "")))
    if code == "NoSuchBucket":
        return ArchiveNotFoundError(f"bucket does not exist: {where}")
    if code in _NOT_FOUND:
        return ArchiveNotFoundError(f"not found: {where}")
    if code in _DENIED:
        return ArchiveAccessDeniedError(f"access denied to {action} {where} ({code})")
    if code in _EXISTS:
        return ObjectExistsError(f"object already exists, archives never overwrite: {where}")
    if code in _DIGEST:
        return ChecksumMismatchError(f"the store rejected the checksum of {where} ({code})")
    if code in _LOCK or (code == "InvalidRequest" and "objectlock" in message.lower()):
        return ObjectLockNotEnabledError(
            f"retention asked for, but the bucket has no Object Lock: {where}"
        )
    return ArchiveWriteError(f"S3 refused to {action} {where}: {code}: {message}")


def translate_s3_error(exc: BaseException, *, action: str, where: str) -> EvidenceError:
    """Map an exception raised by boto3 while doing `action` on `where` to an EvidenceError."""
    if isinstance(exc, EvidenceError):
        return exc
    cause = _root_cause(exc)
    if isinstance(cause, ClientError):
        return _client_error(cause, action, where)
    if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
        return ArchiveAccessDeniedError(
            f"no usable AWS credentials to {action} {where} (boto3 default chain)"
        )
    if isinstance(cause, (ConnectionError, HTTPClientError)):
        return ArchiveEndpointError(
            f"S3 endpoint unreachable or too slow to {action} {where}: {type(cause).__name__}"
        )
    return ArchiveWriteError(f"failed to {action} {where}: {_one_line(str(exc))}")
