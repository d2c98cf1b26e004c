"""Cases in virtual time: open once, the Art. 14(2) deadlines, due / overdue, fix, close."""

from datetime import timedelta
from pathlib import Path

import pytest

from craflow.incident import (
    CaseBook,
    CaseClosedError,
    CaseNotFoundError,
    CaseOpening,
    CaseStatus,
    ClockState,
    ComponentRef,
    FutureTimeError,
    InvalidCaseInputError,
    JustificationMissingError,
    KevHit,
    ReleasedVersion,
    ReminderKind,
    Resolution,
    Stage,
    StageOrderError,
    VulnerabilityFacts,
    deadlines,
    open_cases,
    reminders_owed,
    stage_clocks,
)
from tests.unit.incident.conftest import T0, VirtualClock

FACTS = VulnerabilityFacts(
    aliases=("GHSA-rxwx-x3fr-6f8w",),
    summary="Backdoor in upstream tarballs",
    severity="critical",
    cvss_score=10.0,
    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
    cwe_ids=("CWE-506",),
    kev_date_added="2024-04-01",
    kev_known_ransomware_use="Unknown",
    fixed_upstream=("5.6.2",),
    component=ComponentRef(name="xz", version="5.6.1", purl="pkg:generic/xz@5.6.1"),
)


def hit(version: str, *, product: str = "widget") -> KevHit:
    return KevHit(
        product=product,
        vulnerability="CVE-2024-3094",
        version=version,
        product_name="Widget",
        target_markets=("DE", "FR", "US"),
        facts=FACTS,
    )


def released(*numbers: str, clean: tuple[str, ...] = ()) -> dict[str, list[ReleasedVersion]]:
    return {
        "widget": [
            ReleasedVersion(n, frozenset() if n in clean else frozenset({"CVE-2024-3094"}))
            for n in numbers
        ]
    }


def test_one_kev_hit_seen_by_three_sweeps_and_two_versions_is_one_case(
    book: CaseBook, clock: VirtualClock, tmp_path: Path
) -> None:
    first = open_cases(book, [hit("1.0.0")], released("1.0.0"))
    clock.advance(hours=1)
    second = open_cases(book, [hit("1.0.0"), hit("1.1.0")], released("1.0.0", "1.1.0"))
    clock.advance(hours=1)
    third = open_cases(book, [hit("1.0.0"), hit("1.1.0")], released("1.0.0", "1.1.0"))

    assert [r.created for r in first + second + third] == [True, False, False, False, False]
    cases = book.cases()
    assert len(cases) == 1
    case = cases[0]
    assert case.case_id == "widget--cve-2024-3094"
    assert case.status is CaseStatus.ASSESSING
    assert case.became_aware_at == T0
    assert case.affected_versions == ("1.0.0", "1.1.0")
    # opened + one "versions seen"; the third sweep added nothing, so wrote nothing
    assert case.events == 2
    files = sorted(p.name for p in (tmp_path / "archive/evidence/incidents").rglob("*.json"))
    assert files == ["000000-opened.json", "000001-versions_seen.json"]


def test_deadlines_are_24_and_72_hours_after_awareness(book: CaseBook) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    due = deadlines(case)
    assert due[Stage.EARLY_WARNING] == T0 + timedelta(hours=24)
    assert due[Stage.NOTIFICATION] == T0 + timedelta(hours=72)
    assert due[Stage.FINAL] is None


@pytest.mark.parametrize(
    ("hours", "early", "notification"),
    [
        (0, ClockState.RUNNING, ClockState.RUNNING),
        (17.9, ClockState.RUNNING, ClockState.RUNNING),
        (18, ClockState.DUE, ClockState.RUNNING),
        (23.9, ClockState.DUE, ClockState.RUNNING),
        (24, ClockState.OVERDUE, ClockState.RUNNING),
        (66, ClockState.OVERDUE, ClockState.DUE),
        (72, ClockState.OVERDUE, ClockState.OVERDUE),
    ],
)
def test_due_six_hours_before_and_overdue_after(
    book: CaseBook, hours: float, early: ClockState, notification: ClockState
) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    clocks = {c.stage: c.state for c in stage_clocks(case, T0 + timedelta(hours=hours))}
    assert clocks == {
        Stage.EARLY_WARNING: early,
        Stage.NOTIFICATION: notification,
        Stage.FINAL: ClockState.PENDING,
    }


def test_reminders_once_per_stage_and_kind(book: CaseBook, clock: VirtualClock) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    assert reminders_owed(case, clock.advance(hours=17)) == ()
    owed = reminders_owed(case, clock.advance(hours=1))
    assert [(r.stage, r.kind) for r in owed] == [(Stage.EARLY_WARNING, ReminderKind.DUE)]
    book.reminder_emitted(case.case_id, Stage.EARLY_WARNING, ReminderKind.DUE)
    case = book.get(case.case_id)
    assert reminders_owed(case, clock.advance(hours=1)) == ()
    owed = reminders_owed(case, clock.advance(hours=5))
    assert [(r.stage, r.kind) for r in owed] == [(Stage.EARLY_WARNING, ReminderKind.OVERDUE)]
    book.reminder_emitted(case.case_id, Stage.EARLY_WARNING, ReminderKind.OVERDUE)
    book.reminder_emitted(case.case_id, Stage.EARLY_WARNING, ReminderKind.OVERDUE)  # no-op
    case = book.get(case.case_id)
    assert case.events == 3
    assert reminders_owed(case, clock.advance(hours=10)) == ()


def test_submitted_stage_stops_its_reminders(book: CaseBook, clock: VirtualClock) -> None:
    case_id = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case.case_id
    clock.advance(hours=20)
    case = book.submitted(case_id, Stage.EARLY_WARNING, "EW-1", T0 + timedelta(hours=19))
    assert case.status is CaseStatus.EARLY_WARNING_SUBMITTED
    owed = reminders_owed(case, clock.advance(hours=30))
    assert [(r.stage, r.kind) for r in owed] == []
    states = {c.stage: c.state for c in stage_clocks(case, clock.now)}
    assert states[Stage.EARLY_WARNING] is ClockState.SUBMITTED


def test_a_released_fix_sets_the_final_report_deadline(book: CaseBook, clock: VirtualClock) -> None:
    open_cases(book, [hit("1.0.0")], released("1.0.0"))
    clock.advance(days=2)
    fixed_at = clock.now - timedelta(hours=3)
    versions = {
        "widget": [
            ReleasedVersion("1.0.0", frozenset({"GHSA-rxwx-x3fr-6f8w"})),
            ReleasedVersion("1.0.1", frozenset(), released_at=fixed_at),
        ]
    }
    case = open_cases(book, [hit("1.0.0")], versions)[0].case
    assert case.fix is not None and case.fix.version == "1.0.1"
    assert deadlines(case)[Stage.FINAL] == fixed_at + timedelta(days=14)
    final = {c.stage: c for c in stage_clocks(case, clock.now)}[Stage.FINAL]
    assert final.state is ClockState.RUNNING


def test_close_as_not_affected_stops_the_clock_and_keeps_the_reasoning(
    book: CaseBook, clock: VirtualClock
) -> None:
    case_id = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case.case_id
    case = book.close_not_affected(
        case_id, "vulnerable_code_not_in_execute_path", "xz is only used at build time"
    )
    assert case.status is CaseStatus.CLOSED
    assert case.resolution is Resolution.NOT_AFFECTED
    assert case.closed is not None and case.closed.note == "xz is only used at build time"
    assert reminders_owed(case, clock.advance(days=30)) == ()
    assert {c.state for c in stage_clocks(case, clock.now)} == {ClockState.STOPPED}
    assert book.cases(open_only=True) == []
    # a later sweep neither reopens it nor adds versions
    again = open_cases(book, [hit("2.0.0")], released("1.0.0", "2.0.0"))[0]
    assert not again.created and again.case.events == case.events


def test_final_report_closes_as_reported(book: CaseBook, clock: VirtualClock) -> None:
    case_id = book.open(CaseOpening("widget", "CVE-2024-3094", source="manual")).case.case_id
    for stage in (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL):
        clock.advance(hours=1)
        case = book.submitted(case_id, stage, f"REF-{stage}")
    assert case.resolution is Resolution.REPORTED
    with pytest.raises(CaseClosedError):
        book.close_not_affected(case_id, "component_not_present")


def _history(book: CaseBook, case_id: str) -> int:
    return len(book.store.history(case_id))


def test_bad_input_changes_nothing(book: CaseBook, clock: VirtualClock) -> None:
    case_id = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case.case_id
    clock.advance(hours=2)
    with pytest.raises(CaseNotFoundError):
        book.submitted("widget--cve-1999-0001", Stage.EARLY_WARNING, "X")
    with pytest.raises(InvalidCaseInputError):
        book.get("../etc")
    with pytest.raises(StageOrderError):
        book.submitted(case_id, Stage.NOTIFICATION, "N-1")
    with pytest.raises(FutureTimeError):
        book.submitted(case_id, Stage.EARLY_WARNING, "E-1", clock.now + timedelta(minutes=1))
    with pytest.raises(InvalidCaseInputError):
        book.submitted(case_id, Stage.EARLY_WARNING, "E-1", T0 - timedelta(minutes=1))
    with pytest.raises(InvalidCaseInputError):
        book.submitted(case_id, Stage.EARLY_WARNING, "  ")
    with pytest.raises(JustificationMissingError):
        book.close_not_affected(case_id, "")
    with pytest.raises(InvalidCaseInputError):
        book.close_not_affected(case_id, "because I say so")
    assert _history(book, case_id) == 1
    book.submitted(case_id, Stage.EARLY_WARNING, "E-1")
    with pytest.raises(StageOrderError):
        book.submitted(case_id, Stage.EARLY_WARNING, "E-2")
    with pytest.raises(StageOrderError):
        book.submitted(case_id, Stage.NOTIFICATION, "N-1", T0 + timedelta(hours=1))
    assert _history(book, case_id) == 2


def test_opening_in_the_future_is_refused(book: CaseBook, clock: VirtualClock) -> None:
    with pytest.raises(FutureTimeError):
        book.open(CaseOpening("widget", "CVE-1", became_aware_at=clock.now + timedelta(hours=1)))
    assert book.cases() == []


def test_history_survives_a_new_book(make_book, clock: VirtualClock) -> None:  # type: ignore[no-untyped-def]
    first = make_book()
    case_id = open_cases(first, [hit("1.0.0")], released("1.0.0"))[0].case.case_id
    first.submitted(case_id, Stage.EARLY_WARNING, "E-1")
    case = make_book().get(case_id)
    assert case.submissions[Stage.EARLY_WARNING].reference == "E-1"


def test_a_foreign_or_huge_event_object_is_refused(book: CaseBook, tmp_path: Path) -> None:
    from craflow.evidence import EvidenceError
    from craflow.incident.store import MAX_EVENT_BYTES

    case_id = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case.case_id
    folder = tmp_path / "archive/evidence/incidents" / case_id
    (folder / "000001-submitted.json").write_bytes(b" " * (MAX_EVENT_BYTES + 1))
    with pytest.raises(EvidenceError, match="larger than"):
        book.get(case_id)
    (folder / "000001-submitted.json").write_text('{"event": {"kind": "nonsense"}}')
    with pytest.raises(EvidenceError, match="unreadable"):
        book.get(case_id)
