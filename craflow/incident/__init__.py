"""CRA Art. 14 reporting cases (no Prefect): model, clock, rules, drafts, CSAF, storage.

book = CaseBook(CaseStore(store, prefix), clock=clock)
result = book.open(CaseOpening(product="widget", vulnerability="CVE-2024-3094", ...))
clocks = stage_clocks(result.case, now)            # deadlines, due / overdue
book.submitted(case_id, Stage.EARLY_WARNING, "ENISA-REF", at)
write_drafts(case, folder, publisher, now)         # JSON + markdown per stage, CSAF advisory
"""

from craflow.incident.book import CaseBook, CaseOpening, OpenResult, utc_now
from craflow.incident.clock import (
    ClockState,
    Reminder,
    StageClock,
    deadlines,
    next_stage,
    reminders_owed,
    stage_clocks,
)
from craflow.incident.csaf import CsafInvalidError, Publisher, build_advisory, csaf_errors
from craflow.incident.drafts import Draft, build_draft
from craflow.incident.errors import (
    CaseClosedError,
    CaseNotFoundError,
    FutureTimeError,
    IncidentError,
    InvalidCaseInputError,
    JustificationMissingError,
    StageOrderError,
)
from craflow.incident.kev import KevHit, ReleasedVersion, open_cases
from craflow.incident.model import (
    NOT_AFFECTED_JUSTIFICATIONS,
    Case,
    CaseStatus,
    ComponentRef,
    ReminderKind,
    Resolution,
    Stage,
    VulnerabilityFacts,
    case_id_for,
)
from craflow.incident.notices import (
    CASE_CLOSED,
    CASE_OPENED,
    REPORT_DUE,
    REPORT_OVERDUE,
    Notice,
    notices_owed,
    record_notice,
)
from craflow.incident.output import render_drafts, write_drafts
from craflow.incident.store import CaseStore

__all__ = [
    "CASE_CLOSED",
    "CASE_OPENED",
    "NOT_AFFECTED_JUSTIFICATIONS",
    "REPORT_DUE",
    "REPORT_OVERDUE",
    "Case",
    "CaseBook",
    "CaseClosedError",
    "CaseNotFoundError",
    "CaseOpening",
    "CaseStatus",
    "CaseStore",
    "ClockState",
    "ComponentRef",
    "CsafInvalidError",
    "Draft",
    "FutureTimeError",
    "IncidentError",
    "InvalidCaseInputError",
    "JustificationMissingError",
    "KevHit",
    "Notice",
    "OpenResult",
    "Publisher",
    "ReleasedVersion",
    "Reminder",
    "ReminderKind",
    "Resolution",
    "Stage",
    "StageClock",
    "StageOrderError",
    "VulnerabilityFacts",
    "build_advisory",
    "build_draft",
    "case_id_for",
    "csaf_errors",
    "deadlines",
    "next_stage",
    "notices_owed",
    "open_cases",
    "record_notice",
    "reminders_owed",
    "render_drafts",
    "stage_clocks",
    "utc_now",
    "write_drafts",
]
