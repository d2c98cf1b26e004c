"""What the clock owes, planned without Prefect: opened/closed once, due/overdue once."""

from datetime import timedelta

from craflow.incident import (
    CASE_CLOSED,
    CASE_OPENED,
    REPORT_DUE,
    REPORT_OVERDUE,
    CaseBook,
    CaseOpening,
    notices_owed,
    record_notice,
)
from craflow.incident.view import time_left
from tests.unit.incident.conftest import T0, VirtualClock


def _events(book: CaseBook, case_id: str, hours: float) -> list[str]:
    owed = notices_owed(book.get(case_id), T0 + timedelta(hours=hours))
    for notice in owed:
        record_notice(book, notice)
    return [n.event for n in owed]


def test_each_notice_once(book: CaseBook, clock: VirtualClock) -> None:
    case_id = book.open(CaseOpening("widget", "CVE-2024-3094", source="manual")).case.case_id
    clock.advance(hours=100)
    assert _events(book, case_id, 1) == [CASE_OPENED]
    assert _events(book, case_id, 2) == []
    assert _events(book, case_id, 18) == [REPORT_DUE]
    assert _events(book, case_id, 70) == [REPORT_OVERDUE, REPORT_DUE]
    assert _events(book, case_id, 72) == [REPORT_OVERDUE]
    assert _events(book, case_id, 90) == []
    book.close_not_affected(case_id, "component_not_present")
    assert _events(book, case_id, 91) == [CASE_CLOSED]
    assert _events(book, case_id, 92) == []


def test_time_left_reads_well() -> None:
    assert time_left(timedelta(hours=5, minutes=30)) == "5h 30m left"
    assert time_left(timedelta(days=2, hours=4)) == "2d 4h left"
    assert time_left(timedelta(hours=-3, minutes=-10)) == "3h 10m overdue"
