"""The fanned-out sweep (subflow mode) over a real sandbox, under the session harness.

Three products, two swept versions each, one version per chunk (six child runs). alpha
1.0.0 is released and hits a CISA KEV entry; gamma's scans fail. The sweep must report
every version exactly once, isolate gamma, and open one Art. 14 case for alpha's KEV
hit — still one after a second sweep.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.api import ApiSettings, RateLimitSettings
from craflow.api import CraEvidenceClient
from craflow.sandbox.runner import start_sandbox
from craflow.sweep import SweepFailedError
from flows.sweep import sweep_flow
from tasks.incident import open_book
from tests.integration.sweep.test_sweep_flow import KEV_CVE, RATE_SCALE, _control, use_sandbox

OSV_ID = "OSV-CRAFLOW-FANOUT-1"

pytestmark = pytest.mark.integration


def _sbom(path: Path, product: str, lib_version: str) -> Path:
    component = {
        "type": "library",
        "name": f"{product}-lib",
        "version": lib_version,
        "purl": f"pkg:pypi/{product}-lib@{lib_version}",
    }
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": [component]}
    path.write_text(json.dumps(bom), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    work = tmp_path_factory.mktemp("fanout-portfolio")
    with start_sandbox(scan_seconds=0.05, rate_scale=RATE_SCALE) as sandbox:
        settings = ApiSettings(url=sandbox.url, api_key=sandbox.api_key)
        with CraEvidenceClient(
            settings, rates=RateLimitSettings(window_scale=RATE_SCALE)
        ) as client:
            for slug in ("alpha", "beta", "gamma"):
                product = client.create_product(slug, slug=slug)
                for number, state in (("1.0.0", "released"), ("2.0.0", "approved")):
                    version = client.create_version(product.id, number)
                    sbom = _sbom(work / f"{slug}-{number}.cdx.json", slug, number)
                    client.ingest_sbom(version.id, sbom, auto_scan=False)
                    # no scan has run yet: a release needs the recorded override
                    released = state == "released"
                    client.set_release_state(
                        version.id,
                        state,
                        release_anyway=released,
                        release_anyway_reason="fixture: released before its first scan"
                        if released
                        else None,
                    )
        osv = {
            "id": OSV_ID,
            "aliases": [KEV_CVE],
            "summary": "fan-out test advisory",
            "affected": [
                {"package": {"ecosystem": "PyPI", "name": "alpha-lib"}, "versions": ["1.0.0"]}
            ],
        }
        _control(sandbox, "osv", [osv])
        _control(sandbox, "scan-faults", {"product": "gamma", "mode": "fail", "reason": "injected"})
        yield sandbox


@pytest.fixture
def sweep_env(portfolio: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("CRAFLOW_SWEEP_CHUNK_VERSIONS", "1")
    monkeypatch.setenv("CRAFLOW_SWEEP_STATES", '["released", "approved"]')
    return use_sandbox(portfolio, monkeypatch, tmp_path)


def _outcome(state: Any) -> Any:
    assert state.is_failed(), state.message
    error = state.result(raise_on_failure=False)
    assert isinstance(error, SweepFailedError)
    return error.outcome


def test_fanned_out_sweep_reports_each_version_once_and_opens_one_kev_case(
    prefect_harness: None, portfolio: Any, sweep_env: str
) -> None:
    state = sweep_flow(export=sweep_env, concurrency=2, fan_out="subflow", return_state=True)
    assert state.message.startswith("1 of 3 products failed: gamma (")
    outcome = _outcome(state)
    keys = [(r["product"], r["version"]) for r in outcome.rows]
    assert sorted(keys) == [(p, v) for p in ("alpha", "beta", "gamma") for v in ("1.0.0", "2.0.0")]
    assert outcome.versions_total == 6
    assert [f.product for f in outcome.products_failed] == ["gamma"]
    rows = {(r["product"], r["version"]): r for r in outcome.rows}
    assert rows[("alpha", "1.0.0")]["kev"] == 1
    assert str(rows[("gamma", "2.0.0")]["change"]).startswith("scan failed")

    cases = open_book(sweep_env).cases()
    assert [(c.opened.product, c.affected_versions) for c in cases] == [("alpha", ("1.0.0",))]

    again = _outcome(
        sweep_flow(export=sweep_env, concurrency=2, fan_out="subflow", return_state=True)
    )
    assert again.versions_total == 6
    assert len(open_book(sweep_env).cases()) == 1
