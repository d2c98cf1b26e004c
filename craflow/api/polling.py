"""The project's one poll primitive, the scan states, and learned scan durations.

`poll_until(fetch, is_done, schedule, ...)` calls `fetch` until `is_done` or the
schedule's deadline (a deadline reached is a result, `done=False`, never an error; it
never sleeps past it). Between polls it waits `next_delay(elapsed, schedule, expected)`:

- with no expectation: `schedule.initial`, growing by `multiplier` up to `schedule.cap`
  (`ScanPoller` waits 2-4 s first, a random phase, then the steady 2 s: a finish is
  noticed 1 s after it on median at 0.5 polls/s, plus the first, immediate poll);
- with an `Expected` duration learned from earlier scans (`ScanHistory`): the polls of
  `poll_plan(expected, steady)`, capped by the budget of one read per steady period. Up
  to the latest expected end at most `floor(latest / steady)` reads, the first, immediate
  one included, but at least one poll at the latest expected end (a 2 s scan: only it).
  The last polls are dense (`Expected.dense_seconds` apart, or as far apart as the budget
  needs) and the last one is at the latest expected end; spare budget goes on a few polls
  on the way, for a scan much faster than usual. After it: waits growing with the
  lateness back to the steady pace, and the n-th poll after the first is never planned
  before n steady periods (except a lone poll at the latest expected end): the polls
  after the first, per second waited, stay within the budget. So a scan that ends as expected is
  noticed within a fraction of a second. One learned duration is enough: the window is
  then that duration ± max(0.5 s, 5 %).

`ScanHistory` keeps recent durations per scope (API URL + component-count class) in a
small JSON file under the state directory (`PollSettings.directory()`: `CRAFLOW_STATE_DIR`,
default the user's cache directory), written atomically; an unreadable file is an empty
history.
"""

import json
import math
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

from config.api import PollSettings
from craflow import interrupts
from craflow.api.models import CraStatus

T = TypeVar("T")

#: scan states after which the CRA status no longer changes by itself
TERMINAL_SCAN_STATES = frozenset({"completed", "failed", "disabled"})
#: scan states that mean a scan is under way
ACTIVE_SCAN_STATES = frozenset({"pending", "running"})

_HISTORY_FILE = "scan-durations.json"
_REAL_SLEEPS: tuple[Callable[[float], None], ...] = (time.sleep, interrupts.sleep)
_KEEP = 20  # durations kept per scope
_LEAD_SECONDS = 0.3  # start dense polling this much before the earliest expected end
_ONE_SAMPLE_SECONDS = 0.5  # with one learned duration: dense this far either side of it
_ONE_SAMPLE_FRACTION = 0.05  # ... or this fraction of it, whichever is wider
_COLD_PHASE = 1.0  # without history: the first wait is 1-2 steady periods (random phase)
_APPROACH_STEADIES = 4.0  # further than this many steady periods from the window: approach
_TOLERANCE = 0.01  # a planned poll this close to the current one is the current one


@dataclass(frozen=True)
class PollSchedule:
    """How long to wait between polls and for how long overall."""

    initial: float = 0.5
    cap: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.1
    deadline: float = 600.0
    phase: float = 0.0  # the first wait only is lengthened by up to this fraction (random)

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.cap < self.initial or self.multiplier < 1:
            raise ValueError("poll schedule needs 0 < initial <= cap and multiplier >= 1")
        if not 0 <= self.jitter <= 1 or not 0 <= self.phase <= 1 or self.deadline <= 0:
            raise ValueError("poll schedule needs jitter and phase in [0, 1], a positive deadline")

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """Endless waits: `min(cap, initial * multiplier**n)`, each minus up to `jitter`;
        the first one plus up to `phase` of it (a random phase costs no extra poll)."""
        base = self.initial
        yield base * (1.0 + self.phase * rand()) * (1.0 - self.jitter * rand())
        while True:
            base = min(self.cap, base * self.multiplier)
            yield base * (1.0 - self.jitter * rand())


@dataclass(frozen=True)
class Expected:
    """When a scan is expected to end: between `earliest` and `latest` seconds."""

    earliest: float
    latest: float
    dense_seconds: float = 0.4


@dataclass(frozen=True)
class PollResult(Generic[T]):
    """The last value seen, whether it was done, how many polls and how long it took."""

    value: T
    done: bool
    polls: int
    elapsed: float
    pending_at: float | None = None  # elapsed at the last poll that was not done

    @property
    def estimate(self) -> float:
        """Best guess of when it got done: midway between the last two polls."""
        if self.pending_at is None:
            return self.elapsed
        return (self.pending_at + self.elapsed) / 2.0


def poll_plan(expected: Expected, steady: float) -> Iterator[float]:
    """When to poll after the first, immediate poll (seconds since it), endless, rising.

    Up to `expected.latest`: at most `max(1, floor(latest / steady) - 1)` polls (with the
    immediate one, one read per steady period), the last ones dense and the last at
    `latest`; spare ones on the way. After it: waits growing with the lateness to
    `steady`. The n-th poll is never before n steady periods, except a lone first one.
    """
    latest = expected.latest
    start = max(0.0, expected.earliest - _LEAD_SECONDS)
    budget = max(1, math.floor(latest / steady) - 1)
    # n polls for an end anywhere in [start, latest]: evenly spread, the last at latest,
    # as dense as `dense_seconds` at most (the expected latency is then the smallest)
    spacing = max(expected.dense_seconds, (latest - start) / budget)
    window = [latest]
    while len(window) < budget and window[-1] - spacing >= start - 1e-9:
        if window[-1] - spacing <= _TOLERANCE:
            break
        window.append(window[-1] - spacing)
    window.reverse()
    # spare budget: three quarters of the way to the window while it is far, so a scan
    # much faster than usual is still noticed without many polls
    approach: list[float] = []
    at = 0.0
    while len(approach) + len(window) < budget and start - at > _APPROACH_STEADIES * steady:
        at += 0.75 * (start - at)
        approach.append(at)
    planned = 0
    last = 0.0
    for at in [*approach, *window]:
        planned += 1
        last = at if planned == 1 else max(at, planned * steady)
        yield last
    while True:  # late: widen gradually back to the steady pace, never ahead of the budget
        planned += 1
        wait = min(steady, max(expected.dense_seconds, last - latest))
        last = max(last + wait, planned * steady)
        yield last


def next_delay(elapsed: float, steady: float, expected: Expected | None) -> float:
    """The wait after a poll at *elapsed* seconds: steady, or up to `poll_plan`'s next."""
    if expected is None:
        return steady
    for at in poll_plan(expected, steady):
        if at > elapsed + _TOLERANCE:
            return at - elapsed
    raise AssertionError("poll_plan is endless")  # pragma: no cover


def poll_until(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    schedule: PollSchedule,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    rand: Callable[[], float] = random.random,
    on_poll: Callable[[T, float], None] | None = None,
    expect: Callable[[T], Expected | None] | None = None,
) -> PollResult[T]:
    """Call *fetch* until *is_done* or the deadline; *on_poll(value, elapsed)* after each.

    *expect(first value)* may name when it is expected to be done: then the waits follow
    `next_delay`; otherwise `schedule.delays()`.
    """
    start = clock()
    delays = schedule.delays(rand)
    polls = 0
    expected: Expected | None = None
    pending_at: float | None = None
    while True:
        value = fetch()
        polls += 1
        elapsed = clock() - start
        if on_poll is not None:
            on_poll(value, elapsed)
        if is_done(value):
            return PollResult(value, True, polls, elapsed, pending_at)
        remaining = schedule.deadline - elapsed
        if remaining <= 0:
            return PollResult(value, False, polls, elapsed, pending_at)
        if polls == 1 and expect is not None:
            expected = expect(value)
        pending_at = elapsed
        steady = next(delays)
        wait = steady if expected is None else next_delay(elapsed, schedule.cap, expected)
        sleep(min(wait, remaining))


def size_class(component_count: int | None) -> str:
    """A coarse class of SBOM size (powers of four) so similar scans share a history."""
    if not component_count or component_count <= 0:
        return "any"
    return f"c{4 ** math.floor(math.log(component_count, 4))}"


class ScanHistory:
    """Recent scan durations per scope, kept in a small JSON file (atomic writes)."""

    _lock = threading.Lock()

    def __init__(self, directory: Path) -> None:
        self.path = directory / _HISTORY_FILE

    def _load(self) -> dict[str, list[float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            str(k): [float(x) for x in v if isinstance(x, int | float) and 0 < x < 86400]
            for k, v in data.items()
            if isinstance(v, list)
        }

    def expected(self, scope: str) -> Expected | None:
        """The expected end of the next scan in *scope*, or None without history."""
        with self._lock:
            durations = self._load().get(scope, [])
        if not durations:
            return None
        if len(durations) == 1:  # one scan seen: around it, a little either side
            margin = max(_ONE_SAMPLE_SECONDS, _ONE_SAMPLE_FRACTION * durations[0])
            return Expected(earliest=durations[0] - margin, latest=durations[0] + margin)
        recent = sorted(durations[-8:])
        return Expected(earliest=recent[0], latest=recent[-1])

    def record(self, scope: str, seconds: float) -> None:
        """Remember that a scan in *scope* took *seconds* (best effort, never raises)."""
        if not 0 < seconds < 86400:
            return
        with self._lock:
            data = self._load()
            data[scope] = [*data.get(scope, []), round(seconds, 3)][-_KEEP:]
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".scan-durations-")
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                os.replace(tmp, self.path)
            except OSError:
                return


def scan_finished(status: CraStatus) -> bool:
    """True once the CRA status shows a terminal scan state."""
    return (status.scan_state or "").lower() in TERMINAL_SCAN_STATES


class ScanPoller:
    """Waits for a scan: steady polls, or polls capped by the budget near a learned end."""

    def __init__(self, history: ScanHistory | None, api_base: str, steady_seconds: float) -> None:
        self.history = history
        self.api_base = api_base
        self.steady_seconds = steady_seconds

    def scope(self, status: CraStatus) -> str:
        count = status.sbom.component_count if status.sbom is not None else None
        return f"{self.api_base}|{size_class(count)}"

    def wait(
        self,
        fetch: Callable[[], CraStatus],
        schedule: PollSchedule,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_poll: Callable[[CraStatus, float], None] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> PollResult[CraStatus]:
        """Poll *fetch* until the scan is final or *schedule*'s deadline; learn its duration.

        Only real time reads or teaches the durable history: with an injected *sleep*
        (virtual time in tests) the history is left alone.
        """
        history = self.history if sleep in _REAL_SLEEPS else None
        steady = min(schedule.cap, self.steady_seconds)
        # without history: the steady period from the start (no 0.5 s, 1 s ramp: that is
        # what cost 0.54-0.78 polls/s), the first wait 1-2 periods so the phase is random
        # (a scan's end is not always met at the same point of the period) at no extra poll
        # (a schedule without jitter asks for exact waits: no random phase then)
        phase = _COLD_PHASE if schedule.jitter > 0 else 0.0
        paced = replace(
            schedule, initial=steady, cap=steady, multiplier=1.0, jitter=0.0, phase=phase
        )
        scopes: list[str] = []

        def expect(status: CraStatus) -> Expected | None:
            scopes.append(self.scope(status))
            return None if history is None else history.expected(scopes[0])

        result = poll_until(
            fetch,
            scan_finished,
            paced,
            clock=clock,
            sleep=sleep,
            rand=rand,
            on_poll=on_poll,
            expect=expect,
        )
        completed = (result.value.scan_state or "").lower() == "completed"
        if history is not None and result.done and completed and scopes:
            history.record(scopes[0], result.estimate)
        return result


def scan_poller(settings: PollSettings, client: object) -> ScanPoller:
    """The poller a run uses for *client*'s server, from its settings (read at run start)."""
    api_base = str(getattr(getattr(client, "settings", None), "api_base", "") or "")
    history = ScanHistory(settings.directory()) if settings.learn_scan_durations else None
    return ScanPoller(history, api_base, settings.steady_poll_seconds)
