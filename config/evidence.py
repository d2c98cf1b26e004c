"""Settings of the S3 evidence archive (`CRAFLOW_EVIDENCE_*`).

The S3 endpoint itself is not configured here: boto3 reads `AWS_ENDPOINT_URL`
and its default credential chain, so any S3-compatible store works unchanged.
"""

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from config.base import CraflowSettings

MIB = 1024 * 1024


class EvidenceSettings(CraflowSettings):
    """Where evidence is archived, how it is encrypted, retained and transferred."""

    model_config = SettingsConfigDict(
        env_prefix="CRAFLOW_EVIDENCE_",
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    destination: str = Field(
        default="file://./.craflow/evidence",
        min_length=1,
        description=(
            "Archive root: `s3://bucket/prefix`, `file:///absolute/path`, or a plain path. "
            "The default is a folder under the working directory."
        ),
    )
    sse: Literal["AES256", "aws:kms"] = Field(
        default="AES256",
        description="Server-side encryption of every S3 object: SSE-S3 (AES256) or SSE-KMS.",
    )
    kms_key_id: str | None = Field(
        default=None,
        min_length=1,
        description="KMS key id or ARN for SSE-KMS; only with sse='aws:kms'.",
    )
    retain_years: int | None = Field(
        default=None,
        ge=1,
        le=100,
        description="Object Lock retention in years (the CRA asks for ten); None for no lock.",
    )
    retention_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE",
        description="Object Lock mode used when retain_years is set.",
    )
    multipart_threshold_bytes: int = Field(
        default=8 * MIB,
        ge=5 * MIB,
        le=5 * 1024 * MIB,
        description="Files at or above this size are uploaded as multipart uploads.",
    )
    multipart_chunk_bytes: int = Field(
        default=8 * MIB,
        ge=5 * MIB,
        le=5 * 1024 * MIB,
        description="Part size of multipart uploads (S3 allows 5 MiB to 5 GiB).",
    )
    max_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Parts transferred at the same time by one upload or download.",
    )
    io_chunk_bytes: int = Field(
        default=1 * MIB,
        ge=4 * 1024,
        le=64 * MIB,
        description="Read size when streaming a file or object through a hash.",
    )
    verify_after_upload: bool = Field(
        default=True,
        description="HEAD every uploaded object with checksum mode and compare size and SHA-256.",
    )
    connect_timeout_seconds: float = Field(
        default=10.0,
        ge=0.1,
        le=300.0,
        description="Seconds to wait for a TCP connection to the S3 endpoint.",
    )
    read_timeout_seconds: float = Field(
        default=60.0,
        ge=0.1,
        le=3600.0,
        description="Seconds to wait for the S3 endpoint to answer a request.",
    )
    max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Attempts per S3 request (botocore standard retry mode), first included.",
    )

    link: Literal["console", "presigned", "none"] = Field(
        default="console",
        description=(
            "How the evidence table in the Prefect UI links an `s3://` object: `console` "
            "(the storage console's HTTPS page, see console_url_template), `presigned` (a "
            "presigned GET URL valid presign_seconds) or `none` (the `s3://` URI as text only)."
        ),
    )
    console_url_template: str = Field(
        default="https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={key_quoted}",
        min_length=8,
        pattern=r"^https://",
        description=(
            "HTTPS page of an archived object for link='console'; placeholders {bucket}, "
            "{key} and {key_quoted}. Point it at your S3-compatible store's console."
        ),
    )
    presign_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="Lifetime of a presigned evidence link (link='presigned'); S3 allows 7 days.",
    )

    @model_validator(mode="after")
    def _kms_key_needs_kms(self) -> Self:
        if self.kms_key_id is not None and self.sse != "aws:kms":
            raise ValueError("kms_key_id is only used with sse='aws:kms'")
        return self
