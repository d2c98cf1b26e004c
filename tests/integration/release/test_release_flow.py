"""The release flow end to end: the sandbox, a loopback S3 endpoint, the Prefect test harness.

One module so the session harness is started once for all release-flow tests.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from typer.testing import CliRunner

from craflow.cli import app
from craflow.evidence import verify_run
from craflow.release.request import ReleaseRequest
from flows.release import release_flow, run_release, run_request
from tests.integration.release.helpers import Sandbox, write_bom

pytestmark = pytest.mark.integration

# GitHub's advisory for CVE-2018-18074 (requests < 2.20.0) carries a CVSS 3.1 score of 7.5
# (high); the bundled PyPI record of the same flaw (PYSEC-2018-28) has no score.
GHSA_REQUESTS = {
    "id": "GHSA-x84v-xcm2-53pg",
    "aliases": ["CVE-2018-18074"],
    "summary": "Requests sends Authorization headers on an https-to-http redirect",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
        }
    ],
}


def _writes(events: list[dict[str, Any]]) -> list[str]:
    return [
        e["event"]
        for e in events
        if e["event"] in {"sbom.ingested", "scan.triggered"}
        or (e["event"] == "release_state.changed" and not e["details"].get("noop"))
    ]


def test_blocked_then_fixed_release_with_rerun(
    release_env: tuple[Sandbox, str], tmp_path: Path
) -> None:
    box, archive = release_env
    box.post("/_sandbox/osv", GHSA_REQUESTS)

    # 1.0: clean, released
    first = run_release(
        product="widget",
        version="1.0",
        sbom=str(write_bom(tmp_path / "1.0.json", "widget", "1.0", {"idna": "3.10"})),
        export=archive,
        ci={"provider": "test"},
    )
    assert not isinstance(first, BaseException), first
    assert (first.verdict, first.exit_code, first.promoted_to) == ("passed", 0, "released")

    # 1.1: requests 2.19.0 is blocked with exit 11, through the CLI, and stays unreleased
    vulnerable = write_bom(tmp_path / "1.1.json", "widget", "1.1", {"requests": "2.19.0"})
    result = CliRunner().invoke(
        app,
        [
            "release",
            "--product",
            "widget",
            "--version",
            "1.1",
            "--sbom",
            str(vulnerable),
            "--export",
            archive,
            "--json",
        ],
    )
    assert result.exit_code == 11, result.output
    blocked = json.loads(result.stdout.strip().splitlines()[-1])
    assert blocked["verdict"] == "blocked"
    assert "GHSA-x84v-xcm2-53pg" in blocked["reasons"][0]
    assert blocked["promoted_to"] is None
    assert verify_run(blocked["archive_uri"]).ok  # the SBOM and gate.json of the verdict
    assert box.version("widget", "1.1")["release_state"] == "draft"

    # a rerun of 1.1 under another policy writes the evidence of that run, not the first one's
    other_policy = CliRunner().invoke(
        app,
        [
            *("release", "--product", "widget", "--version", "1.1", "--sbom", str(vulnerable)),
            *("--export", archive, "--fail-on-kev", "--json"),
        ],
    )
    assert other_policy.exit_code == 11, other_policy.output
    reblocked = json.loads(other_policy.stdout.strip().splitlines()[-1])
    assert reblocked["archive_uri"] != blocked["archive_uri"]
    assert verify_run(reblocked["archive_uri"]).ok

    # 1.2: fixed, promoted, 1.0 deprecated, evidence archived and verifiable
    fixed = write_bom(tmp_path / "1.2.json", "widget", "1.2", {"requests": "2.32.4"})
    params: dict[str, Any] = {
        "product": "widget",
        "version": "1.2",
        "sbom": str(fixed),
        "export": archive,
        "deprecate_previous": True,
        "new_only": True,
    }
    request = ReleaseRequest.build(**params)
    state = release_flow(request, return_state=True)
    assert state.is_completed() and state.name == "Completed"
    passed = state.result()
    assert (passed.verdict, passed.exit_code, passed.uploaded) == ("passed", 0, True)
    assert passed.previous_version == "1.0"
    assert passed.deprecated_previous and passed.exported
    assert box.version("widget", "1.2")["release_state"] == "released"
    previous = box.version("widget", "1.0")
    assert previous["release_state"] == "deprecated"
    assert previous["superseded_by"] == passed.version_id
    assert passed.archive_uri is not None
    verification = verify_run(passed.archive_uri)
    assert verification.ok and verification.checked >= 6, verification

    with get_client(sync_client=True) as client:
        run_id = state.state_details.flow_run_id
        assert run_id is not None
        flow_run = client.read_flow_run(run_id)
        assert flow_run.name == "release-widget-1.2"
        assert {"product:widget", "version:1.2"} <= set(flow_run.tags)
        keys = {
            a.key
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="release-widget-1-2-"))
            )
        }
    assert {
        "release-widget-1-2-summary",
        "release-widget-1-2-gate",
        "release-widget-1-2-diff",
        "release-widget-1-2-scan-progress",
        "release-widget-1-2-evidence",
    } <= keys

    # rerun of 1.2: nothing uploaded, scanned, promoted or exported again
    before = _writes(box.audit("widget"))
    again = run_request(request)
    assert not isinstance(again, BaseException), again
    assert (again.verdict, again.uploaded, again.exported) == ("passed", False, False)
    assert again.archive_uri == passed.archive_uri
    assert _writes(box.audit("widget")) == before


def test_scan_that_never_finishes_is_pending(
    release_env: tuple[Sandbox, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, archive = release_env
    monkeypatch.setenv("CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS", "1.0")
    box.http.post(
        f"{box.running.api_url}/products", json={"name": "slowpoke", "slug": "slowpoke"}
    ).raise_for_status()
    box.post("/_sandbox/scan-faults", {"product": "slowpoke", "mode": "hang", "reason": "test"})
    sbom = write_bom(tmp_path / "bom.json", "slowpoke", "1.0", {"idna": "3.10"})
    request = ReleaseRequest.build(
        product="slowpoke", version="1.0", sbom=str(sbom), export=archive
    )
    state = release_flow(request, return_state=True)
    assert state.is_completed() and state.name == "Pending"
    outcome = state.result()
    assert (outcome.verdict, outcome.exit_code, outcome.promoted_to) == ("pending", 75, None)
    assert box.version("slowpoke", "1.0")["release_state"] == "draft"


CRITICAL_URLLIB3 = {
    "id": "GHSA-test-crit-0001",
    "summary": "A made-up critical flaw for the promotion pre-check",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "urllib3"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}],
        }
    ],
}


def test_a_release_the_server_would_refuse_is_refused_before_the_first_step(
    release_env: tuple[Sandbox, str], tmp_path: Path
) -> None:
    """The gate lets it through (--fail-on none), the release policy does not: the version
    must stay where it was, not be left at `approved`."""
    box, archive = release_env
    box.post("/_sandbox/osv", CRITICAL_URLLIB3)
    sbom = write_bom(tmp_path / "bom.json", "gadget", "1.0", {"urllib3": "0.9"})
    outcome = run_release("gadget", "1.0", sbom=str(sbom), fail_on="none", export=archive)
    assert not isinstance(outcome, BaseException), outcome
    assert (outcome.verdict, outcome.exit_code, outcome.promoted_to) == ("blocked", 24, None)
    assert "server refused the release" in outcome.reasons[0]
    assert box.version("gadget", "1.0")["release_state"] == "draft"
