"""Build the boto3 S3 client.

The endpoint comes from `AWS_ENDPOINT_URL` and credentials from boto3's default
chain. Creating a client costs up to a second (service model loading), so
clients are cached per settings and per the `AWS_*` environment that shapes
them; boto3 clients are thread-safe.
"""

import functools
import os
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from config.evidence import EvidenceSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The environment variables boto3 reads when it builds an S3 client.
_CLIENT_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_CACHED_CLIENTS = 8


@functools.lru_cache(maxsize=_CACHED_CLIENTS)
def _cached_client(
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    environment: tuple[str | None, ...],
) -> "S3Client":
    del environment  # part of the cache key only; boto3 reads os.environ itself
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
    )
    return boto3.session.Session().client("s3", config=config)


def make_s3_client(settings: EvidenceSettings) -> "S3Client":
    """An S3 client with the archive's timeouts and bounded standard-mode retries."""
    return _cached_client(
        settings.connect_timeout_seconds,
        settings.read_timeout_seconds,
        settings.max_attempts,
        tuple(os.environ.get(name) for name in _CLIENT_ENV),
    )
