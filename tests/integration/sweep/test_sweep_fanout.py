"""The fanned-out sweep over a real sandbox, under the session harness.

Three products, two swept versions each, one version per chunk (six child runs). alpha
1.0.0 is released and hits a CISA KEV entry; gamma's scans fail. In subflow mode the
sweep must report every version exactly once, isolate gamma, and open one Art. 14 case
for alpha's KEV hit — still one after a second sweep. In deployment mode with no worker
running yet, the sweep run takes each chunk's run itself (the real server's
PreventPendingTransitions decides who has a run), and never a run a worker has taken.
"""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from config.api import ApiSettings, RateLimitSettings
from craflow.api import CraEvidenceClient
from craflow.sandbox.runner import start_sandbox
from craflow.sweep import SweepFailedError
from flows.sweep import sweep_flow
from tasks.incident import open_book
from tests.integration.services import REDIS_TEST_DB, need_redis
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


@pytest.fixture
def worker_pool(prefect_harness: None) -> Iterator[str]:
    """The sweep-product deployment on a process pool with no worker, removed afterwards."""
    from prefect import deploy
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from config.deploy import DeploySettings
    from deployments.build import sweep_product_deployment

    pool = f"craflow-test-{uuid.uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        (deployment_id,) = deploy(
            sweep_product_deployment(DeploySettings()),
            work_pool_name=pool,
            build=False,
            push=False,
            print_next_steps_message=False,
            ignore_warnings=True,
        )
        try:
            yield pool
        finally:
            client.delete_deployment(deployment_id)
            client.delete_work_pool(pool)


@pytest.fixture
def shared_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process paces through the Redis budget (db 15, a fresh prefix, deleted after)."""
    need_redis()
    prefix = f"craflow:test:{uuid.uuid4().hex}"
    monkeypatch.setenv("CRAFLOW_BUDGET_MODE", "shared")
    monkeypatch.setenv("CRAFLOW_BUDGET_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_TEST_DB}")
    monkeypatch.setenv("CRAFLOW_BUDGET_KEY_PREFIX", prefix)
    yield
    connection = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_TEST_DB)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)
    connection.close()


def test_with_no_worker_started_yet_the_sweep_checks_every_chunk_itself(
    worker_pool: str, shared_budget: None, sweep_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    monkeypatch.setenv("CRAFLOW_SWEEP_FAN_OUT_POLL_SECONDS", "0.5")
    state = sweep_flow(export=sweep_env, concurrency=2, fan_out="deployment", return_state=True)
    outcome = _outcome(state)  # gamma's scans fail, as in subflow mode
    assert sorted((r["product"], r["version"]) for r in outcome.rows) == [
        (p, v) for p in ("alpha", "beta", "gamma") for v in ("1.0.0", "2.0.0")
    ]
    assert [f.product for f in outcome.products_failed] == ["gamma"]
    # each chunk's deployment run was taken here (Pending accepted: no worker had it)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(like_="sweep-alpha-"))
        )
    assert runs and all(r.state is not None and r.state.is_completed() for r in runs)
    assert {r.state.message for r in runs if r.state} == {
        "checked by the sweep run itself while the workers start"
    }


def test_a_run_a_worker_has_taken_is_not_taken_again(worker_pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Pending

    from craflow.sweep import VersionTarget
    from craflow.sweep.fanout import plan_chunks
    from tasks.fanout import ChunkRuns, WorkerPlan

    target = VersionTarget(
        product="p", product_id="p-1", version="1", version_id="v-1", release_state="released"
    )
    (chunk,) = plan_chunks([target], max_versions=1)
    plan = WorkerPlan(
        deployment="sweep-product/sweep-product", concurrency=1, attempts=1, poll_seconds=1
    )
    with get_client(sync_client=True) as client:
        runs = ChunkRuns(client, plan, now=lambda: datetime.now(UTC))
        runs.start(chunk)
        (run_id,) = runs.running
        client.set_flow_run_state(run_id, Pending())  # what a worker does when it takes it
        assert runs.take() is None
        assert list(runs.running) == [run_id]  # still the worker's
        client.set_flow_run_state(run_id, Cancelled(), force=True)
