"""The sweep's per-version chain and selection against an in-memory fake client."""

from collections.abc import Iterator
from typing import Any, cast

import pytest

from config.sweep import SweepSettings
from craflow.api import CraEvidenceClient
from craflow.api.errors import ServerError
from craflow.api.models import (
    Component,
    CraStatus,
    Product,
    ScanTrigger,
    Version,
    Vulnerability,
    VulnerabilitySummary,
)
from craflow.sweep import VersionTarget
from tasks import sweep as tasks_sweep
from tasks.sweep import VersionCheckError, check_version, describe_failure, select_targets

TARGET = VersionTarget(
    product="shop", product_id="p1", version="1.0", version_id="v1", release_state="released"
)


class FakeClient:
    def __init__(self, scan_states: list[str], *, trigger: str = "pending") -> None:
        self.scan_states = scan_states
        self.trigger = trigger
        self.calls: list[str] = []
        self.failing_products: set[str] = set()

    def trigger_scan(self, version_id: str) -> ScanTrigger:
        self.calls.append(f"scan {version_id}")
        return ScanTrigger(scan_id="s1", status=self.trigger)

    def get_cra_status(self, version_id: str) -> CraStatus:
        state = self.scan_states.pop(0) if len(self.scan_states) > 1 else self.scan_states[0]
        self.calls.append(f"status {state}")
        return CraStatus(
            scan_state=state,
            cra_status="incomplete",
            release_state="released",
            vulnerability_summary=VulnerabilitySummary(critical=1, high=2, medium=0, low=3),
            kev_count=1,
        )

    def list_vulnerabilities(self, **kwargs: Any) -> Iterator[Vulnerability]:
        self.calls.append(f"vulns {kwargs['version_id']}")
        comp = Component(name="jinja2", version="2.10", purl="pkg:pypi/jinja2@2.10")
        yield Vulnerability(
            id="1", vuln_id="GHSA-b", severity="high", kev=True, component=comp, status="open"
        )
        yield Vulnerability(
            id="2", vuln_id="GHSA-a", severity="low", component=comp, status="in_progress"
        )
        yield Vulnerability(
            id="3", vuln_id="GHSA-c", severity="low", component=comp, status="fixed"
        )

    def list_products(self) -> Iterator[Product]:
        yield from (Product(id=f"id-{s}", name=s, slug=s) for s in ("api", "shop", "web"))

    def list_versions(self, product_id: str) -> Iterator[Version]:
        if product_id in self.failing_products:
            raise ServerError(500, detail="boom")
        for number, state in (("1", "released"), ("2", "draft"), ("3", "approved")):
            yield Version(id=f"{product_id}-{number}", version_number=number, release_state=state)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _check(client: FakeClient, clock: FakeClock, **settings: Any) -> Any:
    return check_version(
        cast(CraEvidenceClient, client),
        TARGET,
        SweepSettings(**settings),
        clock=clock,
        sleep=clock.sleep,
    )


def test_check_version_polls_to_completion_and_keeps_only_open_findings() -> None:
    client = FakeClient(["pending", "running", "completed"])
    clock = FakeClock()
    snap = _check(client, clock, poll_interval_seconds=2.0)
    assert clock.sleeps == [2.0, 2.0]
    assert client.calls[0] == "scan v1" and client.calls[-1] == "vulns v1"
    assert [h.vuln_id for h in snap.vulnerabilities] == ["GHSA-a", "GHSA-b"]
    assert snap.vulnerabilities[1].kev and snap.vulnerabilities[1].component == "jinja2"
    assert (snap.counts.critical, snap.counts.high, snap.counts.low, snap.kev_count) == (1, 2, 3, 1)
    assert snap.cra_status == "incomplete" and snap.error is None


def test_a_failed_scan_is_a_version_check_error() -> None:
    with pytest.raises(VersionCheckError, match=r"scan failed on 1\.0"):
        _check(FakeClient(["pending", "failed"]), FakeClock())


def test_a_scan_that_never_ends_times_out_on_the_injected_clock() -> None:
    clock = FakeClock()
    with pytest.raises(VersionCheckError, match="still running after 10 s"):
        _check(FakeClient(["running"]), clock, poll_interval_seconds=3.0, poll_timeout_seconds=10)
    assert sum(clock.sleeps) == 10.0  # never sleeps past the deadline


def test_disabled_scanning_is_reported_without_polling() -> None:
    client = FakeClient(["completed"], trigger="disabled")
    with pytest.raises(VersionCheckError, match="disabled"):
        _check(client, FakeClock())
    assert client.calls == ["scan v1"]


def test_select_targets_keeps_chosen_products_and_states_and_isolates_listing_failures() -> None:
    client = FakeClient(["completed"])
    client.failing_products = {"id-web"}
    selection = select_targets(
        cast(CraEvidenceClient, client), ["shop", "w*", "nope"], ["released", "approved"]
    )
    assert [(t.product, t.version) for t in selection.targets] == [("shop", "1"), ("shop", "3")]
    assert selection.products == ("shop",)
    assert selection.unmatched == ("nope",)
    assert [f.product for f in selection.failed] == ["web"]


def test_describe_failure_is_one_line() -> None:
    assert describe_failure(RuntimeError("first\nsecond")) == "first"
    assert describe_failure(RuntimeError("")) == "RuntimeError"


@pytest.mark.parametrize(("trigger", "upfront"), [("pending", "v1"), ("completed", None)])
def test_check_version_names_the_version_for_a_scan_just_started(
    monkeypatch: pytest.MonkeyPatch, trigger: str, upfront: str | None
) -> None:
    """The second night knows the version's scope before the first read."""
    seen: dict[str, object] = {}
    real = tasks_sweep.scan_poller

    def recording(settings: Any, client: Any) -> Any:
        poller = real(settings, client)
        wait = poller.wait

        def recorded(*args: Any, **kwargs: Any) -> Any:
            seen.update(kwargs)
            return wait(*args, **kwargs)

        poller.wait = recorded  # type: ignore[method-assign]
        return poller

    monkeypatch.setattr(tasks_sweep, "scan_poller", recording)
    _check(FakeClient(["completed"], trigger=trigger), FakeClock(), poll_interval_seconds=2.0)
    assert seen["version_id"] == upfront
