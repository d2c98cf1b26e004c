"""The Art. 14(2) clock: deadlines of a case, and what is due or overdue at a given time.

Early warning: 24 h after becoming aware (14(2)(a)). Notification: 72 h after
becoming aware (14(2)(b)). Final report: 14 days after a corrective or mitigating
measure is available (14(2)(c)) — here, when a version fixing it is released;
unknown until then. A closed case has no deadlines left.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from craflow.incident.model import STAGE_ORDER, Case, ReminderKind, Stage

EARLY_WARNING_WITHIN = timedelta(hours=24)
NOTIFICATION_WITHIN = timedelta(hours=72)
FINAL_REPORT_WITHIN = timedelta(days=14)
DEFAULT_DUE_WINDOW = timedelta(hours=6)


class ClockState(StrEnum):
    PENDING = "pending"  # the deadline is not known yet (final report before a fix)
    RUNNING = "running"
    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    STOPPED = "stopped"  # the case was closed before this stage was submitted


@dataclass(frozen=True)
class StageClock:
    """One stage of one case at one moment."""

    stage: Stage
    deadline: datetime | None
    state: ClockState
    time_left: timedelta | None  # negative when overdue; None when unknown or done


def deadlines(case: Case) -> dict[Stage, datetime | None]:
    """The three deadlines of `case` (the final one None until a fix is released)."""
    aware = case.became_aware_at
    final = case.fix.released_at + FINAL_REPORT_WITHIN if case.fix is not None else None
    return {
        Stage.EARLY_WARNING: aware + EARLY_WARNING_WITHIN,
        Stage.NOTIFICATION: aware + NOTIFICATION_WITHIN,
        Stage.FINAL: final,
    }


def stage_clocks(
    case: Case, now: datetime, *, due_window: timedelta = DEFAULT_DUE_WINDOW
) -> tuple[StageClock, ...]:
    """Each stage's deadline and state at `now` (due: within `due_window` of it)."""
    clocks = []
    for stage, deadline in deadlines(case).items():
        if stage in case.submissions:
            state, left = ClockState.SUBMITTED, None
        elif not case.is_open:
            state, left = ClockState.STOPPED, None
        elif deadline is None:
            state, left = ClockState.PENDING, None
        else:
            left = deadline - now
            if left <= timedelta(0):
                state = ClockState.OVERDUE
            elif left <= due_window:
                state = ClockState.DUE
            else:
                state = ClockState.RUNNING
        clocks.append(StageClock(stage, deadline, state, left))
    return tuple(clocks)


@dataclass(frozen=True)
class Reminder:
    """A `craflow.report.due|overdue` event the clock owes for one stage of one case."""

    case_id: str
    stage: Stage
    kind: ReminderKind
    deadline: datetime


def reminders_owed(
    case: Case, now: datetime, *, due_window: timedelta = DEFAULT_DUE_WINDOW
) -> tuple[Reminder, ...]:
    """Reminders due at `now` that the case history does not record as emitted yet.

    Once per stage and kind: an overdue stage that never had its due reminder
    (the clock did not run in the window) owes only the overdue one.
    """
    owed = []
    for clock in stage_clocks(case, now, due_window=due_window):
        if clock.deadline is None or clock.state not in {ClockState.DUE, ClockState.OVERDUE}:
            continue
        kind = ReminderKind.OVERDUE if clock.state is ClockState.OVERDUE else ReminderKind.DUE
        if (clock.stage, kind) in case.reminders:
            continue
        owed.append(Reminder(case.case_id, clock.stage, kind, clock.deadline))
    return tuple(owed)


def next_stage(case: Case) -> Stage | None:
    """The first stage not submitted yet (None when all are)."""
    return next((s for s in STAGE_ORDER if s not in case.submissions), None)
