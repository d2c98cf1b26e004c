"""The client's triage PATCH (with justification) and VEX upload (section 7 of the contract)."""

import json
from pathlib import Path

import httpx

from craflow.api import CraEvidenceClient
from tests.unit.api.conftest import MockServer
from tests.unit.api.test_endpoints import VULN


def test_triage_sends_only_what_is_given_and_reads_the_new_fields(
    client: CraEvidenceClient, server: MockServer
) -> None:
    answer = {
        **VULN,
        "status": "not_affected",
        "justification": "component_not_present",
        "status_changed_at": "2026-11-30T12:00:00Z",
    }
    server.queue.append(httpx.Response(200, json=answer))
    updated = client.triage_vulnerability(
        "u-1", status="not_affected", justification="component_not_present"
    )
    assert server.last.method == "PATCH"
    assert json.loads(server.last.content) == {
        "status": "not_affected",
        "justification": "component_not_present",
    }
    assert updated.justification == "component_not_present"
    assert updated.status_changed_at is not None
    server.queue.append(httpx.Response(200, json=VULN))  # an older server: no new fields
    old = client.triage_vulnerability("u-1", notes="x")
    assert (old.justification, old.status_changed_at) == (None, None)


def test_upload_vex_posts_a_vex_artifact(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    path = tmp_path / "shop.vex.json"
    path.write_text('{"bomFormat": "CycloneDX", "vulnerabilities": []}')
    server.queue.append(
        httpx.Response(
            201,
            json={"artifact_id": "a-1", "artifact_type": "vex", "version": {"id": "v-1"}},
        )
    )
    answer = client.upload_vex("shop", "1.0", path)
    assert server.last.url.path == "/api/v1/ci/upload"
    body = server.last.content
    for part in (b'name="artifact_type"', b"vex", b'name="product"', b'filename="shop.vex.json"'):
        assert part in body
    assert (answer.artifact_id, answer.artifact_type) == ("a-1", "vex")
