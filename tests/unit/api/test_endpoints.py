"""Every endpoint: what the client sends and how it reads the answer."""

import io
import json
from pathlib import Path

import httpx
import pytest

from config.api import ApiSettings, RateLimitSettings
from craflow.api import (
    ConflictError,
    CraEvidenceClient,
    NotFoundError,
    ReleaseBlockedError,
    UnexpectedResponseError,
)
from tests.unit.api.conftest import API_KEY, MockServer, error_response

PRODUCT = {
    "id": "p-1",
    "name": "Widget",
    "slug": "widget",
    "category": "default",
    "created_at": "2026-01-02T03:04:05Z",
    "owner": "someone",  # unknown fields are ignored
}
VERSION = {
    "id": "v-1",
    "product_id": "p-1",
    "version_number": "1.0.0",
    "release_state": "draft",
    "cra_status": "incomplete",
    "superseded_by": None,
    "created_at": "2026-01-02T03:04:05Z",
    "updated_at": "2026-01-02T03:04:05Z",
}
SBOM = {
    "id": "s-1",
    "version_id": "v-1",
    "filename": "bom.json",
    "format": "cyclonedx",
    "spec_version": "1.6",
    "component_count": 3,
    "sha256": "ab" * 32,
    "size_bytes": 120,
    "created_at": "2026-01-02T03:04:05Z",
}
VULN = {
    "id": "u-1",
    "version_id": "v-1",
    "vuln_id": "PYSEC-2018-28",
    "aliases": ["CVE-2018-18074"],
    "summary": "requests leaks credentials",
    "severity": "high",
    "cvss_score": 7.5,
    "kev": False,
    "component": {"name": "requests", "version": "2.19.0", "purl": "pkg:pypi/requests@2.19.0"},
    "fixed_versions": ["2.20.0"],
    "status": "open",
    "notes": None,
    "first_seen_at": "2026-01-02T03:04:05Z",
    "updated_at": "2026-01-02T03:04:05Z",
}
CRA_STATUS = {
    "product": {"id": "p-1", "name": "Widget", "slug": "widget"},
    "version": {
        "id": "v-1",
        "number": "1.0.0",
        "cra_status": "incomplete",
        "release_state": "draft",
    },
    "cra_status": "incomplete",
    "cra_floor_status": "ready",
    "release_policy_status": "incomplete",
    "release_state": "draft",
    "scan_state": "completed",
    "sbom": {"format": "cyclonedx", "component_count": 3, "quality_score": 72.5},
    "vulnerability_summary": {"critical": 1, "high": 2, "medium": 0, "low": 0, "total": 3},
    "kev_count": 1,
    "documents": {"security_policy": True, "eu_declaration": False},
    "cra_missing_items": ["eu_declaration", {"item": "user_instructions"}],
    "vuln_blockers": [{"source": "default_policy", "vuln_id": "CVE-1", "reason": "critical"}],
}
COMPARISON = {
    "product": {"id": "p-1", "name": "Widget", "slug": "widget"},
    "version_a": {
        "id": "v-1",
        "number": "1.0.0",
        "cra_status": "ready",
        "release_state": "released",
    },
    "version_b": {"id": "v-2", "number": "1.1.0", "cra_status": "ready", "release_state": "draft"},
    "summary": {"added": 1, "removed": 1, "modified": 1, "unchanged": 5},
    "changes": {
        "added": [{"name": "a", "version": "1", "purl": "pkg:pypi/a@1"}],
        "removed": [{"name": "b", "version": "2", "purl": "pkg:pypi/b@2"}],
        "modified": [
            {"name": "c", "purl": "pkg:pypi/c", "old_version": "1.0", "new_version": "1.1"}
        ],
    },
    "vulnerability_diff": {"new": 1, "fixed": 2, "new_ids": ["X"], "fixed_ids": ["Y", "Z"]},
}


def _json(request: httpx.Request) -> dict[str, object]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


def test_every_request_carries_the_bearer_key_and_accepts_json(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(200, json=PRODUCT))
    client.get_product("p-1")
    request = server.last
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("craflow/")
    assert str(request.url) == "https://cra.test/api/v1/products/p-1"


def test_get_product(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json=PRODUCT))
    product = client.get_product("p-1")
    assert (product.id, product.name, product.slug, product.category) == (
        "p-1",
        "Widget",
        "widget",
        "default",
    )
    assert product.created_at is not None and product.created_at.year == 2026
    assert server.last.method == "GET"


def test_create_product(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(201, json=PRODUCT))
    product = client.create_product("Widget", category="critical", slug="widget")
    assert product.id == "p-1"
    assert server.last.method == "POST"
    assert server.last.url.path == "/api/v1/products"
    assert _json(server.last) == {"name": "Widget", "category": "critical", "slug": "widget"}
    assert server.last.headers["idempotency-key"]


def test_create_product_without_slug_sends_none(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(201, json=PRODUCT))
    client.create_product("Widget")
    assert _json(server.last) == {"name": "Widget", "category": "default"}


def test_list_products_with_slug_filter(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(
        httpx.Response(
            200, json={"items": [PRODUCT], "total": 1, "page": 1, "per_page": 10, "has_next": False}
        )
    )
    products = list(client.list_products(slug="widget", per_page=10))
    assert [p.slug for p in products] == ["widget"]
    assert dict(server.last.url.params) == {"slug": "widget", "page": "1", "per_page": "10"}


def test_find_product_filters_client_side_too(
    client: CraEvidenceClient, server: MockServer
) -> None:
    other = {**PRODUCT, "id": "p-2", "slug": "other"}
    server.queue.append(httpx.Response(200, json=[other, PRODUCT]))  # server ignored the filter
    found = client.find_product("widget")
    assert found is not None and found.id == "p-1"
    server.queue.append(httpx.Response(200, json=[other]))
    assert client.find_product("widget") is None


def test_find_or_create_product_creates_when_missing(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue += [httpx.Response(200, json=[]), httpx.Response(201, json=PRODUCT)]
    product = client.find_or_create_product("widget", name="Widget")
    assert product.id == "p-1"
    assert _json(server.last) == {"name": "Widget", "category": "default", "slug": "widget"}


def test_find_or_create_product_returns_existing(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(200, json=[PRODUCT]))
    assert client.find_or_create_product("widget").id == "p-1"
    assert len(server.requests) == 1


def test_find_or_create_product_rereads_after_conflict(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue += [
        httpx.Response(200, json=[]),
        error_response(409, "CONFLICT", "slug exists"),
        httpx.Response(200, json=[PRODUCT]),
    ]
    assert client.find_or_create_product("widget").id == "p-1"
    assert [r.method for r in server.requests] == ["GET", "POST", "GET"]


def test_find_or_create_product_conflict_without_product_raises(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue += [
        httpx.Response(200, json=[]),
        error_response(409, "CONFLICT", "slug exists"),
        httpx.Response(200, json=[]),
    ]
    with pytest.raises(ConflictError):
        client.find_or_create_product("widget")


def test_versions(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json=[VERSION]))
    versions = list(client.list_versions("p-1"))
    assert versions[0].version_number == "1.0.0"
    assert server.last.url.path == "/api/v1/products/p-1/versions"

    server.queue.append(httpx.Response(201, json=VERSION))
    created = client.create_version("p-1", "1.0.0", release_state="draft")
    assert created.id == "v-1"
    assert server.last.url.path == "/api/v1/versions"
    assert _json(server.last) == {
        "product_id": "p-1",
        "version_number": "1.0.0",
        "release_state": "draft",
    }


def test_find_and_find_or_create_version(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json={"items": [VERSION], "has_next": False}))
    assert client.find_version("p-1", "2.0") is None
    server.queue += [
        httpx.Response(200, json={"items": [], "has_next": False}),
        error_response(409, "CONFLICT"),
        httpx.Response(200, json={"items": [VERSION], "has_next": False}),
    ]
    assert client.find_or_create_version("p-1", "1.0.0").id == "v-1"
    server.queue += [
        httpx.Response(200, json={"items": [], "has_next": False}),
        httpx.Response(201, json=VERSION),
    ]
    assert client.find_or_create_version("p-1", "1.0.0").id == "v-1"
    assert _json(server.last) == {"product_id": "p-1", "version_number": "1.0.0"}


def test_ingest_sbom_streams_a_multipart_upload(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    sbom = tmp_path / "bom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX"}')
    answer = {**SBOM, "scan": {"scan_id": "sc-1", "status": "pending"}}
    server.queue.append(httpx.Response(201, json=answer, headers={"X-Request-ID": "rid-7"}))
    result = client.ingest_sbom("v-1", sbom, auto_scan=False, filename="renamed.json")
    assert result.sbom.id == "s-1"
    assert result.sbom.sha256 == "ab" * 32
    assert result.scan is not None and result.scan.scan_id == "sc-1"
    assert result.request_id == "rid-7"
    request = server.last
    assert request.url.path == "/api/v1/sboms/ingest"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.headers["content-length"] == str(len(server.bodies[-1]))
    body = server.bodies[-1]
    assert b'name="version_id"\r\n\r\nv-1' in body
    assert b'name="auto_scan"\r\n\r\nfalse' in body
    assert b'name="file"; filename="renamed.json"' in body
    assert b'{"bomFormat": "CycloneDX"}' in body


def test_ingest_sbom_without_scan_and_missing_file(
    client: CraEvidenceClient, server: MockServer, tmp_path: Path
) -> None:
    sbom = tmp_path / "bom.json"
    sbom.write_text("{}")
    server.queue.append(httpx.Response(201, json=SBOM))
    result = client.ingest_sbom("v-1", sbom)
    assert result.scan is None
    assert b'name="auto_scan"\r\n\r\ntrue' in server.bodies[-1]
    with pytest.raises(FileNotFoundError, match="SBOM file not found"):
        client.ingest_sbom("v-1", tmp_path / "missing.json")
    assert len(server.requests) == 1


def test_list_sboms(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(
        httpx.Response(200, json={"items": [SBOM], "total": 1, "page": 1, "per_page": 50})
    )
    assert [s.id for s in client.list_sboms("v-1")] == ["s-1"]
    assert server.last.url.path == "/api/v1/versions/v-1/sboms"


def test_trigger_scan(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(202, json={"scan_id": "sc-2", "status": "pending"}))
    trigger = client.trigger_scan("v-1")
    assert (trigger.scan_id, trigger.status) == ("sc-2", "pending")
    assert (server.last.method, server.last.url.path) == ("POST", "/api/v1/versions/v-1/scan")


def test_trigger_scan_disabled(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(202, json={"scan_id": None, "status": "disabled"}))
    assert client.trigger_scan("v-1").status == "disabled"


def test_cra_status(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json=CRA_STATUS))
    status = client.get_cra_status("v-1")
    assert server.last.url.path == "/api/v1/versions/v-1/cra-status"
    assert status.cra_status == "incomplete"
    assert status.cra_floor_status == "ready"
    assert status.release_policy_status == "incomplete"
    assert status.scan_state == "completed"
    assert status.vulnerability_summary.critical == 1
    assert status.vulnerability_summary.total == 3
    assert status.kev_count == 1
    assert status.documents == {"security_policy": True, "eu_declaration": False}
    assert status.cra_missing_items == ["eu_declaration", "user_instructions"]
    assert status.vuln_blockers[0].vuln_id == "CVE-1"
    assert status.sbom is not None and status.sbom.quality_score == 72.5
    assert status.product is not None and status.product.slug == "widget"
    assert status.version is not None and status.version.number == "1.0.0"


def test_cra_status_before_any_sbom(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(
        httpx.Response(200, json={"cra_status": "incomplete", "scan_state": "none", "sbom": None})
    )
    status = client.get_cra_status("v-1")
    assert status.sbom is None
    assert status.vulnerability_summary.total == 0


def test_set_release_state(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json={**VERSION, "release_state": "deprecated"}))
    version = client.set_release_state("v-1", "deprecated", superseded_by="v-2")
    assert version.release_state == "deprecated"
    assert (server.last.method, server.last.url.path) == (
        "PATCH",
        "/api/v1/versions/v-1/release-state",
    )
    assert _json(server.last) == {"state": "deprecated", "superseded_by": "v-2"}

    server.queue.append(httpx.Response(200, json={**VERSION, "release_state": "released"}))
    client.set_release_state(
        "v-1", "released", release_anyway=True, release_anyway_reason="accepted by CISO"
    )
    assert _json(server.last) == {
        "state": "released",
        "release_anyway": True,
        "release_anyway_reason": "accepted by CISO",
    }


def test_set_release_state_blocked(client: CraEvidenceClient, server: MockServer) -> None:
    blockers = [{"source": "cra_required", "vuln_id": "CVE-9", "reason": "KEV listed"}]
    server.queue.append(error_response(409, "RELEASE_BLOCKED", "policy not met", blockers=blockers))
    with pytest.raises(ReleaseBlockedError) as caught:
        client.set_release_state("v-1", "released")
    assert caught.value.blockers[0].vuln_id == "CVE-9"
    assert len(server.requests) == 1


def test_compare_versions(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json=COMPARISON))
    comparison = client.compare_versions("v-1", "v-2")
    assert (server.last.method, server.last.url.path) == ("POST", "/api/v1/comparison/versions")
    assert _json(server.last) == {"version_a_id": "v-1", "version_b_id": "v-2"}
    assert comparison.summary.unchanged == 5
    assert comparison.changes.added[0].purl == "pkg:pypi/a@1"
    assert comparison.changes.modified[0].new_version == "1.1"
    assert comparison.vulnerability_diff.fixed_ids == ["Y", "Z"]
    assert comparison.vulnerability_diff.new == 1
    assert comparison.version_b is not None and comparison.version_b.number == "1.1.0"


def test_vulnerabilities(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json={"items": [VULN], "has_next": False}))
    vulns = list(
        client.list_vulnerabilities(
            version_id="v-1", severity="high", status="open", kev=True, per_page=20
        )
    )
    assert vulns[0].vuln_id == "PYSEC-2018-28"
    assert vulns[0].component is not None and vulns[0].component.purl == "pkg:pypi/requests@2.19.0"
    assert vulns[0].aliases == ["CVE-2018-18074"]
    assert dict(server.last.url.params) == {
        "version_id": "v-1",
        "severity": "high",
        "status": "open",
        "kev": "true",
        "page": "1",
        "per_page": "20",
    }
    server.queue.append(httpx.Response(200, json={"items": [], "has_next": False}))
    list(client.list_vulnerabilities(product_id="p-1", kev=False))
    assert dict(server.last.url.params) == {
        "product_id": "p-1",
        "kev": "false",
        "page": "1",
        "per_page": "50",
    }


def test_get_and_update_vulnerability(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json=VULN))
    assert client.get_vulnerability("u-1").severity == "high"
    assert server.last.url.path == "/api/v1/vulnerabilities/u-1"
    server.queue.append(
        httpx.Response(200, json={**VULN, "status": "not_affected", "notes": "unused"})
    )
    updated = client.triage_vulnerability("u-1", status="not_affected", notes="unused")
    assert (updated.status, updated.notes) == ("not_affected", "unused")
    assert server.last.method == "PATCH"
    assert _json(server.last) == {"status": "not_affected", "notes": "unused"}
    server.queue.append(httpx.Response(200, json=VULN))
    client.triage_vulnerability("u-1", notes="only notes")
    assert _json(server.last) == {"notes": "only notes"}


def test_not_found(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(
        error_response(
            404, "RESOURCE_NOT_FOUND", "Product with ID xyz not found", request_id="r-404"
        )
    )
    with pytest.raises(NotFoundError) as caught:
        client.get_product("xyz")
    assert (
        str(caught.value) == "404 RESOURCE_NOT_FOUND: Product with ID xyz not found (request r-404)"
    )


def test_unreadable_success_bodies_raise_one_clear_error(
    client: CraEvidenceClient, server: MockServer
) -> None:
    server.queue.append(httpx.Response(200, text="<html>login page</html>"))
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        client.get_product("p-1")
    server.queue.append(httpx.Response(200, json={"name": "no id"}))
    with pytest.raises(UnexpectedResponseError, match="cannot read product: id"):
        client.get_product("p-1")


def test_data_wrapper_is_tolerated(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(200, json={"data": PRODUCT}))
    assert client.get_product("p-1").id == "p-1"


def test_per_page_bounds(client: CraEvidenceClient) -> None:
    with pytest.raises(ValueError, match="per_page"):
        client.list_products(per_page=0)
    with pytest.raises(ValueError, match="per_page"):
        client.list_products(per_page=101)


def test_compliance_report_streams_to_a_binary_stream(
    client: CraEvidenceClient, server: MockServer
) -> None:
    pdf = b"%PDF-1.7 fake report"
    server.queue.append(
        httpx.Response(200, content=pdf, headers={"Content-Type": "application/pdf"})
    )
    sink = io.BytesIO()
    download = client.compliance_report("s-1", sink)
    assert sink.getvalue() == pdf
    assert download.content_type == "application/pdf"
    assert server.last.url.path == "/api/v1/exports/sboms/s-1/compliance-report"
    assert dict(server.last.url.params) == {"format": "pdf"}
    server.queue.append(
        httpx.Response(200, content=b"<html/>", headers={"Content-Type": "text/html"})
    )
    client.compliance_report("s-1", io.BytesIO(), format="html")
    assert dict(server.last.url.params) == {"format": "html"}


def test_ingest_streams_the_file_in_bounded_chunks(tmp_path: Path) -> None:
    """The multipart body reaches the transport as a stream, never as one buffer."""
    sbom = tmp_path / "big.json"
    sbom.write_bytes(b"x" * (3 * 1024 * 1024))
    chunk_sizes: list[int] = []

    class CountingTransport(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.SyncByteStream)
            for chunk in request.stream:
                chunk_sizes.append(len(chunk))
            return httpx.Response(201, json=SBOM)

    settings = ApiSettings(url="https://cra.test", api_key=API_KEY)
    with CraEvidenceClient(
        settings, rates=RateLimitSettings(enabled=False), transport=CountingTransport()
    ) as client:
        client.ingest_sbom("v-1", sbom)
    assert sum(chunk_sizes) > 3 * 1024 * 1024
    assert max(chunk_sizes) <= 1024 * 1024


def test_create_product_sends_target_markets(client: CraEvidenceClient, server: MockServer) -> None:
    server.queue.append(httpx.Response(201, json={**PRODUCT, "target_markets": ["DE", "FR"]}))
    product = client.create_product("Widget", slug="widget", target_markets=["DE", "FR"])
    assert _json(server.last)["target_markets"] == ["DE", "FR"]
    assert product.target_markets == ["DE", "FR"]
