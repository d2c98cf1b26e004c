"""What one release run was asked (its request, resolved) and has learned so far.

`ReleaseRun` is filled step by step by the release flow; `outcome()` turns it into
the `ReleaseOutcome` the run ends with. Every fact is a typed attribute.
"""

import re
from dataclasses import dataclass

from craflow.api import Comparison, CraStatus, Version
from craflow.evidence.uri import Location
from craflow.release.gate import GatePolicy, GateVerdict
from craflow.release.outcome import ReleaseOutcome, Verdict
from craflow.release.request import ReleaseRequest

_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def artifact_key(*parts: str) -> str:
    """A valid Prefect artifact key from *parts*: lowercase, digits, dashes (`1.2.0` → `1-2-0`)."""
    key = _NOT_ALLOWED.sub("-", "-".join(parts).lower()).strip("-")
    return key or "craflow"


@dataclass
class ReleaseRun:
    """The request with its defaults resolved at run start, and the facts learned so far."""

    request: ReleaseRequest
    policy: GatePolicy
    promote: str | None
    archive: Location | None
    ci: dict[str, str]
    run_id: str = "local"
    sbom_sha256: str | None = None
    quality_score: float | None = None
    product_id: str | None = None
    version: Version | None = None
    previous: Version | None = None
    sbom_id: str | None = None
    uploaded: bool = False
    status: CraStatus | None = None
    gate: GateVerdict | None = None
    comparison: Comparison | None = None
    promoted_to: str | None = None
    deprecated_previous: bool = False
    archive_uri: str | None = None
    exported: bool = False
    carry_triage: bool = True
    triage_carried: str | None = None  # "3 carried from 1.4.0, 1 needs review"

    @property
    def product(self) -> str:
        return self.request.product

    @property
    def version_number(self) -> str:
        return self.request.version

    def key(self, *parts: str) -> str:
        """An artifact key of this run: `release-<product>-<version>-<parts>`."""
        return artifact_key("release", self.product, self.version_number, *parts)

    def outcome(
        self, verdict: Verdict, exit_code: int, reasons: list[str], *, error: str | None = None
    ) -> ReleaseOutcome:
        """The outcome with everything learned so far."""
        prior = self.previous
        status = self.status
        return ReleaseOutcome(
            product=self.product,
            version=self.version_number,
            verdict=verdict,
            exit_code=exit_code,
            reasons=reasons,
            product_id=self.product_id,
            version_id=self.version.id if self.version is not None else None,
            previous_version=prior.version_number if prior is not None else None,
            previous_version_id=prior.id if prior is not None else None,
            sbom_id=self.sbom_id,
            sbom_sha256=self.sbom_sha256,
            uploaded=self.uploaded,
            scan_state=(status.scan_state or "none").lower() if status is not None else None,
            promoted_to=self.promoted_to,
            deprecated_previous=self.deprecated_previous,
            archive_uri=self.archive_uri,
            exported=self.exported,
            triage_carried=self.triage_carried,
            ci=self.ci,
            error=error,
        )

    def record(self) -> dict[str, object]:
        """`release.json`: the request and the facts, as the archive keeps them."""
        return {
            "request": self.request.model_dump(mode="json"),
            "gate_policy": self.policy.describe(),
            "ci": self.ci,
            **self.outcome("passed", 0, []).model_dump(
                mode="json", exclude={"verdict", "exit_code", "reasons", "ci", "error"}
            ),
        }
