"""Sweep tasks: pick the versions, re-check one version, keep snapshots, emit events.

`check_version` is the whole rescan → poll → read chain of one version as a plain
function (clock and sleep injected), and `check_version_task` is its coarse task:
one task run per version keeps the Prefect server from drowning in tiny tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NONE
from prefect.events import emit_event

from config.api import PollSettings
from config.sweep import SweepSettings
from craflow.api.errors import CraEvidenceError, NotFoundError
from craflow.api.models import Sbom, Vulnerability
from craflow.api.polling import TERMINAL_SCAN_STATES, PollSchedule, scan_poller
from craflow.evidence import open_archive
from craflow.evidence.uri import Location
from craflow.incident import KevHit, ReleasedVersion
from craflow.release.vocabulary import is_open
from craflow.sweep import (
    ProductFailure,
    SeverityCounts,
    SweepSnapshot,
    TargetSelection,
    VersionDelta,
    VersionSnapshot,
    VersionTarget,
    VulnerabilityHit,
    select_slugs,
)
from tasks.client import current_client
from tasks.events import KEV_DETECTED, VERSION_CHANGED, product_resource
from tasks.incident import kev_hit_from_vulnerability, released_version
from tasks.retry import api_task

if TYPE_CHECKING:
    from craflow.api import CraEvidenceClient


class VersionCheckError(CraEvidenceError):
    """A version's rescan did not give a usable result (failed, disabled or timed out)."""


def select_targets(
    client: CraEvidenceClient, products: Sequence[str] | None, states: Sequence[str]
) -> TargetSelection:
    """List products, keep the selected ones, and list their versions in *states*."""
    wanted_states = set(states)
    by_slug = {p.slug or p.id: p for p in client.list_products()}
    chosen, unmatched = select_slugs(by_slug, products)
    targets: list[VersionTarget] = []
    listed: list[str] = []
    failed: list[ProductFailure] = []
    for slug in chosen:
        product = by_slug[slug]
        try:
            versions = list(client.list_versions(product.id))
        except CraEvidenceError as exc:  # one product's listing never stops the others
            failed.append(ProductFailure(product=slug, reason=f"listing versions: {exc}"))
            continue
        listed.append(slug)
        targets.extend(
            VersionTarget(
                product=slug,
                product_id=product.id,
                version=version.version_number,
                version_id=version.id,
                release_state=version.release_state,
            )
            for version in versions
            if version.release_state in wanted_states
        )
    return TargetSelection(
        targets=tuple(targets),
        products=tuple(listed),
        unmatched=tuple(unmatched),
        failed=tuple(failed),
    )


@api_task(name="select-sweep-targets")
def select_targets_task(products: list[str] | None, states: list[str]) -> TargetSelection:
    """The versions to check, through the flow run's client."""
    return select_targets(current_client(), products, states)


def _hit(vuln: Vulnerability) -> VulnerabilityHit:
    component = vuln.component
    return VulnerabilityHit(
        vuln_id=vuln.vuln_id or vuln.id,
        severity=vuln.severity or "unknown",
        kev=bool(vuln.kev),
        component=(component.name or "") if component is not None else "",
        component_version=component.version if component is not None else None,
        purl=component.purl if component is not None else None,
    )


def check_version(
    client: CraEvidenceClient,
    target: VersionTarget,
    settings: SweepSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> VersionSnapshot:
    """Rescan one version, wait for a terminal scan state, read its status and open findings.

    Raises `VersionCheckError` when the scan failed, is disabled or outlives
    `settings.poll_timeout_seconds`; API errors propagate.
    """
    trigger = client.trigger_scan(target.version_id)
    if trigger.status == "disabled":
        raise VersionCheckError(f"scanning is disabled for {target.version}")
    interval = settings.poll_interval_seconds
    started = trigger.status.lower() not in TERMINAL_SCAN_STATES
    waited = scan_poller(PollSettings(), client).wait(
        lambda: client.get_cra_status(target.version_id),
        PollSchedule(interval, interval, jitter=0.0, deadline=settings.poll_timeout_seconds),
        clock=clock,
        sleep=sleep,
        # a scan just started: last night's wait on this version knows its scope up front
        version_id=target.version_id if started else None,
    )
    status = waited.value
    if not waited.done:
        raise VersionCheckError(
            f"scan of {target.version} still {status.scan_state} after "
            f"{settings.poll_timeout_seconds:g} s"
        )
    if status.scan_state != "completed":
        raise VersionCheckError(f"scan {status.scan_state} on {target.version}")
    hits = [
        _hit(v)
        for v in client.list_vulnerabilities(
            version_id=target.version_id, per_page=settings.vulnerabilities_per_page
        )
        if is_open(v.status)
    ]
    summary = status.vulnerability_summary
    return VersionSnapshot(
        product=target.product,
        version=target.version,
        version_id=target.version_id,
        release_state=status.release_state or target.release_state,
        cra_status=status.cra_status,
        scan_state=status.scan_state,
        counts=SeverityCounts(
            critical=summary.critical, high=summary.high, medium=summary.medium, low=summary.low
        )
        if summary is not None
        else SeverityCounts(),
        kev_count=status.kev_count or 0,
        vulnerabilities=tuple(sorted(hits, key=lambda h: h.key)),
    )


@api_task(name="check-version", task_run_name="check-{target.product}-{target.version}")
def check_version_task(target: VersionTarget, settings: SweepSettings) -> VersionSnapshot:
    """`check_version` through the flow run's client (one task run per version)."""
    return check_version(current_client(), target, settings)


@task(name="load-previous-sweep", cache_policy=NONE)
def load_previous_snapshot_task(archive: Location) -> SweepSnapshot | None:
    """The newest snapshot in the archive, or None on the first sweep."""
    data = open_archive(archive).latest_sweep_snapshot()
    return None if data is None else SweepSnapshot.from_json_dict(data)


@task(name="write-sweep-snapshot", cache_policy=NONE)
def write_snapshot_task(archive: Location, snapshot: SweepSnapshot) -> str:
    """Store *snapshot* as `sweeps/{date}-{run id}/snapshot.json`; returns its URI."""
    return open_archive(archive).write_sweep_snapshot(
        snapshot.run_id, snapshot.to_json_dict(), at=snapshot.taken_at
    )


def _version_related(product: str, version: str) -> list[dict[str, str]]:
    return [
        {
            "prefect.resource.id": f"craflow.version.{product}.{version}",
            "prefect.resource.role": "version",
            "craflow.version": version,
        }
    ]


def change_payload(delta: VersionDelta) -> dict[str, object]:
    """The payload of `craflow.version.changed`: what changed, by id."""
    return {
        "product": delta.product,
        "version": delta.version,
        "baseline": delta.baseline,
        "new": [h.vuln_id for h in delta.new],
        "resolved": [h.vuln_id for h in delta.resolved],
        "new_kev": [h.vuln_id for h in delta.new_kev],
        "cra_status": None
        if delta.cra_status is None
        else {"before": delta.cra_status.before, "after": delta.cra_status.after},
        "scan_failure": delta.scan_failure,
    }


def emit_sweep_events(deltas: Iterable[VersionDelta], *, run_id: str) -> tuple[int, int]:
    """Emit `craflow.version.changed` per changed version, `craflow.kev.detected` per new KEV hit.

    Returns (changed events, KEV events).
    """
    changed = kev = 0
    for delta in deltas:
        if not delta.changed:
            continue
        related = _version_related(delta.product, delta.version)
        emit_event(
            VERSION_CHANGED,
            resource=product_resource(delta.product),
            related=related,
            payload={**change_payload(delta), "sweep_run_id": run_id},
        )
        changed += 1
        for hit in delta.new_kev:
            emit_event(
                KEV_DETECTED,
                resource=product_resource(delta.product),
                related=related,
                payload={
                    "product": delta.product,
                    "version": delta.version,
                    "vulnerability_id": hit.vuln_id,
                    "component": hit.component,
                    "component_version": hit.component_version,
                    "purl": hit.purl,
                    "severity": hit.severity,
                    "detected_at": datetime.now(UTC).isoformat(),
                    "sweep_run_id": run_id,
                },
            )
            kev += 1
    return changed, kev


def describe_failure(exc: BaseException) -> str:
    """One line for a failed version check; never a traceback."""
    if isinstance(exc, NotFoundError):
        return f"not found: {exc}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class UnknownVersionError(CraEvidenceError):
    """A product slug or version number that the API does not know."""


def locate_version(client: CraEvidenceClient, product: str, version: str) -> VersionTarget:
    """The ids of *product* (slug) and its *version* (number); a clear error when unknown."""
    found = client.find_product(product)
    if found is None:
        raise UnknownVersionError(f"no product with slug {product!r}")
    ver = client.find_version(found.id, version)
    if ver is None:
        raise UnknownVersionError(f"product {product!r} has no version {version!r}")
    return VersionTarget(
        product=product,
        product_id=found.id,
        version=ver.version_number,
        version_id=ver.id,
        release_state=ver.release_state,
    )


@api_task(name="locate-version", task_run_name="locate-{product}-{version}")
def locate_version_task(product: str, version: str) -> VersionTarget:
    """`locate_version` through the flow run's client (finds, never creates)."""
    return locate_version(current_client(), product, version)


@api_task(name="latest-sbom")
def latest_sbom_task(version_id: str) -> Sbom | None:
    """The version's most recently uploaded SBOM, or None when it has none."""
    sboms = list(current_client().list_sboms(version_id))
    if not sboms:
        return None
    return max(sboms, key=lambda s: (s.created_at is not None, s.created_at or 0, s.id))


@dataclass(frozen=True)
class KevCaseInputs:
    """What `open_cases_for_kev_hits` needs: the KEV hits and each product's released versions."""

    hits: tuple[KevHit, ...] = ()
    released: Mapping[str, tuple[ReleasedVersion, ...]] = field(default_factory=dict)


def kev_case_inputs(client: CraEvidenceClient, products: Sequence[str]) -> KevCaseInputs:
    """Each KEV-listed open finding on a released version of *products*, and their released
    versions (listing order) with the findings on each."""
    hits: list[KevHit] = []
    released: dict[str, tuple[ReleasedVersion, ...]] = {}
    for slug in products:
        product = client.find_product(slug)
        if product is None:
            continue
        versions: list[ReleasedVersion] = []
        for version in client.list_versions(product.id):
            if version.release_state != "released":
                continue
            findings = [
                f for f in client.list_vulnerabilities(version_id=version.id) if is_open(f.status)
            ]
            versions.append(released_version(version.version_number, findings))
            hits.extend(
                kev_hit_from_vulnerability(product, version.version_number, f)
                for f in findings
                if f.kev
            )
        released[slug] = tuple(versions)
    return KevCaseInputs(hits=tuple(hits), released=released)


@api_task(name="kev-case-inputs")
def kev_case_inputs_task(products: list[str]) -> KevCaseInputs:
    """`kev_case_inputs` through the flow run's client."""
    return kev_case_inputs(current_client(), products)
