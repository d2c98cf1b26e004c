"""How a case reads at a given moment: a table row and a JSON summary."""

from datetime import datetime, timedelta

from craflow.incident.clock import DEFAULT_DUE_WINDOW, ClockState, StageClock, stage_clocks
from craflow.incident.model import Case


def time_left(delta: timedelta) -> str:
    """`5h 30m left`, `2d 4h left`, `3h 10m overdue`."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{days}d {hours}h" if days else f"{hours}h {mins:02d}m"
    return f"{text} {'overdue' if delta.total_seconds() <= 0 else 'left'}"


def _cell(clock: StageClock) -> str:
    if clock.time_left is None:
        return clock.state.value
    label = time_left(clock.time_left)
    return f"{label} (due)" if clock.state is ClockState.DUE else label


def case_row(
    case: Case, now: datetime, *, due_window: timedelta = DEFAULT_DUE_WINDOW
) -> dict[str, str]:
    """One table row: the case, its status and the time left per stage."""
    clocks = stage_clocks(case, now, due_window=due_window)
    row = {
        "case": case.case_id,
        "product": case.opened.product,
        "vulnerability": case.opened.vulnerability,
        "status": case.status.value,
        "aware since": case.became_aware_at.isoformat(timespec="minutes"),
        "versions": ", ".join(case.affected_versions) or "-",
    }
    row.update({clock.stage.value: _cell(clock) for clock in clocks})
    return row


def case_summary(
    case: Case, now: datetime, *, due_window: timedelta = DEFAULT_DUE_WINDOW
) -> dict[str, object]:
    """Everything about a case at `now`, JSON-ready."""
    clocks = stage_clocks(case, now, due_window=due_window)
    return {
        "case_id": case.case_id,
        "product": case.opened.product,
        "vulnerability": case.opened.vulnerability,
        "source": case.opened.source,
        "status": case.status.value,
        "resolution": case.resolution.value if case.resolution else None,
        "became_aware_at": case.became_aware_at.isoformat(),
        "affected_versions": list(case.affected_versions),
        "target_markets": list(case.opened.target_markets),
        "fix": case.fix.model_dump(mode="json") if case.fix else None,
        "closed": case.closed.model_dump(mode="json") if case.closed else None,
        "stages": [
            {
                "stage": c.stage.value,
                "deadline": c.deadline.isoformat() if c.deadline else None,
                "state": c.state.value,
                "seconds_left": int(c.time_left.total_seconds()) if c.time_left else None,
                "submitted": (
                    case.submissions[c.stage].model_dump(mode="json")
                    if c.stage in case.submissions
                    else None
                ),
            }
            for c in clocks
        ],
        "events": case.events,
    }
