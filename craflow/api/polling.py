"""The project's one poll primitive, the scan states, and polls near learned scan ends.

`poll_until(fetch, is_done, schedule, ...)` calls `fetch` until `is_done` or the
schedule's deadline (a deadline reached is a result, `done=False`, never an error; it
never sleeps past it). Between polls it waits `next_delay(elapsed, schedule, expected)`:

- with no expectation: `schedule.initial`, growing by `multiplier` up to `schedule.cap`
  (`ScanPoller` waits 2-4 s first, a random phase, then the steady 2 s: a finish is
  noticed 1 s after it on median at 0.5 polls/s, plus the first, immediate poll);
- with an `Expected` end learned from earlier scans (`ScanHistory`, in
  `craflow.api.scan_history`): the polls of `poll_plan(expected, steady, immediate)`,
  capped by the budget of one read per steady period. Up to the latest expected end at
  most `floor(latest / steady)` reads, the first, immediate one included if there is one,
  but at least one poll at the latest expected end. The last polls are dense
  (`Expected.dense_seconds` apart, or as far apart as the budget needs) and the last one
  is at the latest expected end; spare budget goes on a few polls on the way, for a scan
  much faster than usual. When the budget allows one poll only and the window is over
  1 s wide, one more poll probes its middle: whatever it sees halves the window the next
  scan learns (bisection across runs). After the window: waits growing with the lateness
  back to the steady pace, and the n-th planned poll is never before n steady periods
  (except a lone poll at the latest expected end, or the probe and that poll): otherwise
  the planned polls per second waited stay within the budget. So a scan that ends as
  expected is noticed within a fraction of a second.

Where the expectation comes from (`ScanPoller.wait`): the scope (API URL + SBOM size
class) names the history. Known before the first read (from `component_count`, or else
the scope this `version_id`'s previous wait found) and with history for it, the wait has
**no immediate poll**: its first read is the plan's first point (`poll_until(...,
expected=)`), so a learned 2 s scan costs one read, not two. Otherwise the first read
comes at once, names the scope, and the learned plan (or the steady pace) follows. The
first read always tells the real scope: a version's is remembered for its next wait (a
wait whose up-front scope turns out wrong keeps its plan). What a scan told is recorded
as the interval (after, by] (`ScanHistory`); a scan done at a delayed first read ended in
(0, by].
"""

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from config.api import PollSettings
from craflow import interrupts
from craflow.api.models import CraStatus
from craflow.api.scan_history import Expected, ScanHistory, expected_end

__all__ = [
    "ACTIVE_SCAN_STATES",
    "TERMINAL_SCAN_STATES",
    "Expected",
    "PollResult",
    "PollSchedule",
    "ScanHistory",
    "ScanPoller",
    "expected_end",
    "next_delay",
    "poll_plan",
    "poll_until",
    "scan_finished",
    "scan_poller",
    "size_class",
]

T = TypeVar("T")

#: scan states after which the CRA status no longer changes by itself
TERMINAL_SCAN_STATES = frozenset({"completed", "failed", "disabled"})
#: scan states that mean a scan is under way
ACTIVE_SCAN_STATES = frozenset({"pending", "running"})

_REAL_SLEEPS: tuple[Callable[[float], None], ...] = (time.sleep, interrupts.sleep)
_LEAD_SECONDS = 0.3  # start dense polling this much before the earliest expected end
_PROBE_SECONDS = 1.0  # a window this wide with a budget of one poll: probe its middle too
_PROBE_SHORT = 0.2  # ... or, for a short scan, half its latest end, but at least this wide
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
class PollResult(Generic[T]):
    """The last value seen, whether it was done, how many polls and how long it took."""

    value: T
    done: bool
    polls: int
    elapsed: float
    pending_at: float | None = None  # elapsed at the last poll that was not done


def poll_plan(expected: Expected, steady: float, immediate: bool = True) -> Iterator[float]:
    """When to poll (seconds since the wait began), endless, rising; after the first,
    *immediate* poll, or all the reads of a wait without one.

    Up to `expected.latest`: at most `max(1, floor(latest / steady))` reads, the
    immediate one included (one read per steady period), the last ones dense and the last
    at `latest`; spare ones on the way. A budget of one poll with a window wider than
    `_PROBE_SECONDS` gets a second: a probe midway between `earliest` and `latest`, so
    the next scan learns a window half as wide. After it: waits growing with the lateness
    to `steady`. The n-th planned poll is never before n steady periods, except a lone
    first one (or the probe and the poll at `latest`).
    """
    latest = expected.latest
    start = max(0.0, expected.earliest - _LEAD_SECONDS)
    budget = max(1, math.floor(latest / steady) - (1 if immediate else 0))
    probe = (expected.earliest + latest) / 2.0
    # wider than 1 s, or than half the latest end (a short scan is noticed as soon, in
    # proportion), or than half a steady period (a user who polls often wants it soon)
    wide = min(_PROBE_SECONDS, max(_PROBE_SHORT, latest / 2.0), steady / 2.0)
    if budget == 1 and latest - expected.earliest > wide and probe > _TOLERANCE:
        # a short scan whose window is still wide: one extra poll bisects it across runs
        yield probe
        yield latest
        yield from _late_polls(expected, steady, 2, latest)
        return
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
    yield from _late_polls(expected, steady, planned, last)


def _late_polls(expected: Expected, steady: float, planned: int, last: float) -> Iterator[float]:
    """After the window: widen gradually back to the steady pace, never ahead of the budget."""
    # a scan expected within one steady period that runs late: a few more reads at
    # once (0.4, 0.8, 1.6 s ... apart) rather than the n-th read only at n steady periods
    floor = steady if expected.latest >= steady else 0.0
    while True:
        planned += 1
        wait = min(steady, max(expected.dense_seconds, last - expected.latest))
        last = max(last + wait, planned * floor)
        yield last


def next_delay(
    elapsed: float, steady: float, expected: Expected | None, immediate: bool = True
) -> float:
    """The wait after a poll at *elapsed* seconds (or, without an *immediate* poll, from
    the start at 0): steady, or up to `poll_plan`'s next."""
    if expected is None:
        return steady
    for at in poll_plan(expected, steady, immediate):
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
    expected: Expected | None = None,
) -> PollResult[T]:
    """Call *fetch* until *is_done* or the deadline; *on_poll(value, elapsed)* after each.

    The first call comes at once, and *expect(first value)* may name when it is expected
    to be done: then the waits follow `next_delay`; otherwise `schedule.delays()`. An
    *expected* end known before the first call: no immediate call, every call at a point
    of `poll_plan(expected, cap, immediate=False)` (*expect* is still told the first
    value; what it names is ignored).
    """
    start = clock()
    delays = schedule.delays(rand)
    immediate = expected is None
    polls = 0
    pending_at: float | None = None
    if expected is not None:
        sleep(min(next_delay(0.0, schedule.cap, expected, immediate=False), schedule.deadline))
    while True:
        value = fetch()
        polls += 1
        elapsed = clock() - start
        if on_poll is not None:
            on_poll(value, elapsed)
        if polls == 1 and expect is not None:
            named = expect(value)
            expected = named if immediate else expected
        if is_done(value):
            return PollResult(value, True, polls, elapsed, pending_at)
        remaining = schedule.deadline - elapsed
        if remaining <= 0:
            return PollResult(value, False, polls, elapsed, pending_at)
        pending_at = elapsed
        wait = next(delays)
        if expected is not None:
            wait = next_delay(elapsed, schedule.cap, expected, immediate)
        sleep(min(wait, remaining))


def size_class(component_count: int | None) -> str:
    """A coarse class of SBOM size (powers of four) so similar scans share a history."""
    if not component_count or component_count <= 0:
        return "any"
    return f"c{4 ** math.floor(math.log(component_count, 4))}"


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
        return self.scope_of_size(count)

    def scope_of_size(self, component_count: int | None) -> str:
        return f"{self.api_base}|{size_class(component_count)}"

    def known_scope(
        self, history: ScanHistory, version_id: str | None, component_count: int | None
    ) -> str | None:
        """The scope known before the first read: from the component count, or else the
        one *version_id*'s previous wait found on this server; None if neither."""
        if component_count is not None:
            return self.scope_of_size(component_count)
        found = None if version_id is None else history.scope_of(version_id)
        return found if found is not None and found.startswith(f"{self.api_base}|") else None

    def wait(
        self,
        fetch: Callable[[], CraStatus],
        schedule: PollSchedule,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_poll: Callable[[CraStatus, float], None] | None = None,
        rand: Callable[[], float] = random.random,
        learn_in_virtual_time: bool = False,
        version_id: str | None = None,
        component_count: int | None = None,
    ) -> PollResult[CraStatus]:
        """Poll *fetch* until the scan is final or *schedule*'s deadline; learn when it ended.

        For a scan just started: *component_count* (its SBOM's) or *version_id* (whose
        previous wait found the scope) name the scope before the first read; with history
        for it, there is no immediate read. Do not pass them for a scan that may already be
        final (its first read would wait for the plan). The first read tells the real
        scope, remembered for *version_id*.

        Only real time reads or teaches the history: with an injected *sleep* (virtual
        time in tests) it is left alone, unless *learn_in_virtual_time* (tests that
        simulate repeated scans, with a history in a temporary directory).
        """
        real = sleep in _REAL_SLEEPS or learn_in_virtual_time
        history = self.history if real else None
        steady = min(schedule.cap, self.steady_seconds)
        # without history: the steady period from the start (no 0.5 s, 1 s ramp: that is
        # what cost 0.54-0.78 polls/s), the first wait 1-2 periods so the phase is random
        # (a scan's end is not always met at the same point of the period) at no extra poll
        # (a schedule without jitter asks for exact waits: no random phase then)
        phase = _COLD_PHASE if schedule.jitter > 0 else 0.0
        paced = replace(
            schedule, initial=steady, cap=steady, multiplier=1.0, jitter=0.0, phase=phase
        )
        known = None if history is None else self.known_scope(history, version_id, component_count)
        upfront = None if history is None or known is None else history.expected(known)
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
            expected=upfront,
        )
        if history is not None and scopes:
            self._learn(history, result, scopes[0], upfront is not None, version_id)
            history.maybe_flush()  # the files are written behind: at most every few seconds
        return result

    def _learn(
        self,
        history: ScanHistory,
        result: PollResult[CraStatus],
        scope: str,
        delayed_first: bool,
        version_id: str | None,
    ) -> None:
        """Record what the wait told: the version's scope, and the interval the scan
        ended in: (last read not done, first read done], or (0, first read] when that
        was the first read of a wait without an immediate one (done at an immediate
        read: nothing)."""
        if version_id is not None:
            history.remember(version_id, scope)
        completed = (result.value.scan_state or "").lower() == "completed"
        after = result.pending_at if result.pending_at is not None or not delayed_first else 0.0
        if result.done and completed and after is not None:
            history.record(scope, after, result.elapsed)


def scan_poller(settings: PollSettings, client: object) -> ScanPoller:
    """The poller a run uses for *client*'s server, from its settings (read at run start)."""
    api_base = str(getattr(getattr(client, "settings", None), "api_base", "") or "")
    history = ScanHistory(settings.directory()) if settings.learn_scan_durations else None
    return ScanPoller(history, api_base, settings.steady_poll_seconds)
