"""The S3 back end: managed multipart uploads, SHA-256 checksums, SSE, Object Lock.

Small objects go up in one `PutObject` with `If-None-Match: *` (the store
refuses to overwrite) and the whole-object SHA-256 as `ChecksumSHA256`; large
ones through boto3's managed multipart transfer with `ChecksumAlgorithm=SHA256`
after a HEAD shows the key is free (managed transfers cannot send
`If-None-Match`; run folders are unique, so the window is theoretical). A failed
or interrupted multipart upload is aborted. After the write the object is read
back with HEAD in checksum mode and compared with the digest computed locally.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.utils import ChunksizeAdjuster

from config.evidence import EvidenceSettings
from craflow.evidence.errors import ChecksumMismatchError
from craflow.evidence.hashing import FileDigest, ReadableStream, digest_stream
from craflow.evidence.s3errors import translate_s3_error
from craflow.evidence.store import WriteOptions

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def _utcnow() -> datetime:
    return datetime.now(UTC)


def add_years(moment: datetime, years: int) -> datetime:
    """`moment` plus whole calendar years (29 February becomes 1 March)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, month=3, day=1)


def _checksums_match(reported: str, expected: str) -> bool:
    # Some S3-compatible stores report a composite checksum without the `-N` suffix.
    return (
        reported == expected
        or reported.split("-", maxsplit=1)[0] == expected.split("-", maxsplit=1)[0]
    )


class S3Store:
    """An `ObjectStore` in one S3 bucket (keys include the archive prefix)."""

    def __init__(
        self,
        client: "S3Client",
        bucket: str,
        settings: EvidenceSettings,
        *,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._settings = settings
        self._now = now
        self._transfer = TransferConfig(
            multipart_threshold=settings.multipart_threshold_bytes,
            multipart_chunksize=settings.multipart_chunk_bytes,
            max_concurrency=settings.max_concurrency,
            use_threads=settings.max_concurrency > 1,
        )

    def uri_for(self, key: str) -> str:
        return f"s3://{self._bucket}/{key}"

    def _is_multipart(self, size: int) -> bool:
        return size >= self._settings.multipart_threshold_bytes

    def part_size_for(self, size: int) -> int:
        if not self._is_multipart(size):
            return max(size, 1)
        return int(ChunksizeAdjuster().adjust_chunksize(self._settings.multipart_chunk_bytes, size))

    def check_writable(self) -> None:
        where = f"s3://{self._bucket}"
        try:
            self._client.head_bucket(Bucket=self._bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchBucket", "NotFound"}:
                exc.response["Error"]["Code"] = "NoSuchBucket"
            raise translate_s3_error(exc, action="open bucket", where=where) from exc
        except BotoCoreError as exc:
            raise translate_s3_error(exc, action="open bucket", where=where) from exc
        if self._settings.retain_years is None:
            return
        try:
            config = self._client.get_object_lock_configuration(Bucket=self._bucket)
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="read Object Lock of", where=where) from exc
        enabled = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise translate_s3_error(
                ClientError(
                    {"Error": {"Code": "ObjectLockConfigurationNotFoundError", "Message": ""}},
                    "GetObjectLockConfiguration",
                ),
                action="read Object Lock of",
                where=where,
            )

    def _retain_until(self) -> datetime | None:
        years = self._settings.retain_years
        return None if years is None else add_years(self._now(), years)

    def _extra_args(
        self, digest: FileDigest, options: WriteOptions, retain_until: datetime | None
    ) -> dict[str, Any]:
        settings = self._settings
        extra: dict[str, Any] = {"ServerSideEncryption": settings.sse}
        if settings.kms_key_id is not None:
            extra["SSEKMSKeyId"] = settings.kms_key_id
        if retain_until is not None:
            extra["ObjectLockMode"] = settings.retention_mode
            extra["ObjectLockRetainUntilDate"] = retain_until
        if options.content_type:
            extra["ContentType"] = options.content_type
        extra["Metadata"] = {"sha256": digest.sha256, **(options.metadata or {})}
        return extra

    def put_file(
        self, key: str, path: Path, digest: FileDigest, options: WriteOptions
    ) -> str | None:
        where = self.uri_for(key)
        retain_until = self._retain_until()
        extra = self._extra_args(digest, options, retain_until)
        multipart = self._is_multipart(digest.size)
        try:
            if not multipart:
                with path.open("rb") as body:
                    self._client.put_object(
                        Bucket=self._bucket,
                        Key=key,
                        Body=body,
                        IfNoneMatch="*",
                        ChecksumAlgorithm="SHA256",
                        ChecksumSHA256=digest.sha256_base64,
                        **extra,
                    )
            else:
                if self.exists(key):
                    raise translate_s3_error(
                        ClientError({"Error": {"Code": "PreconditionFailed"}}, "HeadObject"),
                        action="write",
                        where=where,
                    )
                self._client.upload_file(
                    str(path),
                    self._bucket,
                    key,
                    ExtraArgs={"ChecksumAlgorithm": "SHA256", **extra},
                    Config=self._transfer,
                )
        except BaseException as exc:
            if multipart:
                self.abort_incomplete_uploads(key)
            if isinstance(exc, Exception):
                raise translate_s3_error(exc, action="write", where=where) from exc
            raise
        return self._read_back(key, digest, multipart, retain_until)

    def _read_back(
        self, key: str, digest: FileDigest, multipart: bool, retain_until: datetime | None
    ) -> str | None:
        where = self.uri_for(key)
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
            version_id = head.get("VersionId")
            if retain_until is not None and "ObjectLockMode" not in head:
                # Some S3-compatible stores ignore lock headers on multipart uploads.
                self._lock_version(key, version_id, retain_until)
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="read back", where=where) from exc
        if not self._settings.verify_after_upload:
            return version_id
        if head.get("ContentLength") != digest.size:
            raise ChecksumMismatchError(
                f"size of {where} is {head.get('ContentLength')}, expected {digest.size}"
            )
        reported = head.get("ChecksumSHA256")
        expected = digest.composite_sha256() if multipart else digest.sha256_base64
        if reported is None:  # the store keeps no checksum: stream the object back
            with self.open_read(key) as stream:
                back = digest_stream(
                    stream, part_size=digest.part_size, chunk_bytes=self._settings.io_chunk_bytes
                )
            matches = back.sha256 == digest.sha256
        else:
            matches = _checksums_match(reported, expected)
        if not matches:
            raise ChecksumMismatchError(f"SHA-256 of {where} differs from the bytes sent")
        return version_id

    def _lock_version(self, key: str, version_id: str | None, retain_until: datetime) -> None:
        retention: Any = {"Mode": self._settings.retention_mode, "RetainUntilDate": retain_until}
        if version_id is None:
            self._client.put_object_retention(
                Bucket=self._bucket, Key=key, Retention=retention, ChecksumAlgorithm="SHA256"
            )
        else:
            self._client.put_object_retention(
                Bucket=self._bucket,
                Key=key,
                VersionId=version_id,
                Retention=retention,
                ChecksumAlgorithm="SHA256",
            )

    def abort_incomplete_uploads(self, key: str) -> int:
        """Abort multipart uploads left open at `key`; best effort, returns how many."""
        aborted = 0
        try:
            listing = self._client.list_multipart_uploads(Bucket=self._bucket, Prefix=key)
            for upload in listing.get("Uploads", []):
                if upload.get("Key") == key and "UploadId" in upload:
                    self._client.abort_multipart_upload(
                        Bucket=self._bucket, Key=key, UploadId=upload["UploadId"]
                    )
                    aborted += 1
        except (BotoCoreError, ClientError):
            pass  # the original failure is what the caller needs to see
        return aborted

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise translate_s3_error(exc, action="look up", where=self.uri_for(key)) from exc
        except BotoCoreError as exc:
            raise translate_s3_error(exc, action="look up", where=self.uri_for(key)) from exc
        return True

    def open_read(self, key: str) -> AbstractContextManager[ReadableStream]:
        return self._open_read(key)

    @contextmanager
    def _open_read(self, key: str) -> Iterator[ReadableStream]:
        where = self.uri_for(key)
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="read", where=where) from exc
        try:
            yield body
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="read", where=where) from exc
        finally:
            body.close()

    def list_keys(self, prefix: str) -> Iterator[str]:
        folder = f"{prefix}/" if prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    if "Key" in item:
                        yield item["Key"]
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="list", where=self.uri_for(folder)) from exc

    def download_to(self, key: str, dest: Path) -> None:
        """Download the object at `key` to `dest` with the managed (streaming) transfer."""
        try:
            self._client.download_file(self._bucket, key, str(dest), Config=self._transfer)
        except (BotoCoreError, ClientError) as exc:
            raise translate_s3_error(exc, action="download", where=self.uri_for(key)) from exc
