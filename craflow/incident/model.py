"""The reporting case: a fold of its append-only events (what was seen, submitted, decided).

A case is one (product, vulnerability). Its history is a list of events, each
stored as its own object; `Case.from_events` replays them. Nothing here does I/O.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from craflow.incident.errors import InvalidCaseInputError


class Stage(StrEnum):
    """The three Art. 14(2) submissions, in the order the law sets them."""

    EARLY_WARNING = "early-warning"
    NOTIFICATION = "notification"
    FINAL = "final"


STAGE_ORDER = (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL)


class CaseStatus(StrEnum):
    ASSESSING = "assessing"
    EARLY_WARNING_SUBMITTED = "early_warning_submitted"
    NOTIFICATION_SUBMITTED = "notification_submitted"
    CLOSED = "closed"


class Resolution(StrEnum):
    REPORTED = "reported"
    NOT_AFFECTED = "not_affected"


class ReminderKind(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"


# The OpenVEX justification set, as API-CONTRACT.md §7 decided for the platform.
NOT_AFFECTED_JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)

_ID_PART = re.compile(r"[^a-z0-9.]+")


def case_id_for(product: str, vulnerability: str) -> str:
    """The one id of (product, vulnerability): `widget--cve-2024-3094`."""
    parts = [_ID_PART.sub("-", p.strip().lower()).strip("-.") for p in (product, vulnerability)]
    if not all(parts):
        raise InvalidCaseInputError(
            f"product and vulnerability must be named: {product!r}, {vulnerability!r}"
        )
    return f"{parts[0]}--{parts[1]}"


def aware_utc(moment: datetime, what: str) -> datetime:
    """`moment` in UTC; a naive time is refused (nobody can tell which zone was meant)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCaseInputError(f"{what} must carry a time zone: {moment.isoformat()}")
    return moment.astimezone(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ComponentRef(_Frozen):
    name: str | None = None
    version: str | None = None
    purl: str | None = None


class VulnerabilityFacts(_Frozen):
    """What craflow knows about the vulnerability when a case opens (all optional)."""

    aliases: tuple[str, ...] = ()
    summary: str | None = None
    severity: str | None = None
    cvss_score: float | None = None
    cvss_vector: str | None = None
    cwe_ids: tuple[str, ...] = ()
    kev_date_added: str | None = None
    kev_known_ransomware_use: str | None = None
    fixed_upstream: tuple[str, ...] = ()
    component: ComponentRef | None = None


class CaseOpened(_Frozen):
    kind: Literal["opened"] = "opened"
    recorded_at: datetime
    case_id: str
    product: str
    product_name: str | None = None
    vulnerability: str
    became_aware_at: datetime
    source: Literal["kev", "manual"]
    affected_versions: tuple[str, ...] = ()
    target_markets: tuple[str, ...] = ()
    facts: VulnerabilityFacts = VulnerabilityFacts()
    note: str | None = None


class VersionsSeen(_Frozen):
    """Released versions found affected after the case opened."""

    kind: Literal["versions_seen"] = "versions_seen"
    recorded_at: datetime
    versions: tuple[str, ...]


class FixReleased(_Frozen):
    """A released version fixes it: the corrective measure is available (starts 14(2)(c))."""

    kind: Literal["fix_released"] = "fix_released"
    recorded_at: datetime
    version: str
    released_at: datetime


class StageSubmitted(_Frozen):
    """A person submitted a stage on the single reporting platform (craflow never does)."""

    kind: Literal["submitted"] = "submitted"
    recorded_at: datetime
    stage: Stage
    reference: str
    submitted_at: datetime


class ReminderEmitted(_Frozen):
    """The clock emitted `craflow.report.<kind>` for a stage (so it never does twice)."""

    kind: Literal["reminder"] = "reminder"
    recorded_at: datetime
    stage: Stage
    reminder: ReminderKind


class Announced(_Frozen):
    """The clock emitted `craflow.case.<what>` for the case (so it never does twice)."""

    kind: Literal["announced"] = "announced"
    recorded_at: datetime
    what: Literal["opened", "closed"]


class ClosedNotAffected(_Frozen):
    """A person decided the product is not affected; the clock stops, the reasoning stays."""

    kind: Literal["closed_not_affected"] = "closed_not_affected"
    recorded_at: datetime
    justification: str
    note: str | None = None


CaseEvent = Annotated[
    CaseOpened
    | VersionsSeen
    | FixReleased
    | StageSubmitted
    | ReminderEmitted
    | Announced
    | ClosedNotAffected,
    Field(discriminator="kind"),
]


class EventEnvelope(_Frozen):
    """How one event is stored: the event under a key that parses back by kind."""

    event: CaseEvent


class Case(_Frozen):
    """The state of a case after replaying its events."""

    opened: CaseOpened
    affected_versions: tuple[str, ...]
    fix: FixReleased | None = None
    submissions: dict[Stage, StageSubmitted] = Field(default_factory=dict)
    reminders: frozenset[tuple[Stage, ReminderKind]] = frozenset()
    closed: ClosedNotAffected | None = None
    announced: frozenset[str] = frozenset()
    events: int = 0

    @property
    def case_id(self) -> str:
        return self.opened.case_id

    @property
    def became_aware_at(self) -> datetime:
        return self.opened.became_aware_at

    @property
    def status(self) -> CaseStatus:
        if self.resolution is not None:
            return CaseStatus.CLOSED
        if Stage.NOTIFICATION in self.submissions:
            return CaseStatus.NOTIFICATION_SUBMITTED
        if Stage.EARLY_WARNING in self.submissions:
            return CaseStatus.EARLY_WARNING_SUBMITTED
        return CaseStatus.ASSESSING

    @property
    def resolution(self) -> Resolution | None:
        if self.closed is not None:
            return Resolution.NOT_AFFECTED
        if Stage.FINAL in self.submissions:
            return Resolution.REPORTED
        return None

    @property
    def is_open(self) -> bool:
        return self.resolution is None

    @classmethod
    def from_events(cls, events: Sequence[CaseEvent]) -> "Case":
        """Replay `events` (the first must be `CaseOpened`)."""
        if not events or not isinstance(events[0], CaseOpened):
            raise InvalidCaseInputError("a case history must start with its opening")
        opened = events[0]
        versions = list(opened.affected_versions)
        fix: FixReleased | None = None
        submissions: dict[Stage, StageSubmitted] = {}
        reminders: set[tuple[Stage, ReminderKind]] = set()
        closed: ClosedNotAffected | None = None
        announced: set[str] = set()
        for event in events[1:]:
            if isinstance(event, VersionsSeen):
                versions.extend(v for v in event.versions if v not in versions)
            elif isinstance(event, FixReleased):
                fix = fix or event
            elif isinstance(event, StageSubmitted):
                submissions.setdefault(event.stage, event)
            elif isinstance(event, ReminderEmitted):
                reminders.add((event.stage, event.reminder))
            elif isinstance(event, ClosedNotAffected):
                closed = closed or event
            elif isinstance(event, Announced):
                announced.add(event.what)
        return cls(
            opened=opened,
            affected_versions=tuple(versions),
            fix=fix,
            submissions=submissions,
            reminders=frozenset(reminders),
            closed=closed,
            announced=frozenset(announced),
            events=len(events),
        )
