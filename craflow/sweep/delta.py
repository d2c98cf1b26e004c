"""What changed for one version between two sweeps."""

from pydantic import BaseModel, ConfigDict

from craflow.sweep.snapshot import VersionSnapshot, VulnerabilityHit


class StatusChange(BaseModel):
    """A CRA status that moved, e.g. `ready` → `incomplete`."""

    model_config = ConfigDict(frozen=True)

    before: str | None
    after: str | None


class VersionDelta(BaseModel):
    """The changes of one version since the previous sweep.

    `baseline` is True when the previous sweep has no usable data for the
    version (first sweep, or it had never been read successfully): then no
    vulnerability counts as new or resolved, but every KEV hit counts as a new
    KEV entry, because nobody has been told about it yet.
    """

    model_config = ConfigDict(frozen=True)

    product: str
    version: str
    baseline: bool = False
    new: tuple[VulnerabilityHit, ...] = ()
    resolved: tuple[VulnerabilityHit, ...] = ()
    new_kev: tuple[VulnerabilityHit, ...] = ()
    cra_status: StatusChange | None = None
    scan_failure: str | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.new or self.resolved or self.new_kev or self.cra_status or self.scan_failure
        )


def _sorted(hits: list[VulnerabilityHit]) -> tuple[VulnerabilityHit, ...]:
    return tuple(sorted(hits, key=lambda h: (h.vuln_id, h.component)))


def compute_delta(previous: VersionSnapshot | None, current: VersionSnapshot) -> VersionDelta:
    """Compare *current* with the *previous* sweep's snapshot of the same version."""
    if current.error is not None:
        return VersionDelta(
            product=current.product,
            version=current.version,
            baseline=previous is None or not previous.has_data,
            scan_failure=current.error,
        )
    if previous is None or not previous.has_data:
        return VersionDelta(
            product=current.product,
            version=current.version,
            baseline=True,
            new_kev=_sorted([h for h in current.vulnerabilities if h.kev]),
        )
    before = {h.key: h for h in previous.vulnerabilities}
    after = {h.key: h for h in current.vulnerabilities}
    kev_before = {h.key for h in previous.vulnerabilities if h.kev}
    status = (
        StatusChange(before=previous.cra_status, after=current.cra_status)
        if previous.cra_status != current.cra_status
        else None
    )
    return VersionDelta(
        product=current.product,
        version=current.version,
        new=_sorted([h for k, h in after.items() if k not in before]),
        resolved=_sorted([h for k, h in before.items() if k not in after]),
        new_kev=_sorted([h for k, h in after.items() if h.kev and k not in kev_before]),
        cra_status=status,
    )
