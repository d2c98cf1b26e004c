"""The Art. 14 reporting clock: hourly, it emits what is due or overdue and shows open cases.

`incident_clock_flow` loads every case from the evidence store, emits
`craflow.case.opened` / `craflow.case.closed` once per case and
`craflow.report.due` (6 h before a deadline) / `craflow.report.overdue` once per
stage and kind, remembering each in the case history, and publishes a table
artifact of the open cases with the time left per stage.

`open_cases_for_kev_hits` is the entry the sweep and the release call, inside
their own flow run, when they see a KEV hit on a released version.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from prefect import flow, get_run_logger
from pydantic import BaseModel, ConfigDict

from config.incident import IncidentSettings
from craflow.incident import (
    CASE_OPENED,
    REPORT_DUE,
    REPORT_OVERDUE,
    Case,
    KevHit,
    ReleasedVersion,
    notices_owed,
    utc_now,
)
from craflow.incident.view import case_row
from tasks.artifacts import publish_table
from tasks.incident import load_cases, open_kev_cases, send_notice

CASES_ARTIFACT_KEY = "incident-open-cases"


class ClockOutcome(BaseModel):
    """What one run of the clock found and emitted."""

    model_config = ConfigDict(frozen=True)

    checked_at: datetime
    open_cases: int
    due: int
    overdue: int
    events_emitted: int


def _rows(
    cases: Sequence[Case], now: datetime, window: timedelta, limit: int
) -> list[dict[str, object]]:
    open_cases = sorted((c for c in cases if c.is_open), key=lambda c: c.became_aware_at)
    return [dict(case_row(c, now, due_window=window)) for c in open_cases[:limit]]


@flow(name="incident-clock", flow_run_name="incident-clock")
def incident_clock_flow(archive: str | None = None, now: datetime | None = None) -> ClockOutcome:
    """Check every case's Art. 14 clock at `now` (default: the current time)."""
    settings = IncidentSettings()
    window = timedelta(hours=settings.due_window_hours)
    moment = now or utc_now()
    cases = load_cases(archive)
    notices = [n for case in cases for n in notices_owed(case, moment, due_window=window)]
    for notice in notices:
        send_notice(archive, notice)
    rows = _rows(cases, moment, window, settings.max_open_cases_listed)
    publish_table(CASES_ARTIFACT_KEY, rows, f"Open Art. 14 cases at {moment.isoformat()}")
    outcome = ClockOutcome(
        checked_at=moment,
        open_cases=sum(1 for c in cases if c.is_open),
        due=sum(1 for n in notices if n.event == REPORT_DUE),
        overdue=sum(1 for n in notices if n.event == REPORT_OVERDUE),
        events_emitted=len(notices),
    )
    get_run_logger().info(
        "Art. 14 clock: %d open case(s), %d due, %d overdue, %d event(s) emitted",
        outcome.open_cases,
        outcome.due,
        outcome.overdue,
        outcome.events_emitted,
    )
    return outcome


def open_cases_for_kev_hits(
    hits: Sequence[KevHit],
    released: Mapping[str, Sequence[ReleasedVersion]],
    *,
    archive: str | None = None,
) -> list[Case]:
    """Open (once) a case per (product, vulnerability) of `hits`; call inside a flow run.

    `released` maps each product slug to its released versions, oldest first, each
    with the vulnerability ids (and aliases) the platform found on it. A new case
    gets `craflow.case.opened` at once; an existing one only gains affected
    versions (and a fixing version, when one is released).
    """
    if not hits:
        return []
    cases = open_kev_cases(archive, list(hits), dict(released))
    for case in cases:
        for notice in notices_owed(case, utc_now()):
            if notice.event == CASE_OPENED:
                send_notice(archive, notice)
    return cases
