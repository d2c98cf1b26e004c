"""The release's VEX upload: a server that does not take VEX gets a warning, not a failure."""

from pathlib import Path
from typing import Any, cast

import pytest
from prefect.logging import disable_run_logger

from craflow.api import ApiError, CraEvidenceClient
from craflow.api.models import ArtifactUpload
from tasks.client import register_client
from tasks.vex import upload_version_vex


class FakeClient:
    def __init__(self, status: int | None) -> None:
        self.status = status
        self.uploads = 0

    def upload_vex(self, product: str, version: str, path: Path) -> ArtifactUpload:
        self.uploads += 1
        if self.status is not None:
            raise ApiError(self.status, code="X", detail="no vex here")
        return ArtifactUpload(artifact_id="a1", artifact_type="vex")


STATEMENT = '{"vulnerabilities": [{"id": "PYSEC-1"}]}'


def _upload(status: int | None, tmp_path: Path) -> Any:
    document = tmp_path / "vex.cdx.json"
    document.write_text(STATEMENT)
    client = cast(CraEvidenceClient, FakeClient(status))
    with disable_run_logger(), register_client(client, key="outside-flow-runs"):
        return upload_version_vex.fn("shop", "1.0.0", document)


@pytest.mark.parametrize("status", [400, 404, 405])
def test_a_server_without_vex_artifacts_is_a_warning(status: int, tmp_path: Path) -> None:
    assert _upload(status, tmp_path) is None


def test_other_errors_are_raised_and_success_returns_the_artifact(tmp_path: Path) -> None:
    with pytest.raises(ApiError):
        _upload(409, tmp_path)
    assert _upload(None, tmp_path) == "a1"


def test_a_document_without_statements_is_not_uploaded(tmp_path: Path) -> None:
    # a version with no findings: the server would refuse it (the sandbox answers 400)
    fake = FakeClient(None)
    document = tmp_path / "vex.cdx.json"
    document.write_text('{"bomFormat": "CycloneDX", "vulnerabilities": []}')
    with disable_run_logger(), register_client(cast(CraEvidenceClient, fake), key="outside"):
        assert upload_version_vex.fn("shop", "1.0.0", document) is None
    assert fake.uploads == 0
