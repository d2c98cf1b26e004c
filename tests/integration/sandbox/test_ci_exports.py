"""The /ci/* surface, comparison of two real SBOMs, the technical-file ZIP and the report."""

import hashlib
import io
import json
import zipfile

import httpx
import pytest

from craflow.sandbox.runner import RunningSandbox
from tests.integration.sandbox.helpers import REQUESTS_2_19, SBOMS, client, cyclonedx, wait_scan

pytestmark = pytest.mark.integration


def ci_upload(
    api: httpx.Client, product: str, version: str, content: bytes, name: str, **form: str
) -> httpx.Response:
    fields = {
        "product": product,
        "version": version,
        "artifact_type": "sbom",
        "create_product": "true",
        "create_version": "true",
        "scan": "true",
        **form,
    }
    return api.post("/ci/upload", files={"file": (name, content, "application/json")}, data=fields)


def test_ci_upload_creates_product_and_version(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        refused = ci_upload(api, "ci-app", "1.0", cyclonedx(REQUESTS_2_19), "bom.json")
        assert refused.status_code == 400
        assert "target_markets" in refused.json()["error"]["detail"]
        answer = ci_upload(
            api,
            "ci-app",
            "1.0",
            cyclonedx(REQUESTS_2_19),
            "bom.json",
            target_markets="EU",
            environment="prod",
        )
        body = answer.json()
        assert answer.status_code == 201
        assert body["product"]["created"] is True
        assert body["product"]["slug"] == "ci-app"
        assert body["version"]["created"] is True
        assert body["version"]["number"] == "1.0"
        assert body["version"]["environment"] == "prod"
        assert body["scan_results"]["status"] == "pending"
        assert body["component_count"] == 1
        assert 0 <= body["quality_score"] <= 100
        assert body["cra_status"] == "incomplete"
        assert "vulnerability_scan" in body["cra_missing_items"]
        second = ci_upload(api, "ci-app", "1.0", cyclonedx(REQUESTS_2_19), "bom.json")
        assert second.json()["product"]["created"] is False
        assert second.json()["version"]["created"] is False
        missing = api.post(
            "/ci/upload",
            files={"file": ("b.json", b"{}", "application/json")},
            data={"product": "ci-app", "version": "9.9"},
        )
        assert missing.status_code == 404
        status = api.get("/ci/status", params={"product": "ci-app", "version": "1.0"})
        assert status.json()["product"]["slug"] == "ci-app"
        scan = api.post("/ci/scan", data={"product": "ci-app", "version": "1.0"}).json()
        assert scan["status"] == "pending"
        assert scan["vulnerabilities"] is None
        assert wait_scan(api, body["version"]["id"])["scan_state"] == "completed"
        release = api.post(
            "/ci/release-state", data={"product": "ci-app", "version": "1.0", "state": "released"}
        )
        assert release.status_code == 200, release.text
        assert release.json()["release_anyway_recorded"] is False
        assert release.json()["cra_status"] == "ready"


def test_compare_two_real_sboms_and_export(sandbox: RunningSandbox) -> None:
    laravel = (SBOMS / "laravel-7.12.0__bom.1.4.json").read_bytes()
    doc = json.loads(laravel)
    doc["components"][0]["version"] = "9.9.9"
    bumped = doc["components"][0]
    doc["components"] = doc["components"][:-1]
    dropped = json.loads(laravel)["components"][-1]
    doc["components"].append(
        {"name": "requests", "version": "2.19.0", "purl": "pkg:pypi/requests@2.19.0"}
    )
    with client(sandbox) as api:
        first = ci_upload(api, "shop", "1.0", laravel, "laravel.json", target_markets="EU")
        second = ci_upload(api, "shop", "2.0", json.dumps(doc).encode(), "laravel-2.json")
        for answer in (first, second):
            wait_scan(api, answer.json()["version"]["id"])
        diff = api.get(
            "/ci/compare", params={"product": "shop", "version_a": "1.0", "version_b": "2.0"}
        ).json()
        assert diff["summary"] == {"added": 1, "removed": 1, "modified": 1, "unchanged": 60}
        assert diff["changes"]["added"][0]["name"] == "requests"
        assert diff["changes"]["removed"][0]["name"] == dropped["name"]
        assert diff["changes"]["modified"][0]["new_version"] == "9.9.9"
        assert diff["changes"]["modified"][0]["name"] == bumped["name"]
        assert "GHSA-x84v-xcm2-53pg" in diff["vulnerability_diff"]["new_ids"]
        same = api.post(
            "/comparison/versions",
            json={
                "version_a_id": first.json()["version"]["id"],
                "version_b_id": second.json()["version"]["id"],
            },
        ).json()
        assert same["summary"] == diff["summary"]

        version_id = second.json()["version"]["id"]
        export = api.get(f"/versions/{version_id}/export")
        assert export.headers["content-type"] == "application/zip"
        assert "shop-2.0-technical-file-" in export.headers["content-disposition"]
        archive = zipfile.ZipFile(io.BytesIO(export.content))
        names = set(archive.namelist())
        assert names == {
            "manifest.json",
            "sboms/laravel-2.json",
            "vulnerabilities.json",
            "cra-status.json",
            "README.md",
        }
        manifest = json.loads(archive.read("manifest.json"))
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        assert set(manifest["files"]) == names - {"manifest.json"}
        assert manifest["version"]["number"] == "2.0"
        assert json.loads(archive.read("sboms/laravel-2.json")) == doc
        other_path = api.get(f"/exports/versions/{version_id}/technical-file")
        assert other_path.status_code == 200
        ci_zip = api.get(
            "/ci/export", params={"product": "shop", "version": "2.0", "format": "technical-file"}
        )
        assert zipfile.ZipFile(io.BytesIO(ci_zip.content)).namelist()

        sbom_id = second.json()["artifact_id"]
        pdf = api.get(f"/exports/sboms/{sbom_id}/compliance-report", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        html = api.get(f"/exports/sboms/{sbom_id}/compliance-report", params={"format": "html"})
        assert "GHSA-x84v-xcm2-53pg" in html.text
        assert (
            api.get(
                f"/exports/sboms/{sbom_id}/compliance-report", params={"format": "doc"}
            ).status_code
            == 400
        )
        ci_pdf = api.get(
            "/ci/export",
            params={"product": "shop", "version": "2.0", "format": "compliance-report"},
        )
        assert ci_pdf.content.startswith(b"%PDF")
        raw = api.get(
            "/ci/export", params={"product": "shop", "version": "2.0", "format": "sbom-data"}
        )
        assert json.loads(raw.content) == doc


def test_ci_upload_by_product_name_reuses_the_created_product(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        first = ci_upload(
            api, "My App", "1.0", cyclonedx(REQUESTS_2_19), "bom.json", target_markets="EU"
        )
        assert first.json()["product"]["slug"] == "my-app"
        second = ci_upload(api, "My App", "1.1", cyclonedx(REQUESTS_2_19), "bom.json")
        assert second.status_code == 201, second.text
        assert second.json()["product"]["id"] == first.json()["product"]["id"]
        assert second.json()["product"]["created"] is False
