"""A loopback S3 endpoint (moto's server mode) for development, demos and tests.

    with start_local_s3() as s3:
        env = boto3_session_env(s3)   # for a subprocess or the demo

Imports only moto and the standard library (never anything from craflow).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DUMMY_CREDENTIAL = "testing"
REGION = "us-east-1"


@dataclass(frozen=True)
class LocalS3:
    """Where the local S3 endpoint listens, and the dummy credentials it accepts."""

    endpoint_url: str
    region: str = REGION
    access_key: str = DUMMY_CREDENTIAL
    secret_key: str = DUMMY_CREDENTIAL


@contextmanager
def start_local_s3(*, host: str = "127.0.0.1", port: int = 0) -> Iterator[LocalS3]:
    """Run moto's S3 server on `host` (a free port when `port` is 0) until the block ends."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        bound_host, bound_port = server.get_host_and_port()
        yield LocalS3(endpoint_url=f"http://{bound_host}:{bound_port}")
    finally:
        server.stop()


def boto3_session_env(local: LocalS3) -> dict[str, str]:
    """Environment variables that point boto3 (in any process) at `local`."""
    return {
        "AWS_ENDPOINT_URL": local.endpoint_url,
        "AWS_ACCESS_KEY_ID": local.access_key,
        "AWS_SECRET_ACCESS_KEY": local.secret_key,
        "AWS_DEFAULT_REGION": local.region,
    }
