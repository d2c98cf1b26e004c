"""The one poll primitive: learned scan durations, dense polls only near the expected end."""

import itertools
import math
import statistics
from pathlib import Path

import pytest

from craflow.api import CraStatus
from craflow.api.polling import (
    ACTIVE_SCAN_STATES,
    TERMINAL_SCAN_STATES,
    Expected,
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


def _planned_within_budget(plan: list[float], steady: float) -> None:
    """The n-th poll after the immediate one is not before n steady periods (a lone first
    one may be): planned polls / seconds waited <= the budget, whenever the scan ends."""
    assert plan == sorted(set(plan))
    for n, at in enumerate(plan[1:], start=2):
        assert n <= at / steady + 1e-9


def _reads_until(plan: list[float], latest: float) -> int:
    return 1 + sum(1 for at in plan if at <= latest + 1e-9)  # with the immediate one


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
@pytest.mark.parametrize("samples", [(0.0,), (-0.2, 0.0, 0.2), (-0.6, 0.0, 0.9)])
def test_learned_polls_stay_within_the_budget_and_notice_the_expected_end(
    tmp_path: Path, seconds: float, samples: tuple[float, ...]
) -> None:
    history = ScanHistory(tmp_path)
    for offset in samples:
        history.record("s", seconds + offset)
    expected = history.expected("s")
    assert expected is not None
    plan = list(itertools.takewhile(lambda at: at < 900, poll_plan(expected, 2.0)))
    _planned_within_budget(plan, 2.0)
    # up to the latest expected end: one read per 2 s, the immediate one included
    # (and always one poll at that end: a 2 s scan costs two reads)
    assert _reads_until(plan, expected.latest) <= max(2, math.floor(expected.latest / 2.0))
    assert expected.latest in plan
    clock = FakeClock()
    scan = Scan(clock, seconds)
    result = poll_until(
        scan,
        lambda s: s.scan_state == "completed",
        PollSchedule(initial=0.5, cap=2.0, jitter=0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        expect=lambda status: expected,
    )
    assert result.done
    assert result.elapsed - seconds <= 1.0  # ends as expected: noticed within 1 s
    assert (result.polls - 1) / result.elapsed <= 0.5  # planned polls per second waited
    if seconds >= 8:
        assert result.polls / result.elapsed <= 0.5  # every read, the immediate one too


@pytest.mark.parametrize("seconds", [2.0, 8.0, 40.0, 120.0])
def test_learned_polls_stay_within_the_budget_for_early_and_late_scans(seconds: float) -> None:
    expected = Expected(earliest=seconds - 0.5, latest=seconds + 0.5)
    for end in [seconds * f for f in (0.25, 0.5, 0.9, 1.0, 1.1, 1.5, 3.0)]:
        clock = FakeClock()
        result = poll_until(
            Scan(clock, end),
            lambda s: s.scan_state == "completed",
            PollSchedule(initial=0.5, cap=2.0, jitter=0, deadline=900),
            clock=clock,
            sleep=clock.sleep,
            expect=lambda status: expected,
        )
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
            rand=lambda phase=phase: phase,
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
    for jitter in (-0.2, 0.0, 0.2):
        history.record(scope, seconds + jitter)
    clock = FakeClock()
    scan = Scan(clock, seconds)
    result = poll_until(
        scan,
        lambda s: s.scan_state == "completed",
        PollSchedule(initial=0.5, cap=2.0, jitter=0, deadline=900),
        clock=clock,
        sleep=clock.sleep,
        expect=lambda status: history.expected(poller.scope(status)),
    )
    assert result.done
    assert result.elapsed - seconds <= 0.5
    if seconds >= 8:
        assert result.polls / result.elapsed <= 0.5


def test_history_is_durable_bounded_and_survives_a_corrupt_file(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    assert history.expected("s") is None
    for value in itertools.islice(itertools.cycle([5.0, 6.0]), 30):
        history.record("s", value)
    again = ScanHistory(tmp_path)
    assert again.expected("s") == Expected(earliest=5.0, latest=6.0)
    history.path.write_text("{not json")
    assert ScanHistory(tmp_path).expected("s") is None
    history.record("s", 1.0)  # a corrupt file is replaced, not fatal


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


def test_one_learned_duration_is_enough_to_poll_near_the_end(tmp_path: Path) -> None:
    history = ScanHistory(tmp_path)
    history.record("scope", 4.0)
    assert history.expected("scope") == Expected(earliest=3.5, latest=4.5)  # +- 0.5 s
    other = ScanHistory(tmp_path / "other")
    other.record("scope", 300.0)
    assert other.expected("scope") == Expected(earliest=285.0, latest=315.0)  # +- 5 %


def test_a_schedule_without_jitter_gets_exact_steady_waits() -> None:
    clock = FakeClock()
    result = ScanPoller(None, "u", 2.0).wait(
        Scan(clock, 5.0), PollSchedule(jitter=0), clock=clock, sleep=clock.sleep
    )
    assert result.done
    assert clock.sleeps == [2.0, 2.0, 2.0]
