"""The case book: the rules a person's and the clock's actions go through.

Every method checks everything first and writes at most one event, so bad input
changes nothing. Time comes from an injected clock (tests run in virtual time).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from craflow.evidence.errors import ObjectExistsError
from craflow.incident.errors import (
    CaseClosedError,
    FutureTimeError,
    InvalidCaseInputError,
    JustificationMissingError,
    StageOrderError,
)
from craflow.incident.model import (
    NOT_AFFECTED_JUSTIFICATIONS,
    STAGE_ORDER,
    Announced,
    Case,
    CaseOpened,
    ClosedNotAffected,
    FixReleased,
    ReminderEmitted,
    ReminderKind,
    Stage,
    StageSubmitted,
    VersionsSeen,
    VulnerabilityFacts,
    aware_utc,
    case_id_for,
)
from craflow.incident.store import CaseStore

Clock = Callable[[], datetime]
MAX_REFERENCE_CHARS = 200
MAX_NOTE_CHARS = 10_000


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CaseOpening:
    """What is known when a case opens: from a KEV hit, or from a person."""

    product: str
    vulnerability: str
    source: str = "kev"  # "kev" | "manual"
    product_name: str | None = None
    affected_versions: Sequence[str] = ()
    target_markets: Sequence[str] = ()
    facts: VulnerabilityFacts = field(default_factory=VulnerabilityFacts)
    became_aware_at: datetime | None = None  # default: now
    note: str | None = None


@dataclass(frozen=True)
class OpenResult:
    case: Case
    created: bool  # False: the case existed (at most new affected versions were added)


class CaseBook:
    """Open, update, submit, close and remind — one event per accepted action."""

    def __init__(self, store: CaseStore, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    @property
    def store(self) -> CaseStore:
        return self._store

    def _now(self) -> datetime:
        return aware_utc(self._clock(), "the clock")

    def get(self, case_id: str) -> Case:
        return Case.from_events(self._store.history(case_id))

    def cases(self, *, open_only: bool = False) -> list[Case]:
        found = [self.get(case_id) for case_id in self._store.case_ids()]
        return [c for c in found if c.is_open] if open_only else found

    def open(self, opening: CaseOpening) -> OpenResult:
        """Open the case of (product, vulnerability) once; later sightings add versions only."""
        case_id = case_id_for(opening.product, opening.vulnerability)
        now = self._now()
        aware = aware_utc(opening.became_aware_at or now, "became_aware_at")
        if aware > now:
            raise FutureTimeError(f"became_aware_at {aware.isoformat()} is in the future")
        if opening.source not in {"kev", "manual"}:
            raise InvalidCaseInputError(f"unknown case source {opening.source!r}")
        if self._store.exists(case_id):
            return OpenResult(self._see(case_id, opening.affected_versions, now), created=False)
        event = CaseOpened(
            recorded_at=now,
            case_id=case_id,
            product=opening.product,
            product_name=opening.product_name,
            vulnerability=opening.vulnerability,
            became_aware_at=aware,
            source="kev" if opening.source == "kev" else "manual",
            affected_versions=tuple(dict.fromkeys(opening.affected_versions)),
            target_markets=tuple(dict.fromkeys(m.upper() for m in opening.target_markets)),
            facts=opening.facts,
            note=_bounded(opening.note, "note"),
        )
        try:
            self._store.append(case_id, event, first=True)
        except ObjectExistsError:  # another writer opened it a moment ago
            return OpenResult(self._see(case_id, opening.affected_versions, now), created=False)
        return OpenResult(self.get(case_id), created=True)

    def _see(self, case_id: str, versions: Sequence[str], now: datetime) -> Case:
        case = self.get(case_id)
        new = tuple(v for v in dict.fromkeys(versions) if v not in case.affected_versions)
        if new and case.is_open:
            self._store.append(case_id, VersionsSeen(recorded_at=now, versions=new))
            return self.get(case_id)
        return case

    def submitted(
        self, case_id: str, stage: Stage, reference: str, at: datetime | None = None
    ) -> Case:
        """Record that a person submitted `stage` (reference from the reporting platform)."""
        case = self._open_case(case_id)
        now = self._now()
        when = aware_utc(at, "the submission time") if at is not None else now
        ref = reference.strip()
        if not ref or len(ref) > MAX_REFERENCE_CHARS or not ref.isprintable():
            raise InvalidCaseInputError(
                f"a reference is 1-{MAX_REFERENCE_CHARS} printable characters"
            )
        if when > now:
            raise FutureTimeError(f"submission time {when.isoformat()} is in the future")
        if when < case.became_aware_at:
            raise InvalidCaseInputError(
                f"submission time {when.isoformat()} is before the case's awareness "
                f"({case.became_aware_at.isoformat()})"
            )
        _check_order(case, stage, when)
        event = StageSubmitted(recorded_at=now, stage=stage, reference=ref, submitted_at=when)
        self._store.append(case_id, event)
        return self.get(case_id)

    def fix_released(self, case_id: str, version: str, released_at: datetime | None = None) -> Case:
        """Record that `version` fixes it (starts the final-report clock); once per case."""
        case = self._open_case(case_id)
        now = self._now()
        when = aware_utc(released_at, "released_at") if released_at is not None else now
        if when > now:
            raise FutureTimeError(f"release time {when.isoformat()} is in the future")
        if not version.strip():
            raise InvalidCaseInputError("a fixing version needs a version number")
        if case.fix is not None:
            return case
        self._store.append(
            case_id, FixReleased(recorded_at=now, version=version.strip(), released_at=when)
        )
        return self.get(case_id)

    def close_not_affected(
        self, case_id: str, justification: str | None, note: str | None = None
    ) -> Case:
        """Close as not affected: the clock stops, the reasoning stays in the history."""
        case = self._open_case(case_id)
        if not justification or not justification.strip():
            raise JustificationMissingError(
                "closing as not affected needs --justification, one of: "
                + ", ".join(NOT_AFFECTED_JUSTIFICATIONS)
            )
        if justification not in NOT_AFFECTED_JUSTIFICATIONS:
            raise InvalidCaseInputError(
                f"unknown justification {justification[:60]!r}; one of: "
                + ", ".join(NOT_AFFECTED_JUSTIFICATIONS)
            )
        event = ClosedNotAffected(
            recorded_at=self._now(), justification=justification, note=_bounded(note, "note")
        )
        self._store.append(case.case_id, event)
        return self.get(case_id)

    def reminder_emitted(self, case_id: str, stage: Stage, kind: ReminderKind) -> None:
        """Remember that `craflow.report.<kind>` went out for `stage` (the clock's own note)."""
        case = self.get(case_id)
        if (stage, kind) not in case.reminders:
            event = ReminderEmitted(recorded_at=self._now(), stage=stage, reminder=kind)
            self._store.append(case_id, event)

    def announced(self, case_id: str, what: Literal["opened", "closed"]) -> None:
        """Remember that `craflow.case.<what>` went out (the clock's own note)."""
        if what not in self.get(case_id).announced:
            self._store.append(case_id, Announced(recorded_at=self._now(), what=what))

    def _open_case(self, case_id: str) -> Case:
        case = self.get(case_id)
        if not case.is_open:
            raise CaseClosedError(f"case {case_id} is closed ({case.resolution})")
        return case


def _check_order(case: Case, stage: Stage, when: datetime) -> None:
    if stage in case.submissions:
        raise StageOrderError(f"{stage} of {case.case_id} is already recorded")
    for earlier in STAGE_ORDER[: STAGE_ORDER.index(stage)]:
        before = case.submissions.get(earlier)
        if before is None:
            raise StageOrderError(f"{stage} before {earlier}: record the {earlier} first")
        if when < before.submitted_at:
            raise StageOrderError(
                f"{stage} at {when.isoformat()} is before the {earlier} "
                f"({before.submitted_at.isoformat()})"
            )


def _bounded(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidCaseInputError(f"{what} is longer than {MAX_NOTE_CHARS} characters")
    return text
