"""Every sandbox route refuses a missing key, a wrong key and a key without the needed scope,
and answers 404 for another organisation's resources.

Routes are enumerated from the app's OpenAPI document: a new route without an entry in
`REQUESTS` fails `test_every_route_is_covered`, so it cannot escape these checks.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from craflow.sandbox.runner import RunningSandbox, start_sandbox

pytestmark = pytest.mark.integration

PUBLIC = {
    ("GET", "/health"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/oidc/token"),
}


@dataclass(frozen=True)
class Ids:
    """Org A's resources, named in requests."""

    product_id: str
    product_slug: str
    version_id: str
    version_number: str
    other_version_id: str
    sbom_id: str
    vuln_id: str


def _sbom_bytes() -> bytes:
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "version": 1,
            "components": [
                {
                    "type": "library",
                    "name": "requests",
                    "version": "2.19.0",
                    "purl": "pkg:pypi/requests@2.19.0",
                }
            ],
        }
    ).encode()


Request = Callable[[Ids], dict[str, Any]]

# (method, path template) -> keyword arguments of httpx.Client.request, built from org A's ids.
# `foreign` is False where the request names none of org A's resources (lists are checked apart).
REQUESTS: dict[tuple[str, str], tuple[Request, bool]] = {
    ("POST", "/api/v1/api-keys"): (lambda i: {"json": {"name": "x", "scopes": []}}, False),
    ("GET", "/api/v1/products"): (lambda i: {}, False),
    ("POST", "/api/v1/products"): (
        lambda i: {"json": {"name": "n", "slug": f"s-{uuid.uuid4().hex[:8]}"}},
        False,
    ),
    ("GET", "/api/v1/products/{product_id}"): (lambda i: {}, True),
    ("GET", "/api/v1/products/{product_id}/versions"): (lambda i: {}, True),
    ("POST", "/api/v1/versions"): (
        lambda i: {"json": {"product_id": i.product_id, "version_number": "9.9.9"}},
        True,
    ),
    ("POST", "/api/v1/sboms/ingest"): (
        lambda i: {
            "files": {"file": ("s.json", _sbom_bytes(), "application/json")},
            "data": {"version_id": i.version_id, "auto_scan": "false"},
        },
        True,
    ),
    ("GET", "/api/v1/versions/{version_id}/sboms"): (lambda i: {}, True),
    ("GET", "/api/v1/sboms/{sbom_id}/download"): (lambda i: {}, True),
    ("POST", "/api/v1/versions/{version_id}/scan"): (lambda i: {}, True),
    ("GET", "/api/v1/versions/{version_id}/cra-status"): (lambda i: {}, True),
    ("PATCH", "/api/v1/versions/{version_id}/release-state"): (
        lambda i: {"json": {"state": "pending_review"}},
        True,
    ),
    ("POST", "/api/v1/comparison/versions"): (
        lambda i: {"json": {"version_a_id": i.other_version_id, "version_b_id": i.version_id}},
        True,
    ),
    # A filter naming a foreign version lists nothing (checked in the list test), like an
    # unknown id: no existence oracle either way.
    ("GET", "/api/v1/vulnerabilities"): (lambda i: {"params": {"version_id": i.version_id}}, False),
    ("GET", "/api/v1/vulnerabilities/{vuln_id}"): (lambda i: {}, True),
    ("PATCH", "/api/v1/vulnerabilities/{vuln_id}"): (
        lambda i: {"json": {"notes": "looked at it"}},
        True,
    ),
    ("GET", "/api/v1/versions/{version_id}/export"): (lambda i: {}, True),
    ("GET", "/api/v1/exports/versions/{version_id}/technical-file"): (lambda i: {}, True),
    ("GET", "/api/v1/exports/sboms/{sbom_id}/compliance-report"): (
        lambda i: {"params": {"format": "html"}},
        True,
    ),
    ("POST", "/api/v1/ci/upload"): (
        lambda i: {
            "files": {"file": ("s.json", _sbom_bytes(), "application/json")},
            "data": {
                "product": i.product_slug,
                "version": i.version_number,
                "artifact_type": "sbom",
                "create_product": "false",
                "create_version": "false",
                "scan": "false",
            },
        },
        True,
    ),
    ("GET", "/api/v1/ci/status"): (
        lambda i: {"params": {"product": i.product_slug, "version": i.version_number}},
        True,
    ),
    ("POST", "/api/v1/ci/scan"): (
        lambda i: {"data": {"product": i.product_slug, "version": i.version_number}},
        True,
    ),
    ("POST", "/api/v1/ci/release-state"): (
        lambda i: {
            "data": {
                "product": i.product_slug,
                "version": i.version_number,
                "state": "pending_review",
            }
        },
        True,
    ),
    ("GET", "/api/v1/ci/compare"): (
        lambda i: {
            "params": {"product": i.product_slug, "version_a": "0.9.0", "version_b": "1.0.0"}
        },
        True,
    ),
    ("GET", "/api/v1/ci/export"): (
        lambda i: {
            "params": {
                "product": i.product_slug,
                "version": i.version_number,
                "format": "sbom-data",
            }
        },
        True,
    ),
    ("POST", "/_sandbox/osv"): (
        lambda i: {"json": {"id": "X-1", "affected": []}},
        False,
    ),
    ("POST", "/_sandbox/kev"): (lambda i: {"json": {"cve_ids": ["CVE-2026-0001"]}}, False),
    ("POST", "/_sandbox/scan-faults"): (
        lambda i: {"json": {"product": i.product_slug, "mode": "off"}},
        True,
    ),
    ("POST", "/_sandbox/organisations"): (lambda i: {"json": {"name": "evil"}}, False),
    ("GET", "/_sandbox/audit"): (lambda i: {"params": {"product": i.product_slug}}, True),
}


@dataclass
class Tenants:
    sandbox: RunningSandbox
    ids: Ids
    other_key: str  # full access, organisation B
    useless_key: str  # organisation A, a scope no route needs
    routes: list[tuple[str, str]]

    def call(self, key: str | None, method: str, template: str) -> httpx.Response:
        build, _ = REQUESTS[(method, template)]
        path = template.format(**vars(self.ids))
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return httpx.request(
            method, self.sandbox.url + path, headers=headers, timeout=30, **build(self.ids)
        )


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 400, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenants]:
    data_dir: Path = tmp_path_factory.mktemp("access-sandbox")
    with start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=data_dir) as sandbox:
        owner = httpx.Client(
            base_url=sandbox.api_url,
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
            timeout=30,
        )
        slug = f"org-a-{uuid.uuid4().hex[:8]}"
        product = _ok(owner.post("/products", json={"name": "A", "slug": slug}))
        older = _ok(owner.post("/versions", json={"product_id": product["id"],
                                                  "version_number": "0.9.0"}))  # fmt: skip
        version = _ok(owner.post("/versions", json={"product_id": product["id"],
                                                    "version_number": "1.0.0"}))  # fmt: skip
        for target in (older, version):
            sbom = _ok(
                owner.post(
                    "/sboms/ingest",
                    files={"file": ("a.json", _sbom_bytes(), "application/json")},
                    data={"version_id": target["id"], "auto_scan": "true"},
                )
            )
        vulns: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while not vulns and time.monotonic() < deadline:
            status = _ok(owner.get(f"/versions/{version['id']}/cra-status"))
            if status["scan_state"] in {"completed", "failed"}:
                vulns = _ok(owner.get("/vulnerabilities",
                                      params={"version_id": version["id"]}))["items"]  # fmt: skip
                break
            time.sleep(0.1)
        assert vulns, "requests 2.19.0 should match a bundled advisory"
        login = _ok(
            owner.post(
                "/auth/login",
                json={"email": sandbox.owner_email, "password": sandbox.owner_password},
            )
        )
        useless = _ok(
            owner.post(
                "/api-keys",
                json={"name": "useless", "scopes": ["firmware:read"]},
                headers={"Authorization": f"Bearer {login['access_token']}"},
            )
        )["key"]
        other = _ok(httpx.post(sandbox.url + "/_sandbox/organisations", json={"name": "B"},
                               headers={"Authorization": f"Bearer {sandbox.api_key}"}))  # fmt: skip
        doc = httpx.get(sandbox.url + "/openapi.json").json()
        routes = [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops]
        ids = Ids(product["id"], slug, version["id"], "1.0.0", older["id"], sbom["id"],
                  vulns[0]["id"])  # fmt: skip
        yield Tenants(sandbox, ids, other["api_key"], useless, routes)
        owner.close()


def _protected(tenants: Tenants) -> list[tuple[str, str]]:
    return [r for r in tenants.routes if r not in PUBLIC]


def test_every_route_is_covered(tenants: Tenants) -> None:
    assert len(tenants.routes) >= 30
    missing = [r for r in _protected(tenants) if r not in REQUESTS]
    assert missing == [], f"routes without an access test: {missing}"
    assert set(REQUESTS) <= set(tenants.routes), "REQUESTS names a route that no longer exists"


def _error_code(response: httpx.Response) -> str | None:
    try:
        code: str | None = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code


def test_every_protected_route_refuses_a_missing_key(tenants: Tenants) -> None:
    wrong = {}
    for method, template in _protected(tenants):
        response = tenants.call(None, method, template)
        if response.status_code != 401 or _error_code(response) != "AUTHENTICATION_REQUIRED":
            wrong[f"{method} {template}"] = (response.status_code, response.text[:120])
    assert wrong == {}


def test_every_protected_route_refuses_a_wrong_key(tenants: Tenants) -> None:
    wrong = {}
    bogus = "cra_" + "x" * 40
    for method, template in _protected(tenants):
        response = tenants.call(bogus, method, template)
        if response.status_code != 401:
            wrong[f"{method} {template}"] = (response.status_code, response.text[:120])
        assert bogus not in response.text
    assert wrong == {}


def test_every_protected_route_refuses_a_key_without_the_scope(tenants: Tenants) -> None:
    wrong = {}
    for method, template in _protected(tenants):
        response = tenants.call(tenants.useless_key, method, template)
        if response.status_code != 403 or _error_code(response) != "INSUFFICIENT_SCOPE":
            wrong[f"{method} {template}"] = (response.status_code, response.text[:120])
    assert wrong == {}


def test_another_organisations_resources_answer_404(tenants: Tenants) -> None:
    wrong = {}
    for method, template in _protected(tenants):
        _, foreign = REQUESTS[(method, template)]
        if not foreign:
            continue
        response = tenants.call(tenants.other_key, method, template)
        if response.status_code != 404 or _error_code(response) != "RESOURCE_NOT_FOUND":
            wrong[f"{method} {template}"] = (response.status_code, response.text[:120])
    assert wrong == {}


def test_another_organisation_lists_none_of_our_resources(tenants: Tenants) -> None:
    headers = {"Authorization": f"Bearer {tenants.other_key}"}
    api = tenants.sandbox.api_url
    products = httpx.get(f"{api}/products", headers=headers, params={"per_page": 100}).json()
    assert tenants.ids.product_id not in json.dumps(products)
    by_slug = httpx.get(f"{api}/products", headers=headers,
                        params={"slug": tenants.ids.product_slug}).json()  # fmt: skip
    assert by_slug["items"] == [] if isinstance(by_slug, dict) else by_slug == []
    vulns = httpx.get(f"{api}/vulnerabilities", headers=headers, params={"per_page": 100}).json()
    assert tenants.ids.vuln_id not in json.dumps(vulns)
    filtered = httpx.get(f"{api}/vulnerabilities", headers=headers,
                         params={"version_id": tenants.ids.version_id})  # fmt: skip
    assert filtered.status_code in {200, 404}, filtered.text
    if filtered.status_code == 200:
        assert filtered.json()["items"] == []
    audit = httpx.get(tenants.sandbox.url + "/_sandbox/audit", headers=headers).json()
    assert tenants.ids.product_id not in json.dumps(audit)
