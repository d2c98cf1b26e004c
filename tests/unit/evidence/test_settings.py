import pytest
from pydantic import ValidationError

from config.evidence import EvidenceSettings


def test_defaults_encrypt_and_verify_without_retention() -> None:
    settings = EvidenceSettings()
    assert settings.sse == "AES256"
    assert settings.retain_years is None
    assert settings.verify_after_upload is True
    assert settings.destination.startswith("file://")


def test_reads_craflow_evidence_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_EVIDENCE_DESTINATION", "s3://bucket/prefix")
    monkeypatch.setenv("CRAFLOW_EVIDENCE_RETAIN_YEARS", "10")
    monkeypatch.setenv("CRAFLOW_EVIDENCE_RETENTION_MODE", "COMPLIANCE")
    settings = EvidenceSettings()
    assert (settings.destination, settings.retain_years, settings.retention_mode) == (
        "s3://bucket/prefix",
        10,
        "COMPLIANCE",
    )


@pytest.mark.parametrize(
    "values",
    [
        {"retain_years": 0},
        {"retain_years": 101},
        {"multipart_chunk_bytes": 1024},
        {"max_concurrency": 0},
        {"sse": "none"},
        {"retention_mode": "LEGAL"},
        {"kms_key_id": "alias/x"},
        {"read_timeout_seconds": 0},
    ],
)
def test_out_of_bounds_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EvidenceSettings.model_validate(values)


def test_kms_key_with_kms_encryption_is_accepted() -> None:
    settings = EvidenceSettings(sse="aws:kms", kms_key_id="alias/evidence")
    assert settings.kms_key_id == "alias/evidence"
