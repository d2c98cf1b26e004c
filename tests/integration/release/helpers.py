"""Helpers of the release-flow tests: a BOM writer and a thin sandbox client."""

import json
from pathlib import Path
from typing import Any

import httpx

from craflow.sandbox.runner import RunningSandbox


def write_bom(path: Path, product: str, version: str, components: dict[str, str]) -> Path:
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "metadata": {
                    "component": {"type": "application", "name": product, "version": version}
                },
                "components": [
                    {"type": "library", "name": n, "version": v, "purl": f"pkg:pypi/{n}@{v}"}
                    for n, v in components.items()
                ],
            }
        )
    )
    return path


def items(response: httpx.Response) -> list[dict[str, Any]]:
    response.raise_for_status()
    body = response.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


class Sandbox:
    def __init__(self, running: RunningSandbox) -> None:
        self.running = running
        self.http = httpx.Client(
            base_url=running.url, headers={"Authorization": f"Bearer {running.api_key}"}
        )

    def post(self, path: str, body: object) -> None:
        self.http.post(path, json=body).raise_for_status()

    def audit(self, product: str) -> list[dict[str, Any]]:
        response = self.http.get("/_sandbox/audit", params={"product": product})
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()
        return events

    def version(self, product: str, number: str) -> dict[str, Any]:
        products = items(
            self.http.get(f"{self.running.api_url}/products", params={"slug": product})
        )
        product_id = products[0]["id"]
        versions = items(self.http.get(f"{self.running.api_url}/products/{product_id}/versions"))
        found: dict[str, Any] = next(v for v in versions if v["version_number"] == number)
        return found

    def findings(self, product: str, number: str) -> list[dict[str, Any]]:
        version_id = self.version(product, number)["id"]
        return items(
            self.http.get(
                f"{self.running.api_url}/vulnerabilities",
                params={"version_id": version_id, "per_page": 100},
            )
        )

    def triage(self, finding_id: str, status: str, justification: str | None = None) -> None:
        body = {"status": status, "notes": "triaged by a person"}
        if justification is not None:
            body["justification"] = justification
        response = self.http.patch(
            f"{self.running.api_url}/vulnerabilities/{finding_id}", json=body
        )
        response.raise_for_status()

    def rescan(self, product: str, number: str, timeout: float = 60.0) -> None:
        """Scan the version again (as a sweep does) and wait until the scan is over."""
        import time

        self.http.post(
            f"{self.running.api_url}/ci/scan", data={"product": product, "version": number}
        ).raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.http.get(
                f"{self.running.api_url}/ci/status", params={"product": product, "version": number}
            ).json()
            if str(status.get("scan_state", "")).lower() in {"completed", "failed"}:
                return
            time.sleep(0.1)
        raise AssertionError(f"scan of {product} {number} did not finish")
