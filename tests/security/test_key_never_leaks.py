"""The API key never appears in output, logs, artifacts, events, flow parameters, exception
messages, stored results or the evidence archive; TLS verification cannot be turned off
silently; archived objects are encrypted at rest by default.

One module-scoped scenario runs a blocked release, a passing release (`--json`), a rerun,
a failing release with a wrong key, and a sweep, all with a recognisable key, then searches
everything it can reach for that key.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter
from prefect.events.clients import AssertingEventsClient
from prefect.events.worker import EventsWorker
from pydantic import SecretStr
from typer.testing import CliRunner

from craflow.api import ApiSettings, AuthenticationError, CraEvidenceClient
from craflow.cli import app
from craflow.sandbox.runner import RunningSandbox, start_sandbox
from craflow.sandbox.s3 import LocalS3, boto3_session_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CANARY = "cra_CANARY" + secrets.token_hex(16)
# The key may be shown as `cra_****` + its last four characters; anything longer is a leak.
NEEDLES = (CANARY, CANARY[:-4], CANARY[4:-4])


def _leaks(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        return [n for n in NEEDLES if n.encode() in text]
    return [n for n in NEEDLES if n in text]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.lines.append(repr(record.__dict__))


@dataclass
class Scenario:
    sandbox: RunningSandbox
    bucket: str
    s3: Any
    outputs: dict[str, str] = field(default_factory=dict)
    exit_codes: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def _bom(path: Path, requests_version: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "version": 1,
                "components": [
                    {
                        "type": "library",
                        "name": "requests",
                        "version": requests_version,
                        "purl": f"pkg:pypi/requests@{requests_version}",
                    }
                ],
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def scenario(
    prefect_harness: None,
    local_s3: LocalS3,
    s3_client: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("leak")
    bucket = f"craflow-leak-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=bucket)
    handler = _Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    noisy = ("craflow", "httpx", "httpcore", "prefect", "botocore")
    old_levels = {name: logging.getLogger(name).level for name in noisy}
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG)
    with (
        start_sandbox(scan_seconds=0.05, rate_scale=3600.0, data_dir=tmp / "sandbox",
                      api_key=CANARY) as sandbox,
        pytest.MonkeyPatch.context() as mp,
    ):  # fmt: skip
        worker = EventsWorker.instance(AssertingEventsClient)
        mp.setattr(EventsWorker, "instance", lambda *_a, **_k: worker)
        mp.setenv("CRA_EVIDENCE_URL", sandbox.url)
        mp.setenv("CRA_EVIDENCE_API_KEY", CANARY)
        for name, value in boto3_session_env(local_s3).items():
            mp.setenv(name, value)
        mp.setenv("CRAFLOW_RELEASE_POLL_INITIAL_SECONDS", "0.1")
        mp.setenv("CRAFLOW_RELEASE_POLL_CAP_SECONDS", "0.5")
        mp.setenv("CRAFLOW_RELEASE_POLL_DEADLINE_SECONDS", "60")
        mp.setenv("CRAFLOW_RATE_WINDOW_SCALE", "3600")
        mp.setenv("CRAFLOW_SWEEP_POLL_INTERVAL_SECONDS", "0.05")
        mp.setenv("CRAFLOW_SWEEP_POLL_TIMEOUT_SECONDS", "30")
        found = Scenario(sandbox, bucket, s3_client)
        export = f"s3://{bucket}/evidence"
        runs = {
            "vulnerable": ["release", "--product", "leaky", "--version", "1.0",
                           "--sbom", str(_bom(tmp / "old.json", "2.19.0")), "--fail-on", "low",
                           "--export", export],
            "passed-json": ["release", "--product", "leaky", "--version", "1.1", "--json",
                            "--sbom", str(_bom(tmp / "new.json", "2.31.0")),
                            "--fail-on", "none", "--export", export],
            "rerun": ["release", "--product", "leaky", "--version", "1.1",
                      "--sbom", str(tmp / "new.json"), "--fail-on", "none",
                      "--export", export],
            "sweep-json": ["sweep", "--product", "leaky", "--json"],
        }  # fmt: skip
        runner = CliRunner()
        for name, args in runs.items():
            result = runner.invoke(app, args)
            found.outputs[name] = result.stdout + result.stderr + repr(result.exception)
            found.exit_codes[name] = result.exit_code
        wrong = runner.invoke(app, runs["rerun"], env={"CRA_EVIDENCE_API_KEY": CANARY + "x"})
        found.outputs["wrong-key"] = wrong.stdout + wrong.stderr
        found.exit_codes["wrong-key"] = wrong.exit_code
        worker.wait_until_empty()
        if AssertingEventsClient.last is not None:
            found.events = [e.model_dump_json() for e in AssertingEventsClient.last.events]
        worker.drain()
        found.logs = handler.lines
        yield found
    root.removeHandler(handler)
    root.setLevel(old_level)
    for name, level in old_levels.items():
        logging.getLogger(name).setLevel(level)


def test_the_scenario_ran_what_it_claims(scenario: Scenario) -> None:
    shown = {name: out[-400:] for name, out in scenario.outputs.items()}
    codes = scenario.exit_codes
    assert codes["vulnerable"] in {0, 10, 11, 12, 13}, (codes, shown)
    assert codes["passed-json"] == 0, (codes, shown)
    assert codes["rerun"] == 0, (codes, shown)
    assert codes["wrong-key"] == 2, (codes, shown)
    assert codes["sweep-json"] in {0, 3}, (codes, shown)
    assert len(scenario.logs) > 50
    assert scenario.events, "no Prefect event was recorded"


def test_the_key_is_not_in_any_command_output(scenario: Scenario) -> None:
    assert {name: _leaks(out) for name, out in scenario.outputs.items() if _leaks(out)} == {}


def test_the_key_is_not_in_any_log_record_even_at_debug(scenario: Scenario) -> None:
    assert [line[:200] for line in scenario.logs if _leaks(line)] == []


def test_the_key_is_not_in_any_event(scenario: Scenario) -> None:
    assert [e[:200] for e in scenario.events if _leaks(e)] == []


def test_the_key_is_not_in_flow_runs_task_runs_logs_or_artifacts(scenario: Scenario) -> None:
    with get_client(sync_client=True) as client:
        flow_runs = client.read_flow_runs()
        assert len(flow_runs) >= 4
        ids = [r.id for r in flow_runs]
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids))
        )
        logs = client.read_logs(log_filter=LogFilter(), limit=200)
        offset = 200
        while True:
            more = client.read_logs(log_filter=LogFilter(), limit=200, offset=offset)
            if not more:
                break
            logs += more
            offset += 200
        artifacts = client.read_artifacts()
        variables = client.read_variables()
    stored = {
        "flow runs": [r.model_dump_json() for r in flow_runs],
        "task runs": [t.model_dump_json() for t in task_runs],
        "logs": [entry.model_dump_json() for entry in logs],
        "artifacts": [a.model_dump_json() for a in artifacts],
        "variables": [v.model_dump_json() for v in variables],
    }
    assert stored["artifacts"], "the releases published no artifact: nothing was searched"
    assert stored["logs"], "the server stored no log: nothing was searched"
    leaked = {kind: [t[:200] for t in texts if _leaks(t)] for kind, texts in stored.items()}
    assert {kind: hits for kind, hits in leaked.items() if hits} == {}


def test_the_key_is_not_in_persisted_results_or_prefect_home(scenario: Scenario) -> None:
    home = Path(os.environ["PREFECT_HOME"])
    searched = 0
    hits = []
    for path in home.rglob("*"):
        if path.is_file() and path.stat().st_size < 50 * 2**20:
            searched += 1
            if _leaks(path.read_bytes()):
                hits.append(str(path.relative_to(home)))
    assert searched > 0
    assert hits == []


def _objects(scenario: Scenario) -> list[str]:
    listed = scenario.s3.list_objects_v2(Bucket=scenario.bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_key_is_not_in_the_evidence_archive(scenario: Scenario) -> None:
    keys = _objects(scenario)
    assert keys, "nothing was archived: nothing was searched"
    hits = []
    for key in keys:
        body = scenario.s3.get_object(Bucket=scenario.bucket, Key=key)["Body"].read()
        if _leaks(body) or _leaks(key):
            hits.append(key)
        if key.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                hits += [f"{key}!{n}" for n in archive.namelist() if _leaks(archive.read(n))]
    assert hits == []


def test_archived_objects_are_encrypted_at_rest_by_default(scenario: Scenario) -> None:
    keys = _objects(scenario)
    assert keys
    unencrypted = {}
    for key in keys:
        head = scenario.s3.head_object(Bucket=scenario.bucket, Key=key)
        if head.get("ServerSideEncryption") not in {"AES256", "aws:kms"}:
            unencrypted[key] = head.get("ServerSideEncryption")
    assert unencrypted == {}


def test_the_key_is_not_in_client_reprs_or_exception_messages(scenario: Scenario) -> None:
    settings = ApiSettings(url=scenario.sandbox.url, api_key=SecretStr(CANARY + "x"))
    assert _leaks(repr(settings)) == []
    assert _leaks(str(settings.model_dump())) == []
    with CraEvidenceClient(settings) as client:
        assert _leaks(repr(client)) == []
        with pytest.raises(AuthenticationError) as caught:
            list(client.list_products())
    error = caught.value
    texts = [str(error), repr(error), repr(error.body), str(error.text), repr(error.__dict__)]
    assert [t for t in texts if _leaks(t)] == []


def test_turning_tls_verification_off_warns_on_every_client(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFLOW_VERIFY_TLS", "false")
    monkeypatch.setenv("CRA_EVIDENCE_URL", "https://127.0.0.1:9")
    monkeypatch.setenv("CRA_EVIDENCE_API_KEY", CANARY)
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        CraEvidenceClient().close()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "TLS" in r.message]
    assert len(warnings) == 3
    assert all(_leaks(r.getMessage()) == [] for r in warnings)


def test_tls_verification_is_on_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    settings = ApiSettings(url="https://127.0.0.1:9", api_key=SecretStr(CANARY))
    assert settings.verify_tls is True
    CraEvidenceClient(settings).close()
    assert [r for r in caplog.records if "TLS" in r.message] == []
