"""The CRA-status polling schedule and a poll loop with injectable clock and sleep.

Waits start at `initial`, grow by `multiplier` up to `cap`, and are shortened
by up to `jitter` (a fraction) at random so many runs do not poll in step. The
loop stops when the value is done or the overall deadline would pass: it never
sleeps past the deadline, and a deadline reached is a result, not an error.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PollSchedule:
    """How long to wait between polls and for how long overall."""

    initial: float = 0.5
    cap: float = 10.0
    multiplier: float = 2.0
    jitter: float = 0.25
    deadline: float = 600.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.cap < self.initial or self.multiplier < 1:
            raise ValueError("poll schedule needs 0 < initial <= cap and multiplier >= 1")
        if not 0 <= self.jitter <= 1 or self.deadline <= 0:
            raise ValueError("poll schedule needs 0 <= jitter <= 1 and a positive deadline")

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """Endless waits: `min(cap, initial * multiplier**n)`, each minus up to `jitter`."""
        base = self.initial
        while True:
            yield base * (1.0 - self.jitter * rand())
            base = min(self.cap, base * self.multiplier)


@dataclass(frozen=True)
class PollResult(Generic[T]):
    """The last value seen, whether it was done, how many polls and how long it took."""

    value: T
    done: bool
    polls: int
    elapsed: float


def poll_until(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    schedule: PollSchedule,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    rand: Callable[[], float] = random.random,
    on_poll: Callable[[T, float], None] | None = None,
) -> PollResult[T]:
    """Call *fetch* until *is_done* or the deadline; *on_poll(value, elapsed)* after each."""
    start = clock()
    delays = schedule.delays(rand)
    polls = 0
    while True:
        value = fetch()
        polls += 1
        elapsed = clock() - start
        if on_poll is not None:
            on_poll(value, elapsed)
        if is_done(value):
            return PollResult(value, True, polls, elapsed)
        remaining = schedule.deadline - elapsed
        if remaining <= 0:
            return PollResult(value, False, polls, elapsed)
        sleep(min(next(delays), remaining))
