"""Match VEX statements to a version's findings and plan the changes that applying means.

A statement matches a finding when their vulnerability ids/aliases overlap and their
components are the same INCLUDING version (`identity.component_key`). The plan is
pure: what to PATCH, what is already so, and what matched nothing; applying the
same statements twice plans nothing the second time. A statement that would only
move a finding between `open` and `in_progress` changes nothing (both still count).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from craflow.vex.identity import component_key, ids_overlap
from craflow.vex.model import COUNTING, MAX_NOTES_CHARS, Finding, Statement

_URN_PREFIX = "urn:craflow:component:"


@dataclass(frozen=True)
class Change:
    """One PATCH to make: the finding, and its new status, justification and note."""

    finding: Finding
    status: str
    justification: str | None
    note: str | None
    origin: str = ""

    def describe(self) -> str:
        why = f" ({self.justification})" if self.justification else ""
        return (
            f"{self.finding.vuln_id} on {self.finding.component_name} "
            f"{self.finding.component_version}: {self.finding.status} -> {self.status}{why}"
        )


@dataclass(frozen=True)
class ApplyPlan:
    changes: tuple[Change, ...]
    already: tuple[Finding, ...]
    unmatched: tuple[Statement, ...]
    conflicts: tuple[Statement, ...]


def statement_key(statement: Statement) -> str:
    """The component (with version) a statement is about."""
    if statement.purl:
        return component_key(statement.purl, None, None)
    label = (statement.component_name or "").removeprefix(_URN_PREFIX).strip()
    if "@" not in label and " " in label:
        name, _, version = label.rpartition(" ")
        label = f"{name}@{version}"
    name, _, version = label.rpartition("@")
    return component_key(None, name or label, version)


def finding_key(finding: Finding) -> str:
    return component_key(finding.purl, finding.component_name, finding.component_version)


def clip_note(note: str | None) -> str | None:
    if note is None:
        return None
    return note if len(note) <= MAX_NOTES_CHARS else note[: MAX_NOTES_CHARS - 1] + "…"


def needs_change(
    finding: Finding, status: str, justification: str | None, note: str | None
) -> bool:
    if status in COUNTING and finding.status in COUNTING:
        return False
    if finding.status != status or (finding.justification or None) != justification:
        return True
    return note is not None and note != finding.notes


def plan_apply(findings: Sequence[Finding], statements: Iterable[Statement]) -> ApplyPlan:
    """What applying *statements* to *findings* changes (first matching statement wins)."""
    by_key: dict[str, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(finding_key(finding), []).append(finding)
    decided: dict[str, Statement] = {}
    changes: list[Change] = []
    already: list[Finding] = []
    unmatched: list[Statement] = []
    conflicts: list[Statement] = []
    for statement in statements:
        matched = [
            f for f in by_key.get(statement_key(statement), []) if ids_overlap(f.ids, statement.ids)
        ]
        if not matched:
            unmatched.append(statement)
        for finding in matched:
            earlier = decided.get(finding.id)
            if earlier is not None:
                if (earlier.status, earlier.justification) != (
                    statement.status,
                    statement.justification,
                ):
                    conflicts.append(statement)
                continue
            decided[finding.id] = statement
            note = clip_note(statement.note)
            if needs_change(finding, statement.status, statement.justification, note):
                changes.append(Change(finding, statement.status, statement.justification, note))
            else:
                already.append(finding)
    return ApplyPlan(tuple(changes), tuple(already), tuple(unmatched), tuple(conflicts))
