"""The one poll primitive: learned scan ends, dense polls only near the expected end."""

import itertools
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from craflow.api import CraStatus
from craflow.api.polling import (
    ACTIVE_SCAN_STATES,
    TERMINAL_SCAN_STATES,
    Expected,
    PollResult,
    PollSchedule,
    ScanHistory,
    ScanPoller,
    next_delay,
    poll_plan,
    poll_until,
    size_class,
)
from tests.unit.api.conftest import FakeClock


class Scan:
    """A scan that finishes `seconds` after the wait starts, on the fake clock."""

    def __init__(self, clock: FakeClock, seconds: float, components: int = 40) -> None:
        self.clock = clock
        self.end = clock.now + seconds
        self.components = components
        self.polls = 0

    def __call__(self) -> CraStatus:
        self.polls += 1
        state = "completed" if self.clock.now >= self.end else "running"
        return CraStatus.model_validate(
            {"scan_state": state, "sbom": {"component_count": self.components}}
        )


def test_scan_states_have_one_home() -> None:
    assert {"completed", "failed", "disabled"} == TERMINAL_SCAN_STATES
    assert {"pending", "running"} == ACTIVE_SCAN_STATES
    assert not TERMINAL_SCAN_STATES & ACTIVE_SCAN_STATES


def test_next_delay_is_sparse_then_dense_then_steady() -> None:
    expected = Expected(earliest=40.0, latest=41.0)
    assert next_delay(0.0, 2.0, None) == 2.0
    assert next_delay(0.0, 2.0, expected) == pytest.approx(29.775)  # most of the way
    assert next_delay(39.0, 2.0, expected) == pytest.approx(0.8)  # up to the window
    assert next_delay(39.8, 2.0, expected) == pytest.approx(0.4)  # dense in it
    assert next_delay(41.0, 2.0, expected) == pytest.approx(0.4)  # a little late: still close
    assert next_delay(41.8, 2.0, expected) == pytest.approx(0.8)
    assert next_delay(44.2, 2.0, expected) == pytest.approx(2.0)  # back to the steady pace


def test_a_short_expected_scan_gets_one_poll_at_its_latest_end() -> None:
    """Budget 0.5 polls/s: 2.5 s allow one read besides the immediate one; then steady."""
    plan = poll_plan(Expected(earliest=1.5, latest=2.5), 2.0)
    assert list(itertools.islice(plan, 4)) == [2.5, 4.0, 6.0, 8.0]


def _probes(expected: Expected, steady: float) -> bool:
    """A window that allows one poll only and is over 1 s wide: a probe in its middle too."""
    budget = max(1, math.floor(expected.latest / steady) - 1)
    return budget == 1 and expected.latest - expected.earliest > 1.0


def _planned_within_budget(plan: list[float], steady: float, free: int = 1) -> None:
    """The n-th poll after the immediate one is not before n steady periods (a lone first
    one may be, or a probe and the poll after it): planned polls / seconds waited <= the
    budget, whenever the scan ends."""
    assert plan == sorted(set(plan))
    for n, at in enumerate(plan[free:], start=free + 1):
        assert n <= at / steady + 1e-9


def _reads_until(plan: list[float], latest: float) -> int:
    return 1 + sum(1 for at in plan if at <= latest + 1e-9)  # with the immediate one


def _wait_learned(
    seconds: float, expect: Callable[[CraStatus], Expected | None]
) -> PollResult[CraStatus]:
    """Wait in virtual time for a scan that ends after *seconds*, with *expect*'s window."""
    clock = FakeClock()
    return poll_until(
        Scan(clock, seconds),
        lambda s: s.scan_state == "completed",
        PollSchedule(initial=0.5, cap=2.0, jitter=0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        expect=expect,
    )


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
@pytest.mark.parametrize(
    "samples",
    [
        ((-1.9, 0.4),),  # one scan seen, cold: pending at once, done at the next poll
        ((-0.3, 0.1), (-0.2, 0.2), (-0.1, 0.3)),  # a stable duration: they overlap
        ((-0.9, -0.5), (-0.2, 0.2), (0.5, 0.9)),  # durations vary: they do not
    ],
)
def test_learned_polls_stay_within_the_budget_and_notice_the_expected_end(
    tmp_path: Path, seconds: float, samples: tuple[tuple[float, float], ...]
) -> None:
    history = ScanHistory(tmp_path)
    for after, by in samples:
        history.record("s", max(0.0, seconds + after), seconds + by)
    expected = history.expected("s")
    assert expected is not None
    probes = _probes(expected, 2.0)
    plan = list(itertools.takewhile(lambda at: at < 900, poll_plan(expected, 2.0)))
    _planned_within_budget(plan, 2.0, free=2 if probes else 1)
    # up to the latest expected end: one read per 2 s, the immediate one included
    # (and always one poll at that end: a 2 s scan costs two reads, three with a probe)
    limit = max(2, math.floor(expected.latest / 2.0)) + probes
    assert _reads_until(plan, expected.latest) <= limit
    assert expected.latest in plan
    result = _wait_learned(seconds, lambda status: expected)
    assert result.done
    assert result.elapsed - seconds <= 1.0  # ends as expected: noticed within 1 s
    if not probes:
        assert (result.polls - 1) / result.elapsed <= 0.5  # planned polls per second waited
    if seconds >= 8:
        assert result.polls / result.elapsed <= 0.5  # every read, the immediate one too


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
def test_learned_polls_stay_within_the_budget_for_early_and_late_scans(seconds: float) -> None:
    expected = Expected(earliest=seconds - 0.5, latest=seconds + 0.5)
    for end in [seconds * f for f in (0.25, 0.5, 0.9, 1.0, 1.1, 1.5, 3.0)]:
        result = _wait_learned(end, lambda status: expected)
        assert result.done
        # planned polls within the budget, but a lone first poll at the latest end
        assert result.polls - 1 <= max(1.0, result.elapsed / 2.0 + 1e-9)


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
def test_cold_polls_stay_within_the_budget_and_notice_within_1_s_on_median(
    seconds: float,
) -> None:
    """No history: the immediate poll, a first wait of 2-4 s (random phase), then 2 s."""
    latencies = []
    for phase in [i / 10 for i in range(10)]:
        clock = FakeClock()
        result = ScanPoller(None, "u", 2.0).wait(
            Scan(clock, seconds),
            PollSchedule(initial=0.5, cap=2.0, deadline=900),
            clock=clock,
            sleep=clock.sleep,
            rand=lambda: phase,  # noqa: B023 - called within this iteration
        )
        assert result.done
        assert 2.0 <= clock.sleeps[0] < 4.0
        assert (result.polls - 1) / result.elapsed <= 0.5  # planned polls per second
        latencies.append(result.elapsed - seconds)
    assert statistics.median(latencies) <= 1.0


def test_without_history_the_steady_pace_is_the_budget() -> None:
    clock = FakeClock()
    scan = Scan(clock, 40.0)
    result = poll_until(
        scan,
        lambda s: s.scan_state == "completed",
        PollSchedule(initial=0.5, cap=2.0, jitter=0),
        clock=clock,
        sleep=clock.sleep,
    )
    assert result.done
    assert result.elapsed - 40.0 <= 2.0
    assert result.polls / result.elapsed <= 0.6


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0, 600.0])
def test_learned_durations_notice_within_half_a_second_cheaply(
    tmp_path: Path, seconds: float
) -> None:
    history = ScanHistory(tmp_path)
    poller = ScanPoller(history, "https://cra.test/api/v1", 2.0)
    scope = poller.scope(CraStatus.model_validate({"sbom": {"component_count": 40}}))
    for after, by in ((-0.3, 0.1), (-0.2, 0.2), (-0.1, 0.3)):  # dense polls saw it end
        history.record(scope, seconds + after, seconds + by)
    result = _wait_learned(seconds, lambda status: history.expected(poller.scope(status)))
    assert result.done
    assert result.elapsed - seconds <= 0.5
    if seconds >= 8:
        assert result.polls / result.elapsed <= 0.5


def test_history_is_durable_bounded_and_survives_a_corrupt_file(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    assert history.expected("s") is None
    for after, by in itertools.islice(itertools.cycle([(4.6, 5.0), (5.6, 6.0)]), 30):
        history.record("s", after, by)
    history.flush()  # written behind: until then a file written over it gets ours on top
    again = ScanHistory(tmp_path)
    assert len(again.spans("s")) == 20
    # 5 s and 6 s scans: the intervals do not overlap, so from the smallest to the
    # largest "done by", plus the slack for jitter
    assert again.expected("s") == Expected(earliest=5.0, latest=6.1)
    history.path.write_text("{not json")
    assert ScanHistory(tmp_path).expected("s") is None
    history.record("s", 0.5, 1.0)  # a corrupt file is replaced, not fatal
    assert ScanHistory(tmp_path).spans("s") == [(0.5, 1.0)]


def test_size_classes() -> None:
    assert size_class(None) == "any"
    assert size_class(3) == "c1"
    assert size_class(40) == "c16"
    assert size_class(5000) == "c4096"


def test_virtual_time_never_touches_the_durable_history(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    clock = FakeClock()
    ScanPoller(history, "u", 2.0).wait(
        Scan(clock, 3.0), PollSchedule(jitter=0), clock=clock, sleep=clock.sleep
    )
    assert not history.path.exists()


@pytest.mark.parametrize("seconds", [8.0, 40.0, 120.0, 600.0])
def test_cold_poller_waits_the_steady_period_from_the_start(seconds: float) -> None:
    """No history: no 0.5 s / 1 s ramp; the first wait has a random phase (2-4 s), then 2 s."""
    clock = FakeClock()
    result = ScanPoller(None, "u", 2.0).wait(
        Scan(clock, seconds),
        PollSchedule(initial=0.5, cap=2.0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.5,
    )
    assert result.done
    assert clock.sleeps[0] == pytest.approx(3.0)  # 1-2 periods: the phase
    assert set(clock.sleeps[1:]) == {2.0}
    assert result.elapsed - seconds <= 2.0
    # the steady 0.5 polls/s plus the first, immediate poll
    assert result.polls / result.elapsed <= 0.5 + 1.0 / seconds


def test_one_learned_interval_is_enough_to_poll_near_the_end(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    history.record("scope", 3.6, 4.0)
    assert history.expected("scope") == Expected(earliest=3.6, latest=4.1)  # + 0.1 s slack
    other = ScanHistory(tmp_path / "other")
    other.record("scope", 299.6, 300.0)
    assert other.expected("scope") == Expected(earliest=299.6, latest=303.0)  # + 1 % slack


def _window(expected: Expected | None) -> tuple[float, float]:
    assert expected is not None
    return (expected.earliest, expected.latest)


def test_old_files_of_plain_durations_still_load(tmp_path: Path) -> None:
    """Files from before intervals hold one number per scan: that duration +- max(0.5 s,
    5 %); entries that are neither a number nor an interval are skipped, never fatal."""
    history = ScanHistory(tmp_path)
    history.path.write_text(json.dumps({"a": [4.0], "b": [300.0], "c": [8.0, 8.2, 7.9]}))
    assert history.expected("a") == Expected(earliest=3.5, latest=4.6)
    assert history.expected("b") == Expected(earliest=285.0, latest=318.15)
    assert _window(history.expected("c")) == pytest.approx((7.7, 8.5))  # they overlap
    history.record("a", 3.9, 4.2)  # the old entry is kept, as the interval it stands for
    history.flush()
    assert ScanHistory(tmp_path).spans("a") == [(3.5, 4.5), (3.9, 4.2)]
    junk = [4.0, True, None, "5", [1.0], [3.0, 2.0], [-1.0, 2.0], [1.0, 1e9], [False, 2.0]]
    history.path.write_text(json.dumps({"a": junk, "b": "x", "c": [[3.8, 4.2]]}))
    assert ScanHistory(tmp_path).spans("a") == [(3.5, 4.5)]
    assert ScanHistory(tmp_path).expected("b") is None
    assert ScanHistory(tmp_path).expected("c") == Expected(earliest=3.8, latest=4.3)
    for text in ("[1, 2]", "null", '{"a": {"b": 1}}', ""):
        history.path.write_text(text)
        assert ScanHistory(tmp_path).expected("a") is None


def test_a_wide_short_window_gets_a_probe_in_its_middle() -> None:
    """A cold 2 s scan teaches (0, 3.2]: one poll at 3.3 would be 1.3 s late; a probe at
    1.65 as well halves the window the next scan learns (bisection across runs)."""
    plan = poll_plan(Expected(earliest=0.0, latest=3.3), 2.0)
    assert list(itertools.islice(plan, 4)) == pytest.approx([1.65, 3.3, 6.0, 8.0])
    narrow = poll_plan(Expected(earliest=1.65, latest=2.5), 2.0)  # 1 s or less: no probe
    assert list(itertools.islice(narrow, 3)) == [2.5, 4.0, 6.0]
    wide_but_long = poll_plan(Expected(earliest=4.0, latest=8.1), 2.0)  # budget of three
    assert len([at for at in itertools.islice(wide_but_long, 5) if at <= 8.1]) == 3


def _learn(seconds: float, phase: float, runs: int, tmp_path: Path) -> list[tuple[float, float]]:
    """*runs* scans of *seconds* through the real poller and history, in virtual time:
    [(latency, planned polls per second waited)]. The cold run's first wait has *phase*."""
    history = ScanHistory(tmp_path / f"{seconds}-{phase}")
    poller = ScanPoller(history, "https://cra.test/api/v1", 2.0)
    out = []
    for _ in range(runs):
        clock = FakeClock()
        result = poller.wait(
            Scan(clock, seconds),
            PollSchedule(initial=0.5, cap=2.0, deadline=900),
            clock=clock,
            sleep=clock.sleep,
            rand=lambda: phase,
            learn_in_virtual_time=True,
        )
        assert result.done
        out.append((result.elapsed - seconds, (result.polls - 1) / result.elapsed))
    return out


@pytest.mark.parametrize("seconds", [2.0, 3.3, 8.0, 40.0, 120.0])
def test_repeated_scans_are_noticed_within_1_s_on_median_after_three_runs(
    tmp_path: Path, seconds: float
) -> None:
    """Cold first (a random phase), then what each scan told: after at most three runs
    the median latency is <= 1 s; from 8 s up, planned polls stay within 0.5/s."""
    for phase in (0.0, 0.25, 0.5, 0.75, 0.95):
        runs = _learn(seconds, phase, 6, tmp_path)
        latencies = [latency for latency, _ in runs]
        assert all(latency >= 0 for latency in latencies)
        assert statistics.median(latencies[3:]) <= 1.0, (phase, latencies)
        if seconds >= 8:
            assert all(rate <= 0.5 for _, rate in runs), (phase, runs)
    kept = ScanHistory(tmp_path / f"{seconds}-0.0").spans("https://cra.test/api/v1|c16")
    assert len(kept) == 6  # each run told an interval


def test_a_scan_done_at_the_immediate_poll_teaches_nothing(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    clock = FakeClock()
    result = ScanPoller(history, "u", 2.0).wait(
        Scan(clock, 0.0), PollSchedule(), clock=clock, sleep=clock.sleep, learn_in_virtual_time=True
    )
    assert result.done and result.polls == 1
    assert not history.path.exists()


def test_a_schedule_without_jitter_gets_exact_steady_waits() -> None:
    clock = FakeClock()
    result = ScanPoller(None, "u", 2.0).wait(
        Scan(clock, 5.0), PollSchedule(jitter=0), clock=clock, sleep=clock.sleep
    )
    assert result.done
    assert clock.sleeps == [2.0, 2.0, 2.0]
