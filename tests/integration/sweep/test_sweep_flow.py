"""Two sweeps over a real sandbox: the second reports exactly what changed in between.

Three products (alpha, beta, gamma), two swept versions each plus a draft that is
not swept. Between the sweeps an OSV record (aliased to a CISA KEV CVE) starts to
match alpha-lib 1.0.0 (in alpha 1.0.0 only), and gamma's scans are made to fail.
The second sweep must report
alpha's new vulnerability and KEV hit, gamma's scan failures, nothing for beta,
emit the events, and end Failed naming gamma only.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from typer.testing import CliRunner

from config.api import ApiSettings, RateLimitSettings
from craflow.api import CraEvidenceClient
from craflow.cli import app
from craflow.evidence import open_archive, verify_run
from craflow.sandbox.runner import start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env
from craflow.sweep import SweepFailedError, SweepOutcome, SweepSnapshot
from flows.compare import compare_flow
from flows.export import export_flow
from flows.sweep import sweep_flow
from tests.fixtures.events import emitted

KEV_CVE = "CVE-2025-48384"  # in the CISA KEV catalogue the sandbox ships
OSV_ID = "OSV-CRAFLOW-SWEEP-1"
RATE_SCALE = 60.0

pytestmark = pytest.mark.integration


def _sbom(path: Path, product: str, lib_version: str) -> Path:
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {
                "type": "library",
                "name": f"{product}-lib",
                "version": lib_version,
                "purl": f"pkg:pypi/{product}-lib@{lib_version}",
            },
            {
                "type": "library",
                "name": "sweeptest-other",
                "version": "0.1.0",
                "purl": "pkg:pypi/sweeptest-other@0.1.0",
            },
        ],
    }
    path.write_text(json.dumps(bom), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:

    work = tmp_path_factory.mktemp("sweep-portfolio")
    with start_sandbox(scan_seconds=0.05, rate_scale=RATE_SCALE) as sandbox:
        settings = ApiSettings(url=sandbox.url, api_key=sandbox.api_key)
        rates = RateLimitSettings(window_scale=RATE_SCALE)
        with CraEvidenceClient(settings, rates=rates) as client:
            for slug in ("alpha", "beta", "gamma"):
                product = client.create_product(slug, slug=slug)
                for number, state in (("1.0.0", "approved"), ("2.0.0", "approved")):
                    version = client.create_version(product.id, number)
                    client.set_release_state(version.id, state)
                    sbom = _sbom(work / f"{slug}-{number}.cdx.json", slug, number)
                    client.ingest_sbom(version.id, sbom, auto_scan=False)
                client.create_version(product.id, "3.0.0-dev")  # draft: never swept
        yield sandbox


def use_sandbox(sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point a sweep in this process at *sandbox* (fast polls); the archive's URI."""
    monkeypatch.setenv("CRA_EVIDENCE_URL", sandbox.url)
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", sandbox.api_key)
    monkeypatch.setenv("CRAFLOW_RATE_WINDOW_SCALE", str(RATE_SCALE))
    monkeypatch.setenv("CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS", "0.05")
    monkeypatch.setenv("CRAFLOW_SWEEP_POLL_TIMEOUT_SECONDS", "30")
    return (tmp_path / "archive").as_uri()


@pytest.fixture
def sweep_env(portfolio: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    return use_sandbox(portfolio, monkeypatch, tmp_path)


def _control(sandbox: Any, path: str, body: object) -> None:
    response = httpx.post(
        f"{sandbox.url}/_sandbox/{path}",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=30,
    )
    assert response.status_code < 300, response.text


def test_second_sweep_reports_exactly_the_changes_and_names_the_failed_product(
    prefect_harness: None, portfolio: Any, sweep_env: str, recorded_events: Any
) -> None:

    first = sweep_flow(export=sweep_env, concurrency=4)
    assert isinstance(first, SweepOutcome)
    assert first.ok and first.versions_total == 6
    assert {(r["product"], r["version"]) for r in first.rows} == {
        (p, v) for p in ("alpha", "beta", "gamma") for v in ("1.0.0", "2.0.0")
    }
    assert emitted(recorded_events, "craflow.kev.detected") == []
    assert emitted(recorded_events, "craflow.version.changed") == []

    _control(
        portfolio,
        "osv",
        [
            {
                "id": OSV_ID,
                "aliases": [KEV_CVE],
                "summary": "sweep test advisory",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "alpha-lib"},
                        "versions": ["1.0.0"],
                    }
                ],
            }
        ],
    )
    _control(portfolio, "scan-faults", {"product": "gamma", "mode": "fail", "reason": "injected"})

    state = sweep_flow(export=sweep_env, concurrency=4, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("1 of 3 products failed: gamma (")
    completed = emitted(recorded_events, "craflow.sweep.completed")
    assert [(e.payload["ok"], e.payload["products_failed"]) for e in completed] == [
        (True, []),
        (False, ["gamma"]),
    ]
    assert (
        completed[0].payload["message"]
        == first.message
        == "3 products, 6 versions swept; 0 changed"
    )
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name.startswith("sweep-") and run.name.endswith("-released-approved"), run.name
    assert {"craflow", "sweep"} <= set(run.tags)
    assert completed[1].resource.id == f"craflow.sweep.{run.name}"
    error = state.result(raise_on_failure=False)
    assert isinstance(error, SweepFailedError)
    outcome = error.outcome
    assert [f.product for f in outcome.products_failed] == ["gamma"]
    assert outcome.versions_total == 6

    changes = {(r["product"], r["version"]): r["change"] for r in outcome.rows}
    # the open KEV hit also takes alpha 1.0.0's CRA floor (and so its CRA status) off "ready"
    assert changes[("alpha", "1.0.0")] == "+1 new, KEV +1, CRA ready → incomplete"
    assert changes[("alpha", "2.0.0")] == "no change"
    assert changes[("beta", "1.0.0")] == changes[("beta", "2.0.0")] == "no change"
    assert str(changes[("gamma", "1.0.0")]).startswith("scan failed")
    assert str(changes[("gamma", "2.0.0")]).startswith("scan failed")
    alpha = next(r for r in outcome.rows if (r["product"], r["version"]) == ("alpha", "1.0.0"))
    assert alpha["kev"] == 1

    kev_events = emitted(recorded_events, "craflow.kev.detected")
    assert [
        (
            e.payload["product"],
            e.payload["version"],
            e.payload["vulnerability_id"],
            e.payload["component"],
        )
        for e in kev_events
    ] == [("alpha", "1.0.0", OSV_ID, "alpha-lib")]
    assert kev_events[0].resource.id == "craflow.product.alpha"
    changed = sorted(
        (e.payload["product"], e.payload["version"])
        for e in emitted(recorded_events, "craflow.version.changed")
    )
    assert changed == [("alpha", "1.0.0"), ("gamma", "1.0.0"), ("gamma", "2.0.0")]

    latest = open_archive(sweep_env).latest_sweep_snapshot()
    assert latest is not None
    stored = SweepSnapshot.from_json_dict(latest).index()
    assert stored["gamma/1.0.0"].error is not None
    assert [h.vuln_id for h in stored["alpha/1.0.0"].vulnerabilities] == [OSV_ID]


def test_compare_flow_and_command_show_the_component_changes(
    prefect_harness: None, portfolio: Any, sweep_env: str
) -> None:
    comparison = compare_flow("beta", "1.0.0", "2.0.0")
    modified = [(m.name, m.old_version, m.new_version) for m in comparison.changes.modified]
    assert modified == [("beta-lib", "1.0.0", "2.0.0")]
    assert comparison.summary.unchanged == 1

    result = CliRunner().invoke(app, ["compare", "--product", "beta", "1.0.0", "2.0.0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["modified"] == 1

    missing = CliRunner().invoke(app, ["compare", "--product", "beta", "1.0.0", "9.9.9"])
    assert missing.exit_code == 3
    assert "has no version '9.9.9'" in missing.stderr


def test_export_flow_archives_the_technical_file_once_per_sbom(
    prefect_harness: None, portfolio: Any, sweep_env: str
) -> None:
    first = export_flow("beta", "2.0.0", to=sweep_env)
    assert first.written
    names = {o.name for o in first.objects}
    assert {"technical-file.zip", "compliance-report.pdf", "export.json"} <= names
    assert verify_run(first.run_uri).ok

    again = CliRunner().invoke(
        app, ["export", "--product", "beta", "--version", "2.0.0", "--to", sweep_env, "--json"]
    )
    assert again.exit_code == 0, again.output
    reused = json.loads(again.stdout)
    assert reused["written"] is False
    assert reused["run_uri"] == first.run_uri


def test_export_publishes_one_evidence_table_with_https_links(
    prefect_harness: None,
    portfolio: Any,
    sweep_env: str,
    local_s3: LocalS3,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15: the export's evidence is one markdown table (the release's), each object
    linked over HTTPS with its `s3://` URI as text, and no `s3://` link artifact."""
    for name, value in boto3_session_env(local_s3).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CRAFLOW_EVIDENCE_LINK", "console")
    state = export_flow("beta", "1.0.0", to=f"s3://{s3_bucket}/export", return_state=True)
    archived = state.result()
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    assert [(a.key, a.type) for a in artifacts] == [("export-beta-1-0-0-evidence", "markdown")]
    table = str(artifacts[0].data)
    links = re.findall(r"\]\(([^)]+)\)", table)
    assert len(links) == len(archived.objects) >= 3, table
    assert all(link.startswith("https://") for link in links), links
    assert f"`s3://{s3_bucket}/export/beta/1.0.0/" in table
    assert "](s3://" not in table


def test_sweep_command_exits_3_and_prints_json_when_a_product_fails(
    prefect_harness: None, portfolio: Any, sweep_env: str
) -> None:
    _control(portfolio, "scan-faults", {"product": "gamma", "mode": "fail", "reason": "injected"})
    result = CliRunner().invoke(
        app, ["sweep", "--product", "gamma,beta", "--export", sweep_env, "--json"]
    )
    assert result.exit_code == 3, result.output
    outcome = json.loads(result.stdout)
    assert outcome["products_total"] == 2
    assert [f["product"] for f in outcome["products_failed"]] == ["gamma"]

    ok = CliRunner().invoke(
        app, ["sweep", "-p", "beta", "--states", "approved", "--export", sweep_env]
    )
    assert ok.exit_code == 0, ok.output
    assert "1 product, 2 versions swept" in ok.stdout
