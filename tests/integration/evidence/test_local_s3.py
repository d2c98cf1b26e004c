import socket

import boto3
import pytest

from craflow.sandbox.s3 import boto3_session_env, start_local_s3

pytestmark = pytest.mark.integration


def test_start_local_s3_serves_on_a_free_loopback_port_and_stops() -> None:
    with start_local_s3() as local:
        host, port = local.endpoint_url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        env = boto3_session_env(local)
        assert env == {
            "AWS_ENDPOINT_URL": local.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=local.endpoint_url,
            region_name=local.region,
            aws_access_key_id=local.access_key,
            aws_secret_access_key=local.secret_key,
        )
        client.create_bucket(Bucket="craflow-probe")
        # moto's backends are per process: buckets of other in-process servers show too.
        assert "craflow-probe" in [b["Name"] for b in client.list_buckets()["Buckets"]]
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass
