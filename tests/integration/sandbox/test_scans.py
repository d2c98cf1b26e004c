"""Scans against real advisories, KEV, triage kept across rescans, faults, added records."""

from typing import Any

import pytest

from craflow.sandbox.runner import RunningSandbox
from tests.integration.sandbox.helpers import (
    REQUESTS_2_19,
    client,
    control,
    cyclonedx,
    ingest,
    new_version,
    wait_scan,
)

pytestmark = pytest.mark.integration

CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def osv_record(vuln_id: str, ecosystem: str, name: str, fixed: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": vuln_id,
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
        **extra,
    }


def test_scan_finds_the_real_requests_advisory(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        _, version_id = new_version(api, "web")
        started = ingest(api, version_id, cyclonedx(REQUESTS_2_19)).json()["scan"]
        assert started["status"] == "pending"
        status = wait_scan(api, version_id)
        assert status["scan_state"] == "completed"
        vulns = api.get("/vulnerabilities", params={"version_id": version_id}).json()["items"]
        advisory = next(v for v in vulns if v["vuln_id"] == "GHSA-x84v-xcm2-53pg")
        assert "CVE-2018-18074" in advisory["aliases"]
        assert advisory["component"] == {
            "name": "requests",
            "version": "2.19.0",
            "purl": "pkg:pypi/requests@2.19.0",
        }
        assert (advisory["severity"], advisory["cvss_score"]) == ("high", 7.5)
        assert advisory["fixed_versions"] == ["2.20.0"]
        assert advisory["status"] == "open"
        assert status["vulnerability_summary"]["total"] == len(vulns)
        assert status["cra_status"] == "ready"  # no KEV, no critical


def test_kev_listed_finding_blocks_the_floor(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        _, version_id = new_version(api, "airflow")
        ingest(
            api,
            version_id,
            cyclonedx(("apache-airflow", "1.10.0", "pkg:pypi/apache-airflow@1.10.0")),
        )
        status = wait_scan(api, version_id)
        assert status["kev_count"] >= 1
        assert status["cra_floor_status"] == "incomplete"
        assert "open_kev_vulnerabilities" in status["cra_missing_items"]
        assert {b["source"] for b in status["vuln_blockers"]} >= {"cra_required"}
        kev = api.get("/vulnerabilities", params={"version_id": version_id, "kev": "true"})
        assert kev.json()["total"] == status["kev_count"]


def test_triage_survives_rescans_and_added_records_appear(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api, control(sandbox) as ctl:
        _, version_id = new_version(api, "triage")
        ingest(api, version_id, cyclonedx(REQUESTS_2_19))
        wait_scan(api, version_id)
        finding = api.get("/vulnerabilities", params={"version_id": version_id}).json()["items"][0]
        patched = api.patch(
            f"/vulnerabilities/{finding['id']}",
            json={
                "status": "not_affected",
                "notes": "not reachable",
                "justification": "vulnerable_code_not_in_execute_path",
            },
        )
        assert patched.json()["status"] == "not_affected"
        bad = api.patch(f"/vulnerabilities/{finding['id']}", json={"status": "gone"})
        assert bad.status_code == 400
        added = ctl.post(
            "/osv",
            json=osv_record(
                "SANDBOX-2099-1",
                "PyPI",
                "requests",
                "9.0",
                aliases=["CVE-2099-0001"],
                severity=[{"type": "CVSS_V3", "score": CRITICAL}],
            ),
        )
        assert added.json() == {"added": 1}
        assert api.post(f"/versions/{version_id}/scan").status_code == 202
        status = wait_scan(api, version_id)
        again = api.get(f"/vulnerabilities/{finding['id']}").json()
        assert (again["status"], again["notes"]) == ("not_affected", "not reachable")
        ids = {
            v["vuln_id"]: v
            for v in api.get("/vulnerabilities", params={"version_id": version_id}).json()["items"]
        }
        assert ids["SANDBOX-2099-1"]["severity"] == "critical"
        assert status["vulnerability_summary"]["critical"] == 1
        assert status["release_policy_status"] == "incomplete"


def test_scan_faults_fail_or_hang(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api, control(sandbox) as ctl:
        _, version_id = new_version(api, "faulty", "1.0")
        assert ctl.post(
            "/scan-faults",
            json={"product": "faulty", "version": "1.0", "mode": "fail", "reason": "scanner down"},
        ).is_success
        ingest(api, version_id, cyclonedx(REQUESTS_2_19))
        failed = wait_scan(api, version_id)
        assert failed["scan_state"] == "failed"
        assert failed["scan_failure_reason"] == "scanner down"
        assert failed["cra_floor_status"] == "incomplete"
        ctl.post("/scan-faults", json={"product": "faulty", "version": None, "mode": "hang"})
        ctl.post("/scan-faults", json={"product": "faulty", "version": "1.0", "mode": "off"})
        api.post(f"/versions/{version_id}/scan")
        hung = wait_scan(api, version_id, timeout=1.0)
        assert hung["scan_state"] == "running"
        ctl.post("/scan-faults", json={"product": "faulty", "version": None, "mode": "off"})
        api.post(f"/versions/{version_id}/scan")
        assert wait_scan(api, version_id)["scan_state"] == "completed"


def test_scan_needs_an_sbom_and_osv_records_are_checked(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api, control(sandbox) as ctl:
        _, version_id = new_version(api, "empty")
        assert api.get(f"/versions/{version_id}/cra-status").json()["scan_state"] == "none"
        assert api.post(f"/versions/{version_id}/scan").status_code == 400
        assert ctl.post("/osv", json=[{"summary": "no id"}]).status_code == 400
