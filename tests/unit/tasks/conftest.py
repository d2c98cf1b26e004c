"""A fake CRA Evidence client for the task tests, registered as the current client."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from craflow.api import CraStatus, IngestResult, Product, Sbom, ScanInfo, ScanTrigger, Version
from tasks.client import register_client


class FakeClient:
    """Keeps versions, SBOMs and CRA status in memory and records every write."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, Any]] = []
        self.sboms: list[Sbom] = []
        self.versions: dict[str, Version] = {}
        self.statuses: list[CraStatus] = [CraStatus(scan_state="none")]
        self.auto_scan_status: str | None = "pending"

    # products and versions
    def find_or_create_product(self, slug: str, *, name: str | None = None) -> Product:
        return Product(id="p1", name=name or slug, slug=slug)

    def add_version(self, number: str, state: str = "draft", vid: str | None = None) -> Version:
        version = Version(
            id=vid or f"v-{number}", product_id="p1", version_number=number, release_state=state
        )
        self.versions[version.id] = version
        return version

    def list_versions(self, product_id: str) -> Iterator[Version]:
        return iter(list(self.versions.values()))

    def find_version(self, product_id: str, number: str) -> Version | None:
        return next((v for v in self.versions.values() if v.version_number == number), None)

    def set_release_state(
        self, version_id: str, state: str, *, superseded_by: str | None = None
    ) -> Version:
        self.writes.append(("release-state", (version_id, state, superseded_by)))
        version = self.versions[version_id].model_copy(update={"release_state": state})
        self.versions[version_id] = version
        return version

    # SBOMs and scans
    def list_sboms(self, version_id: str) -> Iterator[Sbom]:
        return iter(self.sboms)

    def ingest_sbom(self, version_id: str, path: Path, *, auto_scan: bool = True) -> IngestResult:
        self.writes.append(("ingest", (version_id, path.name)))
        sbom = Sbom(id=f"s{len(self.sboms) + 1}", version_id=version_id, sha256="ab" * 32)
        self.sboms.append(sbom)
        scan = (
            ScanInfo(scan_id="scan-1", status=self.auto_scan_status)
            if self.auto_scan_status
            else None
        )
        return IngestResult(sbom=sbom, scan=scan, request_id="req-1")

    def trigger_scan(self, version_id: str) -> ScanTrigger:
        self.writes.append(("scan", version_id))
        return ScanTrigger(scan_id="scan-2", status="pending")

    def get_cra_status(self, version_id: str) -> CraStatus:
        if len(self.statuses) > 1:
            return self.statuses.pop(0)
        return self.statuses[0]


@pytest.fixture
def fake_client() -> Iterator[FakeClient]:
    client = FakeClient()
    with register_client(client):  # type: ignore[arg-type]
        yield client
