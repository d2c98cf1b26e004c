"""From KEV hits to cases: which released versions are affected, which one fixes it.

The sweep and the release see a released version hitting a CISA KEV entry. They
pass typed values here (no Prefect, no API): the hit, and the product's released
versions with the vulnerability ids the platform matched on each (the platform
matches each SBOM's components against the affected ranges, so "the finding is
on the version" is "its SBOM contains the component at an affected version").
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from craflow.incident.book import CaseBook, CaseOpening, OpenResult
from craflow.incident.model import VulnerabilityFacts


@dataclass(frozen=True)
class ReleasedVersion:
    """One released version of a product and the vulnerability ids found on it."""

    number: str
    vulnerability_ids: frozenset[str]  # ids and aliases of every finding on the version
    released_at: datetime | None = None


@dataclass(frozen=True)
class KevHit:
    """A KEV-listed finding on a released version, as the sweep or a release saw it."""

    product: str
    vulnerability: str
    version: str
    product_name: str | None = None
    target_markets: Sequence[str] = ()
    facts: VulnerabilityFacts = field(default_factory=VulnerabilityFacts)
    seen_at: datetime | None = None  # default: now
    #: False when a release saw the hit on a version not (yet) released: it is then
    #: not an affected *released* version, only the released ones carrying it are
    version_released: bool = True


def _ids(hit: KevHit) -> set[str]:
    return {hit.vulnerability, *hit.facts.aliases}


def affected_versions(hit: KevHit, released: Sequence[ReleasedVersion]) -> list[str]:
    """Every released version carrying the vulnerability (and the hit's own, if released)."""
    ids = _ids(hit)
    found = [v.number for v in released if ids & v.vulnerability_ids]
    if hit.version in found or not hit.version_released:
        return found
    return [*found, hit.version]


def fixing_version(hit: KevHit, released: Sequence[ReleasedVersion]) -> ReleasedVersion | None:
    """The first released version after the last affected one that no longer carries it.

    `released` is oldest first, as the product's version list gives it.
    """
    ids = _ids(hit)
    last = max(
        (i for i, v in enumerate(released) if ids & v.vulnerability_ids or v.number == hit.version),
        default=None,
    )
    if last is None:
        return None
    return next((v for v in released[last + 1 :] if not ids & v.vulnerability_ids), None)


def open_cases(
    book: CaseBook,
    hits: Sequence[KevHit],
    released: Mapping[str, Sequence[ReleasedVersion]],
) -> list[OpenResult]:
    """Open (once) the case of each hit, add affected versions, record a released fix.

    `released` maps each product slug to its released versions, oldest first.
    """
    results = []
    for hit in hits:
        versions = released.get(hit.product, ())
        result = book.open(
            CaseOpening(
                product=hit.product,
                vulnerability=hit.vulnerability,
                source="kev",
                product_name=hit.product_name,
                affected_versions=affected_versions(hit, versions),
                target_markets=hit.target_markets,
                facts=hit.facts,
                became_aware_at=hit.seen_at,
            )
        )
        fix = fixing_version(hit, versions)
        if fix is not None and result.case.is_open and result.case.fix is None:
            case = book.fix_released(result.case.case_id, fix.number, fix.released_at)
            result = OpenResult(case, result.created)
        results.append(result)
    return results
