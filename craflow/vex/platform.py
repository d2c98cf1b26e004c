"""The VEX layer against the CRA Evidence API: read findings, apply changes, upload VEX.

Plain functions over a `CraEvidenceClient` (no Prefect), so the release flow and the
commands call the same code. Every change goes through `PATCH /vulnerabilities/{id}`.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path

from craflow.api import CraEvidenceClient
from craflow.api.models import ArtifactUpload, Vulnerability
from craflow.vex.carry import CarryResult
from craflow.vex.matching import Change
from craflow.vex.model import Finding


def finding_from_api(vuln: Vulnerability) -> Finding:
    component = vuln.component
    return Finding(
        id=vuln.id,
        vuln_id=vuln.vuln_id or vuln.id,
        component_name=(component.name if component else None) or "",
        component_version=(component.version if component else None) or "",
        purl=component.purl if component else None,
        aliases=tuple(vuln.aliases),
        status=vuln.status or "open",
        justification=vuln.justification,
        notes=vuln.notes,
        severity=vuln.severity,
        kev=vuln.kev,
    )


def load_findings(client: CraEvidenceClient, version_id: str) -> list[Finding]:
    """Every finding of a version (all pages), in the platform's vocabulary."""
    return [
        finding_from_api(v)
        for v in client.list_vulnerabilities(version_id=version_id, per_page=100)
    ]


def apply_changes(client: CraEvidenceClient, changes: Iterable[Change]) -> list[Finding]:
    """PATCH every change; return the findings as the server now has them."""
    updated = []
    for change in changes:
        vuln = client.triage_vulnerability(
            change.finding.id,
            status=change.status,
            justification=change.justification,
            notes=change.note,
        )
        updated.append(finding_from_api(vuln))
    return updated


def apply_carry(client: CraEvidenceClient, result: CarryResult) -> list[Finding]:
    """Apply what `compute_carry` decided (only `carried`; the rest is for people)."""
    return apply_changes(client, result.carried)


def upload_vex(client: CraEvidenceClient, product: str, version: str, path: Path) -> ArtifactUpload:
    """Store a VEX document on the version (`/ci/upload artifact_type=vex`)."""
    return client.upload_vex(product, version, path)


class PlatformTriage:
    """Findings and triage of a product's versions through the API (for the incident hook)."""

    def __init__(self, client: CraEvidenceClient) -> None:
        self._client = client

    def version_findings(self, product: str, version: str) -> list[Finding]:
        """Every finding of *product* *version*; none when either does not exist."""
        found = self._client.find_product(product)
        ver = self._client.find_version(found.id, version) if found is not None else None
        return load_findings(self._client, ver.id) if ver is not None else []

    def apply(self, changes: Sequence[Change]) -> list[Finding]:
        return apply_changes(self._client, changes)
