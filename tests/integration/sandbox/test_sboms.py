"""SBOM ingest of real files, refusals that store nothing, the upload cap, download."""

import hashlib
import json
from collections.abc import Iterator

import pytest

from craflow.sandbox.runner import RunningSandbox
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.sandbox.helpers import (
    SBOMS,
    client,
    control,
    ingest,
    new_version,
    wait_scan,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("name", "spec", "count"),
    [
        ("dropwizard-1.3.15__bom.json", "1.2", 167),
        ("dropwizard-1.3.15__bom.xml", "1.2", 167),
        ("laravel-7.12.0__bom.1.3.xml", "1.3", 62),
        ("laravel-7.12.0__bom.1.4.json", "1.4", 62),
    ],
)
def test_real_sboms_are_ingested_and_downloadable(
    sandbox: RunningSandbox, name: str, spec: str, count: int
) -> None:
    content = (SBOMS / name).read_bytes()
    with client(sandbox) as api:
        _, version_id = new_version(api, "real")
        answer = ingest(api, version_id, content, filename=name, auto_scan=False)
        assert answer.status_code == 201, answer.text
        sbom = answer.json()
        assert (sbom["format"], sbom["spec_version"], sbom["component_count"]) == (
            "cyclonedx",
            spec,
            count,
        )
        assert sbom["sha256"] == hashlib.sha256(content).hexdigest()
        assert sbom["size_bytes"] == len(content)
        assert 0 <= sbom["quality_score"] <= 100
        assert sbom["scan"] is None
        listed = api.get(f"/versions/{version_id}/sboms").json()
        assert [s["id"] for s in listed["items"]] == [sbom["id"]]
        download = api.get(f"/sboms/{sbom['id']}/download")
        assert download.content == content


def test_invalid_uploads_are_400_and_store_nothing(sandbox: RunningSandbox) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">&b;</bom>'
    )
    deep = (
        b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "x": '
        + b"[" * 50_000
        + b"]" * 50_000
        + b"}"
    )
    with client(sandbox) as api:
        _, version_id = new_version(api, "bad")
        for content in (
            b"plain text",
            b'{"bomFormat": "CycloneDX", "specVersion": "0.9"}',
            bomb,
            deep,
        ):
            answer = ingest(api, version_id, content)
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
        assert api.get(f"/versions/{version_id}/sboms").json()["total"] == 0
        missing = ingest(api, "00000000-0000-0000-0000-000000000000", b"{}")
        assert missing.status_code == 404
    with control(sandbox) as ctl:
        assert [e for e in ctl.get("/audit").json() if e["event"] == "sbom.ingested"] == []
    blobs = sandbox.data_dir / "blobs"
    assert [p for p in blobs.rglob("*") if p.is_file()] == []


def test_uploads_above_the_cap_are_413(sandbox_factory: SandboxFactory) -> None:
    small = sandbox_factory(max_upload_bytes=1000, scan_seconds=0.2)
    padded = b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [], "pad": "'
    over_file = padded + b"x" * 2000 + b'"}'
    with client(small) as api:
        _, version_id = new_version(api, "cap")
        answer = ingest(api, version_id, over_file)
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        huge = ingest(api, version_id, padded + b"x" * 200_000 + b'"}')
        assert huge.status_code == 413

        def chunks() -> Iterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.json"\r\n\r\n'
            for _ in range(50):
                yield b"x" * 10_000

        streamed = api.post(
            "/sboms/ingest",
            content=chunks(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert streamed.status_code == 413
        assert "content-length" not in streamed.request.headers  # cut off while streaming
        fits = ingest(api, version_id, padded + b'"}')
        assert fits.status_code == 201
        assert api.get(f"/versions/{version_id}/sboms").json()["total"] == 1


def test_spdx_json_is_ingested_and_scanned(sandbox: RunningSandbox) -> None:
    spdx = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "app",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: test"]},
        "packages": [
            {
                "SPDXID": "SPDXRef-requests",
                "name": "requests",
                "versionInfo": "2.19.0",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:pypi/requests@2.19.0",
                    }
                ],
            }
        ],
    }
    with client(sandbox) as api:
        _, version_id = new_version(api, "spdx")
        answer = ingest(api, version_id, json.dumps(spdx).encode(), filename="app.spdx.json")
        assert answer.status_code == 201, answer.text
        assert (answer.json()["format"], answer.json()["spec_version"]) == ("spdx", "2.3")
        status = wait_scan(api, version_id)
        assert status["sbom"]["format"] == "spdx"
        ids = {
            v["vuln_id"]
            for v in api.get("/vulnerabilities", params={"version_id": version_id}).json()["items"]
        }
        assert "GHSA-x84v-xcm2-53pg" in ids
