"""The Art. 14 clock under Prefect, in virtual time: one case, due/overdue events once each."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from craflow.incident import KevHit, ReleasedVersion, VulnerabilityFacts
from flows.incident import ClockOutcome, incident_clock_flow, open_cases_for_kev_hits
from tasks.incident import open_book
from tests.fixtures.events import emitted

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _hit(version: str) -> KevHit:
    return KevHit(
        product="widget",
        vulnerability="CVE-2024-3094",
        version=version,
        target_markets=("DE",),
        facts=VulnerabilityFacts(kev_date_added="2024-04-01"),
        seen_at=T0,
    )


def _released(*numbers: str) -> dict[str, list[ReleasedVersion]]:
    return {"widget": [ReleasedVersion(n, frozenset({"CVE-2024-3094"})) for n in numbers]}


@flow
def fake_sweep(archive: str, versions: list[str]) -> int:
    """Stands in for the sweep: hands its KEV hits to the incident entry."""
    cases = open_cases_for_kev_hits(
        [_hit(v) for v in versions], _released(*versions), archive=archive
    )
    return len(cases)


def test_three_sweeps_two_versions_one_case_and_the_clock(
    prefect_harness: None, recorded_events: Any, tmp_path: Path
) -> None:
    archive = (tmp_path / "archive").as_uri()
    fake_sweep(archive, ["1.0.0"])
    fake_sweep(archive, ["1.0.0", "1.1.0"])
    fake_sweep(archive, ["1.0.0", "1.1.0"])
    [case] = open_book(archive).cases()
    assert case.affected_versions == ("1.0.0", "1.1.0")
    assert len(emitted(recorded_events, "craflow.case.opened")) == 1

    quiet = incident_clock_flow(archive=archive, now=T0 + timedelta(hours=17))
    assert isinstance(quiet, ClockOutcome)
    assert (quiet.open_cases, quiet.due, quiet.events_emitted) == (1, 0, 0)

    due = incident_clock_flow(archive=archive, now=T0 + timedelta(hours=18))
    again = incident_clock_flow(archive=archive, now=T0 + timedelta(hours=19))
    assert (due.due, again.due) == (1, 0)
    [event] = emitted(recorded_events, "craflow.report.due")
    assert event.payload["stage"] == "early-warning"
    assert event.payload["deadline"] == (T0 + timedelta(hours=24)).isoformat()

    overdue = incident_clock_flow(archive=archive, now=T0 + timedelta(hours=24))
    assert overdue.overdue == 1
    assert len(emitted(recorded_events, "craflow.report.overdue")) == 1

    open_book(archive).close_not_affected(case.case_id, "component_not_present", "not shipped")
    closed = incident_clock_flow(archive=archive, now=T0 + timedelta(hours=80))
    assert (closed.open_cases, closed.due, closed.overdue) == (0, 0, 0)
    assert len(emitted(recorded_events, "craflow.case.closed")) == 1
    assert len(emitted(recorded_events, "craflow.report.overdue")) == 1
