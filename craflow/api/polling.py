"""The project's one poll primitive, the scan states, and learned scan durations.

`poll_until(fetch, is_done, schedule, ...)` calls `fetch` until `is_done` or the
schedule's deadline (a deadline reached is a result, `done=False`, never an error; it
never sleeps past it). Between polls it waits `next_delay(elapsed, schedule, expected)`:

- with no expectation: `schedule.initial`, growing by `multiplier` up to `schedule.cap`
  (`ScanPoller` waits 2-4 s first, a random phase, then the steady 2 s: a finish is
  noticed 1 s after it on median at 0.5 polls/s, plus the first, immediate poll);
- with an `Expected` end learned from earlier scans (`ScanHistory`): the polls of
  `poll_plan(expected, steady)`, capped by the budget of one read per steady period. Up
  to the latest expected end at most `floor(latest / steady)` reads, the first, immediate
  one included, but at least one poll at the latest expected end (a 2 s scan: only it).
  The last polls are dense (`Expected.dense_seconds` apart, or as far apart as the budget
  needs) and the last one is at the latest expected end; spare budget goes on a few polls
  on the way, for a scan much faster than usual. When the budget allows one poll only and
  the window is over 1 s wide, one more poll probes its middle: whatever it sees halves
  the window the next scan learns (bisection across runs). After the window: waits
  growing with the lateness back to the steady pace, and the n-th poll after the first
  is never planned before n steady periods (except a lone poll at the latest expected
  end, or the probe and that poll): otherwise the polls after the first, per second
  waited, stay within the budget. So a scan that ends as expected is noticed within a
  fraction of a second.

`ScanHistory` keeps, per scope (API URL + component-count class), what the recent scans
told: each ended after its last poll that saw it not done and by the first that saw it
done, an interval (after, by] in seconds since the wait began (a scan done at the
immediate poll tells nothing). If the last eight intervals overlap (within a slack of
max(0.1 s, 1 %) for jitter), durations look stable and the next end is expected in their
intersection; otherwise from the smallest to the largest "by". The latest expected end
gets the slack on top. One interval is enough. Plain numbers (files written before
intervals) read as that duration ± max(0.5 s, 5 %). The file is small JSON under the
state directory (`PollSettings.directory()`: `CRAFLOW_STATE_DIR`, default the user's
cache directory), written atomically; an unreadable file is an empty history, unreadable
entries are skipped.
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
_KEEP = 20  # intervals kept per scope
_RECENT = 8  # the expected end is derived from this many of the latest intervals
_LEAD_SECONDS = 0.3  # start dense polling this much before the earliest expected end
_POINT_SECONDS = 0.5  # a plain number (old files) is that duration +- this
_POINT_FRACTION = 0.05  # ... or this fraction of it, whichever is wider
_SLACK_SECONDS = 0.1  # jitter between scans of a stable duration: intervals this close
_SLACK_FRACTION = 0.01  # ... (or this fraction) overlap; the latest end gets this much more
_PROBE_SECONDS = 1.0  # a window this wide with a budget of one poll: probe its middle too
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


def poll_plan(expected: Expected, steady: float) -> Iterator[float]:
    """When to poll after the first, immediate poll (seconds since it), endless, rising.

    Up to `expected.latest`: at most `max(1, floor(latest / steady) - 1)` polls (with the
    immediate one, one read per steady period), the last ones dense and the last at
    `latest`; spare ones on the way. A budget of one poll with a window wider than
    `_PROBE_SECONDS` gets a second: a probe midway between `earliest` and `latest`, so
    the next scan learns a window half as wide. After it: waits growing with the lateness
    to `steady`. The n-th poll is never before n steady periods, except a lone first one
    (or the probe and the poll at `latest`).
    """
    latest = expected.latest
    start = max(0.0, expected.earliest - _LEAD_SECONDS)
    budget = max(1, math.floor(latest / steady) - 1)
    probe = (expected.earliest + latest) / 2.0
    if budget == 1 and latest - expected.earliest > _PROBE_SECONDS and probe > _TOLERANCE:
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
    while True:
        planned += 1
        wait = min(steady, max(expected.dense_seconds, last - expected.latest))
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


Span = tuple[float, float]  # a scan ended after the first and by the second (seconds)


def _slack(seconds: float) -> float:
    return max(_SLACK_SECONDS, _SLACK_FRACTION * seconds)


def _span(item: object) -> Span | None:
    """An entry of the history file as an interval, or None if it is not one.

    `[after, by]` as written; a plain number (files from before intervals, which kept one
    estimate per scan) as that duration +- max(0.5 s, 5 %).
    """
    if isinstance(item, int | float) and not isinstance(item, bool):
        if not 0 < item < 86400:
            return None
        margin = max(_POINT_SECONDS, _POINT_FRACTION * item)
        return (max(0.0, item - margin), item + margin)
    if not isinstance(item, list) or len(item) != 2:
        return None
    after, by = item
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in item)
    if not numbers or not 0 <= after <= by < 86400 or by <= 0:
        return None
    return (float(after), float(by))


def expected_end(spans: list[Span]) -> Expected | None:
    """When the next scan is expected to end, from what the recent ones told (or None).

    Overlapping intervals (within the slack): the end lies in their intersection if
    durations are stable. Otherwise durations vary: from the smallest to the largest
    "by" (each recent scan ended by its own). The latest end gets the slack for jitter.
    """
    recent = spans[-_RECENT:]
    if not recent:
        return None
    after = max(span[0] for span in recent)
    by = min(span[1] for span in recent)
    if after <= by + _slack(by):
        earliest, latest = min(after, by), max(after, by)
    else:
        earliest, latest = by, max(span[1] for span in recent)
    return Expected(earliest=earliest, latest=latest + _slack(latest))


class ScanHistory:
    """What recent scans told of their end, per scope, in a small JSON file (atomic writes)."""

    _lock = threading.Lock()

    def __init__(self, directory: Path) -> None:
        self.path = directory / _HISTORY_FILE

    def _load(self) -> dict[str, list[Span]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        history: dict[str, list[Span]] = {}
        for scope, items in data.items():
            if isinstance(items, list):
                spans = [_span(item) for item in items]
                history[str(scope)] = [span for span in spans if span is not None]
        return history

    def spans(self, scope: str) -> list[Span]:
        """The intervals kept for *scope*, oldest first."""
        with self._lock:
            return self._load().get(scope, [])

    def expected(self, scope: str) -> Expected | None:
        """The expected end of the next scan in *scope*, or None without history."""
        return expected_end(self.spans(scope))

    def record(self, scope: str, after: float, by: float) -> None:
        """Remember that a scan in *scope* ended after *after* and by *by* seconds (the last
        poll that saw it not done, the first that saw it done); best effort, never raises."""
        span = _span([round(after, 3), round(by, 3)])
        if span is None:
            return
        with self._lock:
            data = self._load()
            data[scope] = [*data.get(scope, []), span][-_KEEP:]
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
        learn_in_virtual_time: bool = False,
    ) -> PollResult[CraStatus]:
        """Poll *fetch* until the scan is final or *schedule*'s deadline; learn when it ended.

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
        pending_at = result.pending_at  # None: done at the immediate poll, before the wait
        if history is not None and result.done and completed and scopes and pending_at is not None:
            history.record(scopes[0], pending_at, result.elapsed)
        return result


def scan_poller(settings: PollSettings, client: object) -> ScanPoller:
    """The poller a run uses for *client*'s server, from its settings (read at run start)."""
    api_base = str(getattr(getattr(client, "settings", None), "api_base", "") or "")
    history = ScanHistory(settings.directory()) if settings.learn_scan_durations else None
    return ScanPoller(history, api_base, settings.steady_poll_seconds)
