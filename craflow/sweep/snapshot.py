"""What one sweep saw of each version, in a shape that round-trips through JSON.

A sweep stores one `SweepSnapshot` in the evidence archive
(`sweeps/{date}-{run id}/snapshot.json`); the next sweep compares against it.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_FORMAT: Literal[1] = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class VulnerabilityHit(_Frozen):
    """One open vulnerability of one component of a version."""

    vuln_id: str
    severity: str = "unknown"
    kev: bool = False
    component: str = ""
    component_version: str | None = None
    purl: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Identity across sweeps: the advisory and the component it hits (not its version)."""
        return (self.vuln_id, self.component)


class SeverityCounts(_Frozen):
    """Open vulnerabilities by severity, as the API's CRA status reports them."""

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0


class VersionSnapshot(_Frozen):
    """One version as a sweep saw it.

    When a rescan fails, `error` says why and the vulnerability data is carried
    over from the previous sweep (`has_data` stays what it was), so a failure
    never turns into a flood of "new" or "resolved" findings next time.
    """

    product: str
    version: str
    version_id: str
    release_state: str | None = None
    cra_status: str | None = None
    scan_state: str | None = None
    counts: SeverityCounts = Field(default_factory=SeverityCounts)
    kev_count: int = 0
    vulnerabilities: tuple[VulnerabilityHit, ...] = ()
    has_data: bool = True
    error: str | None = None

    @property
    def key(self) -> str:
        return version_key(self.product, self.version)


def version_key(product: str, version: str) -> str:
    """The key of a version in a snapshot: `product-slug/version-number`."""
    return f"{product}/{version}"


def carry_forward(
    previous: VersionSnapshot | None,
    *,
    product: str,
    version: str,
    version_id: str,
    release_state: str | None,
    error: str,
) -> VersionSnapshot:
    """The snapshot of a version whose check failed: last known data plus the error."""
    if previous is None:
        return VersionSnapshot(
            product=product,
            version=version,
            version_id=version_id,
            release_state=release_state,
            has_data=False,
            error=error,
        )
    return previous.model_copy(
        update={"version_id": version_id, "release_state": release_state, "error": error}
    )


class SweepSnapshot(_Frozen):
    """Everything one sweep saw, keyed by version."""

    format: Literal[1] = SNAPSHOT_FORMAT
    run_id: str
    taken_at: datetime
    versions: tuple[VersionSnapshot, ...] = ()

    def index(self) -> dict[str, VersionSnapshot]:
        return {v.key: v for v in self.versions}

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> "SweepSnapshot":
        return cls.model_validate(data)
