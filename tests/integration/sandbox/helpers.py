"""Plain-httpx helpers for driving the sandbox (deliberately not craflow.api)."""

import json
import time
from pathlib import Path
from typing import Any

import httpx

from craflow.sandbox.runner import RunningSandbox

SBOMS = Path(__file__).resolve().parents[2] / "data" / "sboms"
POLL_SECONDS = 0.05
# Plain HTTP on loopback: verify=False only skips loading the CA bundle (~0.5 s a client).
NO_TLS: dict[str, Any] = {"verify": False, "timeout": 30}


def raw(sandbox: RunningSandbox | str) -> httpx.Client:
    """A client without credentials, rooted at the server (not /api/v1)."""
    url = sandbox if isinstance(sandbox, str) else sandbox.url
    return httpx.Client(base_url=url, **NO_TLS)


def client(sandbox: RunningSandbox, key: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.api_url,
        headers={"Authorization": f"Bearer {key or sandbox.api_key}"},
        **NO_TLS,
    )


def control(sandbox: RunningSandbox, key: str | None = None) -> httpx.Client:
    """A client for the sandbox-only `/_sandbox/*` endpoints."""
    return httpx.Client(
        base_url=sandbox.url + "/_sandbox",
        headers={"Authorization": f"Bearer {key or sandbox.api_key}"},
        **NO_TLS,
    )


def cyclonedx(*components: tuple[str, str, str]) -> bytes:
    """A small CycloneDX 1.5 JSON SBOM from (name, version, purl) triples."""
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "components": [{"name": n, "version": v, "purl": p} for n, v, p in components],
        }
    ).encode()


REQUESTS_2_19 = ("requests", "2.19.0", "pkg:pypi/requests@2.19.0")


def new_version(api: httpx.Client, slug: str, number: str = "1.0") -> tuple[str, str]:
    """(product_id, version_id), creating the product when needed."""
    found = api.get("/products", params={"slug": slug}).json()
    if found:
        product_id = found[0]["id"]
    else:
        created = api.post("/products", json={"name": slug, "slug": slug, "category": "default"})
        assert created.status_code == 201, created.text
        product_id = created.json()["id"]
    version = api.post("/versions", json={"product_id": product_id, "version_number": number})
    assert version.status_code == 201, version.text
    return product_id, version.json()["id"]


def ingest(
    api: httpx.Client,
    version_id: str,
    content: bytes,
    filename: str = "bom.json",
    auto_scan: bool = True,
) -> httpx.Response:
    return api.post(
        "/sboms/ingest",
        files={"file": (filename, content, "application/json")},
        data={"version_id": version_id, "auto_scan": str(auto_scan).lower()},
    )


def wait_scan(api: httpx.Client, version_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the CRA status until the scan is no longer pending or running."""
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = api.get(f"/versions/{version_id}/cra-status").json()
        if status["scan_state"] not in ("pending", "running") or time.monotonic() > deadline:
            return status
        time.sleep(POLL_SECONDS)
