"""What the hourly clock owes: `craflow.report.due|overdue` and `craflow.case.opened|closed`.

Each notice goes out once: after emitting it, the clock records it in the case
history (`ReminderEmitted` / `Announced`), and a later run finds it there. If the
record fails after the emit, the next run emits again: at least once, never lost.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from craflow.incident.book import CaseBook
from craflow.incident.clock import DEFAULT_DUE_WINDOW, reminders_owed
from craflow.incident.model import Case, ReminderKind, Stage

REPORT_DUE = "craflow.report.due"
REPORT_OVERDUE = "craflow.report.overdue"
CASE_OPENED = "craflow.case.opened"
CASE_CLOSED = "craflow.case.closed"


@dataclass(frozen=True)
class Notice:
    """One event owed for one case."""

    case_id: str
    product: str
    vulnerability: str
    event: str
    stage: Stage | None = None
    reminder: ReminderKind | None = None
    announce: Literal["opened", "closed"] | None = None
    deadline: datetime | None = None

    def payload(self) -> dict[str, str | None]:
        return {
            "case_id": self.case_id,
            "product": self.product,
            "vulnerability": self.vulnerability,
            "stage": self.stage.value if self.stage else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


def notices_owed(
    case: Case, now: datetime, *, due_window: timedelta = DEFAULT_DUE_WINDOW
) -> list[Notice]:
    """Every notice `case` is owed at `now` and has not had yet."""
    ids = (case.case_id, case.opened.product, case.opened.vulnerability)
    owed = []
    if "opened" not in case.announced:
        owed.append(Notice(*ids, event=CASE_OPENED, announce="opened"))
    for r in reminders_owed(case, now, due_window=due_window):
        event = REPORT_OVERDUE if r.kind is ReminderKind.OVERDUE else REPORT_DUE
        owed.append(Notice(*ids, event=event, stage=r.stage, reminder=r.kind, deadline=r.deadline))
    if not case.is_open and "closed" not in case.announced:
        owed.append(Notice(*ids, event=CASE_CLOSED, announce="closed"))
    return owed


def record_notice(book: CaseBook, notice: Notice) -> None:
    """Remember in the case history that `notice` went out."""
    if notice.stage is not None and notice.reminder is not None:
        book.reminder_emitted(notice.case_id, notice.stage, notice.reminder)
    elif notice.announce is not None:
        book.announced(notice.case_id, notice.announce)
