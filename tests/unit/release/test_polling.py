import itertools

import pytest

from craflow.release.polling import PollSchedule, poll_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_delays_grow_to_the_cap_without_jitter() -> None:
    schedule = PollSchedule(initial=0.5, cap=10, multiplier=2, jitter=0)
    assert list(itertools.islice(schedule.delays(), 7)) == [0.5, 1, 2, 4, 8, 10, 10]


@pytest.mark.parametrize(("rand", "expected"), [(0.0, 4.0), (1.0, 3.0), (0.5, 3.5)])
def test_jitter_shortens_a_wait_by_at_most_its_fraction(rand: float, expected: float) -> None:
    schedule = PollSchedule(initial=4, cap=4, jitter=0.25)
    assert next(schedule.delays(lambda: rand)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": 5, "cap": 1},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"deadline": 0},
    ],
)
def test_bad_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="poll schedule"):
        PollSchedule(**kwargs)


def test_poll_until_done() -> None:
    clock = FakeClock()
    states = iter(["pending", "running", "running", "completed"])
    seen: list[tuple[str, float]] = []
    result = poll_until(
        lambda: next(states),
        lambda s: s in {"completed", "failed"},
        PollSchedule(initial=0.5, cap=10, jitter=0),
        clock=clock,
        sleep=clock.sleep,
        on_poll=lambda value, elapsed: seen.append((value, elapsed)),
    )
    assert (result.value, result.done, result.polls) == ("completed", True, 4)
    assert clock.slept == [0.5, 1.0, 2.0]
    assert result.elapsed == 3.5
    assert seen[-1] == ("completed", 3.5)


def test_poll_until_stops_at_the_deadline_without_sleeping_past_it() -> None:
    clock = FakeClock()
    result = poll_until(
        lambda: "running",
        lambda s: s == "completed",
        PollSchedule(initial=0.5, cap=10, jitter=0, deadline=5),
        clock=clock,
        sleep=clock.sleep,
    )
    assert not result.done
    assert result.value == "running"
    assert clock.slept == [0.5, 1.0, 2.0, 1.5]
    assert result.elapsed == 5.0
    assert result.polls == 5
