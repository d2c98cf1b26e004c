"""Carry-forward through the API, as the release flow will call it (phase 2 wiring).

1.0 ships requests 2.19.0, jinja2 2.10 and urllib3 1.24.1, all findings triaged. 2.0
keeps requests (unchanged), upgrades urllib3 to 1.24.2 (same advisories, other version)
and drops jinja2 (removed). Carry: requests' triage is carried with its origin, urllib3's
findings need review, nothing about jinja2 appears.
"""

import json

import httpx
import pytest

from craflow.api import ApiSettings, CraEvidenceClient
from craflow.vex.carry import carry_evidence, compute_carry
from craflow.vex.platform import apply_carry, load_findings
from tests.integration.sandbox.helpers import cyclonedx, ingest, new_version, wait_scan

pytestmark = pytest.mark.integration

REQUESTS = ("requests", "2.19.0", "pkg:pypi/requests@2.19.0")
JINJA2 = ("jinja2", "2.10", "pkg:pypi/jinja2@2.10")
URLLIB3_OLD = ("urllib3", "1.24.1", "pkg:pypi/urllib3@1.24.1")
URLLIB3_NEW = ("urllib3", "1.24.2", "pkg:pypi/urllib3@1.24.2")


def scanned(api: httpx.Client, number: str, *components: tuple[str, str, str]) -> str:
    _, version_id = new_version(api, "carry", number)
    assert ingest(api, version_id, cyclonedx(*components)).status_code == 201
    assert wait_scan(api, version_id)["scan_state"] == "completed"
    return version_id


def test_carry_unchanged_upgraded_and_removed_components(api: httpx.Client) -> None:
    v1 = scanned(api, "1.0", REQUESTS, JINJA2, URLLIB3_OLD)
    with CraEvidenceClient(ApiSettings()) as client:
        for finding in load_findings(client, v1):
            client.triage_vulnerability(
                finding.id,
                status="not_affected",
                justification="vulnerable_code_not_in_execute_path",
                notes=f"checked {finding.vuln_id}",
            )
        v2 = scanned(api, "2.0", REQUESTS, URLLIB3_NEW)
        previous, current = load_findings(client, v1), load_findings(client, v2)
        result = compute_carry(previous, current, from_version="1.0")
        applied = apply_carry(client, result)
        after = {f.id: f for f in load_findings(client, v2)}

    requests_ids = {f.id for f in current if f.component_name == "requests"}
    urllib3_ids = {f.id for f in current if f.component_name == "urllib3"}
    assert requests_ids and urllib3_ids
    assert {c.finding.id for c in result.carried} == requests_ids
    assert {r.finding.id for r in result.needs_review} <= urllib3_ids
    assert result.needs_review, "urllib3 1.24.2 still has advisories of 1.24.1"
    assert all("1.24.1 -> 1.24.2" in r.reason for r in result.needs_review)
    assert not any(f.component_name == "jinja2" for f in current)
    assert len(applied) == len(requests_ids)
    for fid in requests_ids:
        assert after[fid].status == "not_affected"
        assert after[fid].justification == "vulnerable_code_not_in_execute_path"
        assert after[fid].notes is not None and after[fid].notes.startswith("Carried from 1.0")
    for fid in urllib3_ids:
        assert after[fid].status == "open"
    evidence = json.loads(carry_evidence(result))
    assert evidence["summary"].startswith(f"{len(requests_ids)} carried from 1.0, ")
    # carrying again finds nothing left to carry
    with CraEvidenceClient(ApiSettings()) as client:
        again = compute_carry(previous, load_findings(client, v2), from_version="1.0")
    assert again.carried == ()
