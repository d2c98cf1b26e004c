"""Release-state transitions, RELEASE_BLOCKED, the release-anyway record, the audit log."""

import httpx
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


def move(api: httpx.Client, version_id: str, state: str, **extra: object) -> httpx.Response:
    return api.patch(f"/versions/{version_id}/release-state", json={"state": state, **extra})


def test_transitions_forward_back_and_noop(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api, control(sandbox) as ctl:
        _, version_id = new_version(api, "rel", "1.0")
        _, successor_id = new_version(api, "rel", "2.0")
        ingest(api, version_id, cyclonedx(("six", "1.16.0", "pkg:pypi/six@1.16.0")))
        assert wait_scan(api, version_id)["cra_status"] == "ready"
        assert move(api, version_id, "pending_review").json()["release_state"] == "pending_review"
        assert move(api, version_id, "draft").status_code == 200
        assert move(api, version_id, "approved").status_code == 200
        back = move(api, version_id, "draft")
        assert back.status_code == 409
        assert back.json()["error"]["code"] == "CONFLICT"
        released = move(api, version_id, "released")
        assert released.status_code == 200
        assert released.json()["release_anyway_recorded"] is False
        assert move(api, version_id, "released").status_code == 200  # no-op
        early = move(api, version_id, "released", superseded_by="2.0")
        assert early.status_code == 400
        deprecated = move(api, version_id, "deprecated", superseded_by="2.0").json()
        assert deprecated["superseded_by"] == successor_id
        assert move(api, version_id, "nonsense").status_code == 400
        events = ctl.get("/audit", params={"product": "rel", "version": "1.0"}).json()
        changes = [e["details"] for e in events if e["event"] == "release_state.changed"]
        assert [(c["from"], c["to"], c["noop"]) for c in changes] == [
            ("draft", "pending_review", False),
            ("pending_review", "draft", False),
            ("draft", "approved", False),
            ("approved", "released", False),
            ("released", "released", True),
            ("released", "deprecated", False),
        ]
        uploads = [e for e in events if e["event"] == "sbom.ingested"]
        assert len(uploads) == 1
        assert len(uploads[0]["details"]["sha256"]) == 64


def test_release_blocked_then_released_anyway(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api, control(sandbox) as ctl:
        ctl.post(
            "/osv",
            json={
                "id": "SANDBOX-CRIT-1",
                "severity": [
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
                ],
                "affected": [
                    {"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.19.0"]}
                ],
            },
        )
        _, version_id = new_version(api, "blocked")
        ingest(api, version_id, cyclonedx(REQUESTS_2_19))
        status = wait_scan(api, version_id)
        assert status["release_policy_status"] == "incomplete"
        blocked = move(api, version_id, "released")
        assert blocked.status_code == 409
        error = blocked.json()["error"]
        assert error["code"] == "RELEASE_BLOCKED"
        assert {
            "source": "default_policy",
            "vuln_id": "SANDBOX-CRIT-1",
            "reason": "critical severity",
        } in error["blockers"]
        short = move(api, version_id, "released", release_anyway=True, release_anyway_reason="x")
        assert short.status_code == 400
        ok = move(
            api,
            version_id,
            "released",
            release_anyway=True,
            release_anyway_reason="Mitigated by WAF rule 42 until 2.20 ships",
        )
        assert ok.status_code == 200
        assert ok.json()["release_anyway_recorded"] is True
        assert ok.json()["release_state"] == "released"


def test_release_without_a_scan_is_blocked(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        _, version_id = new_version(api, "noscan")
        blocked = move(api, version_id, "released")
        assert blocked.json()["error"]["code"] == "RELEASE_BLOCKED"
        assert set(blocked.json()["error"]["cra_missing_items"]) == {"sbom", "vulnerability_scan"}
