"""The demo's triage and Art. 14 parts: a person's triage, a KEV entry appearing, the case.

Import this module only after `craflow.demo.environment.apply_environment` (like
`craflow.demo.pipeline`): the client and the case book read their settings from it.
"""

from dataclasses import dataclass
from pathlib import Path

import httpx
from prefect import flow

from config.api import ApiSettings
from config.deploy import DemoSettings
from config.incident import IncidentSettings
from config.release import ReleaseSettings
from craflow.api import CraEvidenceClient
from craflow.demo.sample import (
    KEV_ADVISORY,
    KEV_CVE,
    TRIAGE_JUSTIFICATION,
    TRIAGE_NOTE,
    TRIAGED_COMPONENT,
)
from craflow.incident import Case, Publisher, utc_now, write_drafts
from craflow.vex.matching import Change
from craflow.vex.platform import apply_changes, load_findings
from flows.incident import incident_clock_flow, open_cases_for_kev_hits
from tasks.client import resolve_api_settings, run_client
from tasks.incident import collect_kev_hits


@dataclass(frozen=True)
class CaseDrafts:
    """The case the KEV hit opened and where its drafts went."""

    case: Case
    folder: Path
    advisory: Path
    files: int


def triage_first_version(settings: DemoSettings) -> int:
    """What a person does after 1.0.0 was blocked: mark the `py` finding not_affected."""
    with CraEvidenceClient(ApiSettings()) as client:
        product = client.find_product(settings.product)
        version = client.find_version(product.id, settings.first_version) if product else None
        if version is None:
            raise RuntimeError(f"{settings.product} {settings.first_version} was not created")
        findings = [
            f for f in load_findings(client, version.id) if f.component_name == TRIAGED_COMPONENT
        ]
        changes = [Change(f, "not_affected", TRIAGE_JUSTIFICATION, TRIAGE_NOTE) for f in findings]
        return len(apply_changes(client, changes))


def add_kev_entry() -> str:
    """Make the made-up advisory appear in the sandbox and list its CVE in KEV."""
    settings = ApiSettings()
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    headers = {"Authorization": f"Bearer {key}"}
    base = settings.url.rstrip("/").removesuffix("/api/v1")
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as http:
        http.post("/_sandbox/osv", json=KEV_ADVISORY).raise_for_status()
        http.post("/_sandbox/kev", json={"cve_ids": [KEV_CVE]}).raise_for_status()
    return KEV_CVE


@flow(name="kev-cases", flow_run_name="kev-cases-{product}-{version}")
def kev_cases_flow(product: str, version: str) -> list[Case]:
    """Open (once) the Art. 14 case of every open KEV hit on *product* *version*.

    The same tasks as the release flow's KEV step; idempotent, so a sweep that opened
    the case already leaves it as it is.
    """
    api = resolve_api_settings(ReleaseSettings().secret_block_name)
    with run_client(api) as client:
        found = client.find_product(product)
        release = client.find_version(found.id, version) if found else None
        if found is None or release is None:
            raise RuntimeError(f"{product} {version} was not created")
        sighting = collect_kev_hits(found.id, release.id, release.version_number)
        return open_cases_for_kev_hits(sighting.hits, {product: sighting.released})


def open_case_and_drafts(settings: DemoSettings, workdir: Path) -> CaseDrafts:
    """Open the case of the KEV hit on released 1.1.0, run the Art. 14 clock once (its
    open-cases table is what the UI shows), then write the case's drafts."""
    cases = kev_cases_flow(settings.product, settings.second_version)
    incident_clock_flow()
    if not cases:
        raise RuntimeError(f"no open KEV-listed finding on {settings.second_version}")
    incident = IncidentSettings()
    folder = workdir / "incident-drafts"
    written = write_drafts(
        cases[0],
        folder,
        Publisher(incident.publisher_name, incident.publisher_namespace),
        utc_now(),
    )
    advisory = next(p for p in written if p.name.endswith(".csaf.json"))
    return CaseDrafts(case=cases[0], folder=folder, advisory=advisory, files=len(written))
