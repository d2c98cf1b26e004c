"""Build the boto3 S3 client.

The endpoint comes from `AWS_ENDPOINT_URL` and credentials from boto3's default chain.
"""

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from config.evidence import EvidenceSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def make_s3_client(settings: EvidenceSettings) -> "S3Client":
    """An S3 client with the archive's timeouts and bounded standard-mode retries."""
    config = Config(
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
    )
    return boto3.session.Session().client("s3", config=config)
