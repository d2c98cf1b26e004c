"""Thin tasks of the Art. 14 clock: load cases, send a notice, open cases for KEV hits."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from config.evidence import EvidenceSettings
from craflow.api.models import Product, Vulnerability
from craflow.evidence.open import store_for
from craflow.incident import (
    Case,
    CaseBook,
    CaseStore,
    ComponentRef,
    KevHit,
    Notice,
    ReleasedVersion,
    VulnerabilityFacts,
    open_cases,
    record_notice,
)
from craflow.release.vocabulary import is_open
from tasks.client import current_client
from tasks.events import product_resource
from tasks.retry import api_task

#: the states of a version placed on the market: its findings make it an affected version
RELEASED_STATES = frozenset({"released", "deprecated"})


def open_book(archive: str | None) -> CaseBook:
    """The case book in `archive` (default: the evidence destination), settings read now."""
    settings = EvidenceSettings()
    store, prefix = store_for(archive or settings.destination, settings)
    return CaseBook(CaseStore(store, prefix))


@task(name="load-cases", cache_policy=NO_CACHE)
def load_cases(archive: str | None) -> list[Case]:
    """Every stored case, open and closed (closed ones may still owe `craflow.case.closed`)."""
    return open_book(archive).cases()


@task(name="send-case-notice", cache_policy=NO_CACHE)
def send_notice(archive: str | None, notice: Notice) -> None:
    """Emit the notice's event, then remember it in the case history (at least once)."""
    emit_event(
        event=notice.event,
        resource=product_resource(notice.product),
        related=[
            {
                "prefect.resource.id": f"craflow.case.{notice.case_id}",
                "prefect.resource.role": "case",
            }
        ],
        payload=notice.payload(),
    )
    record_notice(open_book(archive), notice)


@task(name="open-kev-cases", cache_policy=NO_CACHE)
def open_kev_cases(
    archive: str | None,
    hits: Sequence[KevHit],
    released: Mapping[str, Sequence[ReleasedVersion]],
) -> list[Case]:
    """Open (once) the case of each KEV hit; return the cases, newly opened or not."""
    return [result.case for result in open_cases(open_book(archive), hits, released)]


def kev_hit_from_vulnerability(
    product: Product, version: str, vulnerability: Vulnerability
) -> KevHit:
    """A `KevHit` from the API's records of the product and of the KEV-listed finding."""
    component = vulnerability.component
    facts = VulnerabilityFacts(
        aliases=tuple(vulnerability.aliases),
        summary=vulnerability.summary,
        severity=vulnerability.severity,
        cvss_score=vulnerability.cvss_score,
        fixed_upstream=tuple(vulnerability.fixed_versions),
        component=ComponentRef(name=component.name, version=component.version, purl=component.purl)
        if component
        else None,
    )
    return KevHit(
        product=product.slug or product.id,
        vulnerability=vulnerability.vuln_id or vulnerability.id,
        version=version,
        product_name=product.name,
        target_markets=tuple(product.target_markets),
        facts=facts,
    )


def released_version(number: str, findings: Sequence[Vulnerability]) -> ReleasedVersion:
    """A `ReleasedVersion` from the findings the API lists for it (ids and aliases)."""
    ids = {i for f in findings for i in (f.vuln_id, *f.aliases) if i}
    return ReleasedVersion(number, frozenset(ids))


@dataclass(frozen=True)
class KevSighting:
    """What a release saw: the version's open KEV hits and the product's released versions."""

    hits: tuple[KevHit, ...]
    released: tuple[ReleasedVersion, ...]


@api_task(name="collect-kev-hits")
def collect_kev_hits(product_id: str, version_id: str, version_number: str) -> KevSighting:
    """The open KEV-listed findings of the version, as hits, and the product's released
    versions (oldest first) with the ids found on each.

    The version itself counts as released only when its state, read now, says so.
    """
    client = current_client()
    kev = [
        v
        for v in client.list_vulnerabilities(version_id=version_id, kev=True, per_page=100)
        if v.kev and is_open(v.status or "open")
    ]
    if not kev:
        return KevSighting((), ())
    product = client.get_product(product_id)
    versions = list(client.list_versions(product_id, per_page=100))
    released = tuple(
        released_version(
            v.version_number,
            list(client.list_vulnerabilities(version_id=v.id, per_page=100)),
        )
        for v in versions
        if (v.release_state or "") in RELEASED_STATES
    )
    own = any(r.number == version_number for r in released)
    hits = tuple(
        replace(kev_hit_from_vulnerability(product, version_number, v), version_released=own)
        for v in kev
    )
    return KevSighting(hits, released)


__all__ = [
    "RELEASED_STATES",
    "KevSighting",
    "collect_kev_hits",
    "kev_hit_from_vulnerability",
    "load_cases",
    "open_book",
    "open_kev_cases",
    "released_version",
    "send_notice",
]
