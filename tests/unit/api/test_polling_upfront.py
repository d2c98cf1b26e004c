"""A scope known before the first read: no immediate poll, the first read at the plan."""

import itertools
import json
import math
import statistics
from pathlib import Path

import pytest

from craflow.api import CraStatus, scan_history
from craflow.api.polling import (
    Expected,
    PollResult,
    PollSchedule,
    ScanHistory,
    ScanPoller,
    poll_plan,
)
from tests.unit.api.conftest import FakeClock

API = "https://cra.test/api/v1"
SMALL = f"{API}|c16"  # 40 components
LARGE = f"{API}|c4096"  # 5000 components


class Scan:
    """A scan that finishes `seconds` after the wait starts; records when it was read."""

    def __init__(self, clock: FakeClock, seconds: float, components: int = 40) -> None:
        self.clock = clock
        self.start = clock.now
        self.end = clock.now + seconds
        self.components = components
        self.reads: list[float] = []

    def __call__(self) -> CraStatus:
        self.reads.append(self.clock.now - self.start)
        state = "completed" if self.clock.now >= self.end else "running"
        return CraStatus.model_validate(
            {"scan_state": state, "sbom": {"component_count": self.components}}
        )


def _wait(
    poller: ScanPoller,
    seconds: float,
    *,
    phase: float = 0.5,
    learn: bool = True,
    components: int = 40,
    version_id: str | None = None,
    component_count: int | None = None,
) -> tuple[PollResult[CraStatus], Scan]:
    clock = FakeClock()
    scan = Scan(clock, seconds, components)
    result = poller.wait(
        scan,
        PollSchedule(initial=0.5, cap=2.0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: phase,
        learn_in_virtual_time=learn,
        version_id=version_id,
        component_count=component_count,
    )
    assert result.done
    return result, scan


def _stable(history: ScanHistory, scope: str, seconds: float) -> None:
    """Three scans of *seconds* whose dense polls saw them end: a narrow window."""
    for after, by in ((-0.3, 0.1), (-0.2, 0.2), (-0.1, 0.3)):
        history.record(scope, seconds + after, seconds + by)


def test_without_an_immediate_poll_the_whole_budget_is_planned() -> None:
    """floor(latest / 2 s) reads up to the latest end (at least one, at that end)."""
    short = poll_plan(Expected(earliest=1.6, latest=2.5), 2.0, immediate=False)
    assert list(itertools.islice(short, 3)) == [2.5, 4.0, 6.0]  # one read: 0.4/s
    eight = list(itertools.islice(poll_plan(Expected(7.6, 8.1), 2.0, immediate=False), 6))
    assert eight[:3] == pytest.approx([7.3, 7.7, 8.1])
    assert len([at for at in eight if at <= 8.1]) <= math.floor(8.1 / 2.0)
    for n, at in enumerate(eight, start=1):
        assert n <= at / 2.0 + 1e-9  # the n-th read never before n steady periods


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
def test_a_size_known_up_front_skips_the_immediate_poll(tmp_path: Path, seconds: float) -> None:
    history = ScanHistory(tmp_path)
    _stable(history, SMALL, seconds)
    result, scan = _wait(ScanPoller(history, API, 2.0), seconds, component_count=40)
    assert scan.reads[0] > 0  # the first read is the plan's first point
    assert result.elapsed - seconds <= 0.5
    assert result.polls / result.elapsed <= 0.5  # every read, averaged over the wait
    if seconds == 2.0:
        assert result.polls == 1


@pytest.mark.parametrize("seconds", [2.0, 3.3, 8.0, 40.0, 120.0])
def test_repeated_scans_known_up_front_converge_within_the_budget(
    tmp_path: Path, seconds: float
) -> None:
    """Cold first (immediate poll), then no immediate poll: a scan done at the first read
    tells (0, by]; the lower bounds of earlier intervals keep the window narrow, and when
    the recent intervals all start at 0 the probe learns it again (a short scan's latest
    end creeps up by the slack until a re-learning probe sees it done: bounded). Over 40
    scans: median latency well within 1 s, median polls/s within the budget, all reads
    counted; only short scans' probes (a second read) go over it, about one wait in five."""
    for phase in (0.0, 0.25, 0.5, 0.75, 0.95):
        poller = ScanPoller(ScanHistory(tmp_path / f"{phase}"), API, 2.0)
        runs = [_wait(poller, seconds, phase=phase, component_count=40) for _ in range(40)]
        assert runs[0][1].reads[0] == 0  # cold: the immediate poll
        assert all(scan.reads[0] > 0 for _, scan in runs[1:])
        latencies = [result.elapsed - seconds for result, _ in runs[1:]]
        rates = [result.polls / result.elapsed for result, _ in runs[1:]]
        assert min(latencies) >= 0
        assert statistics.median(latencies) <= 0.6, (phase, latencies)
        assert max(latencies[3:]) <= 1.0, (phase, latencies)  # no drift once learned
        assert statistics.median(rates) <= 0.5, (phase, rates)
        if seconds >= 8:
            assert max(rates) <= 0.5, (phase, rates)
        else:  # only the probes (a window over 1 s wide) cost a second read
            assert sum(rate > 0.5 for rate in rates) <= 10, (phase, rates)
            reads = sum(result.polls for result, _ in runs[1:])
            waited = sum(result.elapsed for result, _ in runs[1:])
            assert reads / waited <= 0.55, (phase, rates)  # 0.50 over 100 scans


@pytest.mark.parametrize("seconds", [0.2, 0.5, 1.0])
def test_a_short_scan_is_noticed_in_proportion_to_its_length(
    tmp_path: Path, seconds: float
) -> None:
    """Under one steady period: the window is probed until it is about half the scan's
    length wide (a sweep's last version waits on it), at about one read per wait."""
    poller = ScanPoller(ScanHistory(tmp_path), API, 2.0)
    runs = [_wait(poller, seconds, component_count=40) for _ in range(40)]
    latencies = [result.elapsed - seconds for result, _ in runs[10:]]
    reads = [result.polls for result, _ in runs[10:]]
    assert statistics.median(latencies) <= max(0.2, 0.5 * seconds), latencies
    assert statistics.mean(reads) <= 1.25, reads


def test_a_short_scan_that_runs_late_is_read_again_soon(tmp_path: Path) -> None:
    """Learned at 0.2 s, this one takes 0.9 s: read again within the second, not at the
    n-th steady period (the budget rule of longer scans)."""
    poller = ScanPoller(ScanHistory(tmp_path), API, 2.0)
    for _ in range(20):
        _wait(poller, 0.2, component_count=40)
    result, scan = _wait(poller, 0.9, component_count=40)
    assert result.elapsed - 0.9 <= 0.5, scan.reads
    assert result.polls <= 4


@pytest.mark.parametrize(("learned", "now"), [(8.0, 40.0), (40.0, 8.0), (2.0, 8.0), (120.0, 2.0)])
def test_a_slower_or_faster_scan_is_still_noticed_within_the_budget(
    tmp_path: Path, learned: float, now: float
) -> None:
    poller = ScanPoller(ScanHistory(tmp_path), API, 2.0)
    for _ in range(4):
        _wait(poller, learned, component_count=40)
    for _ in range(3):
        result, scan = _wait(poller, now, component_count=40)
        assert scan.reads[0] > 0
        assert result.polls / result.elapsed <= 0.5 + 1e-9


def test_a_version_remembers_its_scope_for_its_next_wait(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    _stable(history, SMALL, 8.0)
    poller = ScanPoller(history, API, 2.0)
    _, first = _wait(poller, 8.0, version_id="v1")
    assert first.reads[0] == 0  # the scope is not known yet: the immediate poll names it
    assert ScanHistory(tmp_path).scope_of("v1") == SMALL  # durable
    result, again = _wait(ScanPoller(ScanHistory(tmp_path), API, 2.0), 8.0, version_id="v1")
    assert again.reads[0] > 0  # a nightly sweep's second night: no immediate poll
    assert result.polls / result.elapsed <= 0.5
    _, other = _wait(poller, 8.0, version_id="v2")
    assert other.reads[0] == 0
    # another server's scope is not this one's
    assert ScanPoller(history, "https://other/api", 2.0).known_scope(history, "v1", None) is None


def test_version_scopes_are_bounded_and_survive_a_corrupt_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_history, "_VERSIONS", 3)
    history = ScanHistory(tmp_path)
    assert history.scope_of("v1") is None
    for version in ("v1", "v2", "v3"):
        history.remember(version, SMALL)
    history.remember("v1", LARGE)  # the most recent again, with its new scope
    history.remember("v4", SMALL)  # the oldest (v2) goes
    history.flush()  # written behind
    assert json.loads(history.scopes_path.read_text()) == {"v3": SMALL, "v1": LARGE, "v4": SMALL}
    history.scopes_path.write_text("{not json")
    assert history.scope_of("v1") is None
    history.remember("v5", SMALL)  # a corrupt file is replaced, not fatal
    assert ScanHistory(tmp_path).scope_of("v5") == SMALL
    history.scopes_path.write_text(json.dumps({"v1": 3, "v2": SMALL, "v3": None}))
    assert (history.scope_of("v1"), history.scope_of("v2")) == (None, SMALL)
    history.path.write_text(json.dumps({SMALL: [[7.9, 8.2]]}))  # intervals: their own file
    assert history.spans(SMALL) == [(7.9, 8.2)]


def test_a_scope_that_turns_out_different_keeps_the_plan_and_is_remembered(
    tmp_path: Path,
) -> None:
    """The local SBOM says 40 components, the server 5000: this wait keeps the plan of the
    up-front scope; the real one is remembered and taught what the scan told."""
    history = ScanHistory(tmp_path)
    _stable(history, SMALL, 40.0)
    poller = ScanPoller(history, API, 2.0)
    result, scan = _wait(poller, 41.0, components=5000, version_id="v1", component_count=40)
    assert scan.reads[0] == pytest.approx(29.7)  # the small class's plan, no immediate poll
    assert result.elapsed - 41.0 <= 1.0
    assert history.scope_of("v1") == LARGE
    assert history.spans(LARGE) == [(40.901, 41.301)]  # the small class's dense polls
    assert len(history.spans(SMALL)) == 3  # untouched


def test_a_scan_done_at_the_delayed_first_read_teaches_zero_to_that_read(
    tmp_path: Path,
) -> None:
    history = ScanHistory(tmp_path)
    history.record(SMALL, 1.6, 2.0)
    result, _ = _wait(ScanPoller(history, API, 2.0), 1.8, component_count=40)
    assert result.polls == 1
    assert history.spans(SMALL) == [(1.6, 2.0), (0.0, 2.1)]
    assert history.expected(SMALL) == Expected(earliest=1.6, latest=2.1)  # lower bound kept


def _reads(
    history: ScanHistory | None, *, learn: bool, **upfront: object
) -> tuple[list[float], list[float]]:
    clock = FakeClock()
    scan = Scan(clock, 8.0)
    ScanPoller(history, API, 2.0).wait(
        scan,
        PollSchedule(initial=0.5, cap=2.0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.5,
        learn_in_virtual_time=learn,
        **upfront,  # type: ignore[arg-type]
    )
    return scan.reads, clock.sleeps


def test_nothing_changes_without_an_upfront_scope_or_its_history(tmp_path: Path) -> None:
    learned = ScanHistory(tmp_path / "learned")
    _stable(learned, SMALL, 8.0)
    today = _reads(learned, learn=True)
    assert today[0][0] == 0 and today[0][1:] == pytest.approx([7.8, 8.2])
    # a scope known up front but no history for it: the cold pace, the immediate poll first
    cold = _reads(ScanHistory(tmp_path / "empty"), learn=True, component_count=40)
    assert cold == _reads(None, learn=False)
    assert cold[0][:3] == [0.0, 3.0, 5.0]
    # virtual time without learning reads no history: an up-front scope changes nothing
    assert _reads(learned, learn=False, component_count=40, version_id="v") == cold
    assert not (tmp_path / "learned" / "scan-scopes.json").exists()
