import pytest

from config.evidence import EvidenceSettings
from craflow.evidence.s3client import make_s3_client


def test_clients_are_reused_per_settings_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = EvidenceSettings(read_timeout_seconds=7, max_attempts=2)
    first = make_s3_client(settings)
    assert make_s3_client(EvidenceSettings(read_timeout_seconds=7, max_attempts=2)) is first
    assert first.meta.endpoint_url == "http://127.0.0.1:9"
    assert first.meta.config.read_timeout == 7
    assert first.meta.config.retries == {"total_max_attempts": 2, "mode": "standard"}

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:10")
    moved = make_s3_client(settings)
    assert moved is not first
    assert moved.meta.endpoint_url == "http://127.0.0.1:10"
    assert make_s3_client(EvidenceSettings(read_timeout_seconds=8)) is not moved
