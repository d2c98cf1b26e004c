from pathlib import Path
from typing import Any

import pytest
from prefect.states import Completed, Failed
from pydantic import SecretStr

from craflow.api import (
    ApiSettings,
    ConfigurationError,
    CraStatus,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    Sbom,
    ServerError,
    scan_history,
)
from craflow.release.errors import ReleaseInputError
from craflow.release.polling import PollResult, PollSchedule
from tasks.artifacts import artifact_key
from tasks.client import current_client, register_client, resolve_api_settings
from tasks.products import find_previous_release
from tasks.promote import deprecate_version, promote_version
from tasks.retry import retry_transient
from tasks.sbom import obtain_sbom
from tasks.scan import ensure_scan, wait_for_scan
from tasks.upload import upload_sbom_once
from tests.unit.tasks.conftest import FakeClient


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (NetworkError("connection reset"), True),
        (RateLimitedError(429, retry_after=3.0), True),
        (ServerError(503), True),
        (ServerError(500), False),
        (NotFoundError(404), False),
        (ValueError("bad"), False),
    ],
)
def test_retry_only_transient_failures(error: Exception, retried: bool) -> None:
    assert retry_transient(None, None, Failed(data=error)) is retried  # type: ignore[arg-type]


def test_retry_condition_ignores_a_state_without_an_error() -> None:
    assert retry_transient(None, None, Completed(data=3)) is False  # type: ignore[arg-type]


def test_no_client_outside_a_registration() -> None:
    with pytest.raises(ConfigurationError, match="no CRA Evidence client"):
        current_client()


def test_one_client_per_run(fake_client: FakeClient) -> None:
    assert current_client() is fake_client
    with (
        pytest.raises(ConfigurationError, match="already registered"),
        register_client(FakeClient()),  # type: ignore[arg-type]
    ):
        pass
    assert current_client() is fake_client


def test_upload_skips_the_same_sha256(fake_client: FakeClient, tmp_path: Path) -> None:
    sbom = tmp_path / "bom.json"
    sbom.write_text("{}")
    fake_client.sboms.append(Sbom(id="old", sha256="AB" * 32))
    result = upload_sbom_once.fn("v1", str(sbom), "ab" * 32)
    assert (result.uploaded, result.sbom_id, fake_client.writes) == (False, "old", [])


def test_upload_when_the_hash_is_new(fake_client: FakeClient, tmp_path: Path) -> None:
    sbom = tmp_path / "bom.json"
    sbom.write_text("{}")
    fake_client.sboms.append(Sbom(id="old", sha256="cd" * 32))
    result = upload_sbom_once.fn("v1", str(sbom), "ab" * 32)
    assert result.uploaded and result.scan_started
    assert result.request_id == "req-1"
    assert fake_client.writes == [("ingest", ("v1", "bom.json"))]


@pytest.mark.parametrize(
    ("started", "state", "triggered"),
    [
        (True, "none", False),
        (False, "completed", False),
        (False, "running", False),
        (False, "none", True),
        (False, "failed", True),
    ],
)
def test_ensure_scan(fake_client: FakeClient, started: bool, state: str, triggered: bool) -> None:
    fake_client.statuses = [CraStatus(scan_state=state)]
    ensure_scan.fn("v1", started)
    assert (("scan", "v1") in fake_client.writes) is triggered


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_for_scan_until_completed(fake_client: FakeClient) -> None:
    fake_client.statuses = [CraStatus(scan_state=s) for s in ("pending", "running", "completed")]
    clock = Clock()
    waited = wait_for_scan.fn("v1", PollSchedule(jitter=0), None, sleep=clock.sleep, clock=clock)
    assert (waited.done, waited.scan_state, waited.polls) == (True, "completed", 3)
    assert clock.now == 4.0  # polls at 0, 2 and 4 s (no cold ramp: craflow.api.polling)


def test_wait_for_scan_reaches_the_deadline(fake_client: FakeClient) -> None:
    fake_client.statuses = [CraStatus(scan_state="running")]
    clock = Clock()
    schedule = PollSchedule(initial=0.5, cap=2, jitter=0, deadline=6)
    waited = wait_for_scan.fn("v1", schedule, None, sleep=clock.sleep, clock=clock)
    assert (waited.done, waited.scan_state) == (False, "running")
    assert clock.now == 6


def test_promote_walks_every_step_once(fake_client: FakeClient) -> None:
    fake_client.add_version("1.0", "draft", vid="v1")
    promotion = promote_version.fn("p1", "v1", "1.0", "released")
    assert promotion.steps == ["pending_review", "approved", "released"]
    assert [w[1][1] for w in fake_client.writes] == promotion.steps
    again = promote_version.fn("p1", "v1", "1.0", "released")
    assert again.steps == [] and len(fake_client.writes) == 3


def test_promote_leaves_a_version_past_the_target(fake_client: FakeClient) -> None:
    fake_client.add_version("1.0", "deprecated", vid="v1")
    assert promote_version.fn("p1", "v1", "1.0", "released").to_state == "deprecated"
    assert fake_client.writes == []


def test_deprecate_records_superseded_by_on_the_last_step(fake_client: FakeClient) -> None:
    fake_client.add_version("1.0", "released", vid="v1")
    deprecate_version.fn("p1", "v1", "1.0", "v2")
    assert fake_client.writes == [("release-state", ("v1", "deprecated", "v2"))]
    deprecate_version.fn("p1", "v1", "1.0", "v2")
    assert len(fake_client.writes) == 1


def test_previous_release(fake_client: FakeClient) -> None:
    fake_client.add_version("1.0", "released")
    fake_client.add_version("1.1", "draft")
    picked = find_previous_release.fn("p1", "1.1")
    assert picked is not None and picked.version_number == "1.0"
    assert find_previous_release.fn("p1", "1.1", "1.1").version_number == "1.1"  # type: ignore[union-attr]
    with pytest.raises(ReleaseInputError, match=r"'0\.9' does not exist"):
        find_previous_release.fn("p1", "1.1", "0.9")


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("release", "Widget", "1.2.0"), "release-widget-1-2-0"),
        (("release", "a_b", "v2.0-RC1", "scan progress"), "release-a-b-v2-0-rc1-scan-progress"),
        (("..",), "craflow"),
    ],
)
def test_artifact_key(parts: tuple[str, ...], key: str) -> None:
    assert artifact_key(*parts) == key


@pytest.mark.parametrize("source", ["nonsense", "command:rm -rf /", ":x", "env:"])
def test_obtain_sbom_refuses_bad_or_unsafe_sources(source: str, tmp_path: Path) -> None:
    with pytest.raises(ReleaseInputError):
        obtain_sbom.fn(None, source, "p", "1", tmp_path)


def test_obtain_sbom_needs_exactly_one_input(tmp_path: Path) -> None:
    with pytest.raises(ReleaseInputError, match="exactly one"):
        obtain_sbom.fn(None, None, "p", "1", tmp_path)


def test_obtain_sbom_reads_a_file_uri(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": '
        '[{"type": "library", "name": "idna", "version": "3.10", "purl": "pkg:pypi/idna@3.10"}]}'
    )
    found = obtain_sbom.fn(bom.as_uri(), None, "p", "1", tmp_path)
    assert (found.path, found.format, found.component_count) == (str(bom), "cyclonedx", 1)
    assert len(found.sha256) == 64 and not found.generated
    assert 0 <= found.quality_score <= 100


def test_api_key_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.client

    monkeypatch.setattr(tasks.client, "_secret_from_block", pytest.fail)
    settings = ApiSettings(url="http://127.0.0.1:1", api_key=SecretStr("cra_fromenv1234"))
    assert resolve_api_settings("craflow-api-key", settings) is settings


def test_api_key_from_the_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.client

    asked: list[str] = []
    monkeypatch.setattr(
        tasks.client, "_secret_from_block", lambda name: asked.append(name) or "cra_block5678"
    )
    monkeypatch.delenv("CRA_EVIDENCE_API_KEY", raising=False)
    monkeypatch.delenv("CRA_EVIDENCE_EMAIL", raising=False)
    resolved = resolve_api_settings("my-block", ApiSettings(url="http://127.0.0.1:1"))
    assert asked == ["my-block"]
    assert resolved.api_key is not None
    assert resolved.api_key.get_secret_value() == "cra_block5678"
    assert "cra_block5678" not in repr(resolved)


class _RecordingPoller:
    """Stands in for `ScanPoller`: one read, and the keyword arguments it was given."""

    def __init__(self) -> None:
        self.kwargs: dict[str, object] = {}

    def wait(self, fetch: Any, schedule: PollSchedule, **kwargs: object) -> PollResult[CraStatus]:
        self.kwargs = kwargs
        return PollResult(fetch(), True, 1, 0.0)


@pytest.mark.parametrize(
    ("state", "upfront"),
    [("pending", True), ("RUNNING", True), ("completed", False), (None, False)],
)
def test_wait_for_scan_names_the_scope_up_front_only_for_a_scan_under_way(
    fake_client: FakeClient, monkeypatch: pytest.MonkeyPatch, state: str | None, upfront: bool
) -> None:
    """An already final scan keeps the immediate read (no wait for a plan)."""
    poller = _RecordingPoller()
    monkeypatch.setattr("tasks.scan.scan_poller", lambda settings, client: poller)
    fake_client.statuses = [CraStatus(scan_state="completed")]
    wait_for_scan.fn("v1", PollSchedule(), None, scan_state=state, component_count=40)
    expected = ("v1", 40) if upfront else (None, None)
    assert (poller.kwargs["version_id"], poller.kwargs["component_count"]) == expected


def test_wait_for_scan_keeps_what_the_wait_learned(
    fake_client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan history is written behind; the release's wait is where its run ends."""
    flushed: list[bool] = []
    monkeypatch.setattr(scan_history, "flush_all", lambda: flushed.append(True))
    monkeypatch.setattr("tasks.scan.scan_poller", lambda settings, client: _RecordingPoller())
    fake_client.statuses = [CraStatus(scan_state="completed")]
    wait_for_scan.fn("v1", PollSchedule(), None)
    assert flushed == [True]
