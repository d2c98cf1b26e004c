"""Carry triage forward from the previous release: a pure function, applied by a flow step.

Rule (issue 16): a finding of the new version that is still counted (`open` or
`in_progress`) and whose (vulnerability id or alias, component purl INCLUDING version)
matches a triaged finding of the previous release gets the same status and
justification, and a note naming where it came from. A match on the package whose
version changed is NOT carried: it is listed "needs review". So is a match whose
previous triage cannot be carried as is (conflicting decisions, `not_affected`
without a justification, or `fixed`). Everything else is untouched. Findings the new
version already triaged are never overwritten.

What carries: the triage decisions (`CARRIED_STATUSES`: not_affected, false_positive,
accepted_risk, wont_fix, in_progress). `fixed` never does: it says the code changed, which
cannot be true of the same component at the same version still carrying the finding, so
such a match is listed "needs review".
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from craflow.vex.identity import package_key
from craflow.vex.matching import Change, clip_note, finding_key
from craflow.vex.model import COUNTING, TRIAGED, Finding

#: the decisions that carry to an unchanged component (`fixed` never does)
CARRIED_STATUSES: frozenset[str] = frozenset(
    {"not_affected", "false_positive", "accepted_risk", "wont_fix", "in_progress"}
)


@dataclass(frozen=True)
class NeedsReview:
    """A new finding that looks like a triaged one of the previous release but is not carried."""

    finding: Finding
    previous: Finding
    reason: str


@dataclass(frozen=True)
class CarryResult:
    """What carrying from *from_version* means: `carried` to apply, the rest to show."""

    from_version: str
    carried: tuple[Change, ...]
    needs_review: tuple[NeedsReview, ...]
    untouched: tuple[Finding, ...]

    @property
    def summary(self) -> str:
        """One line for the summary and evidence: "3 carried from 1.4.0, 1 needs review"."""
        return (
            f"{len(self.carried)} carried from {self.from_version}, "
            f"{len(self.needs_review)} need{'s' if len(self.needs_review) == 1 else ''} review"
        )


def carried_note(previous: Finding, from_version: str) -> str:
    origin = (
        f"Carried from {from_version} (triage of {previous.vuln_id} on "
        f"{previous.component_name} {previous.component_version})."
    )
    return clip_note(f"{origin} {previous.notes}" if previous.notes else origin) or origin


def _not_carried(prev: Finding, from_version: str) -> str | None:
    """Why the previous triage cannot be carried as is (None: it can)."""
    if prev.status not in CARRIED_STATUSES:
        return f"{prev.status} in {from_version}, yet the same component version still has it"
    if prev.status == "not_affected" and not prev.justification:
        return "not_affected without a justification"
    return None


def _decide(
    finding: Finding, same: list[Finding], upgraded: list[Finding], from_version: str
) -> Change | NeedsReview | None:
    if same:
        decisions = {(p.status, p.justification) for p in same}
        if len(decisions) > 1:
            return NeedsReview(finding, same[0], "conflicting triage in the previous release")
        prev = same[0]
        reason = _not_carried(prev, from_version)
        if reason is not None:
            return NeedsReview(finding, prev, reason)
        if prev.status == finding.status:
            return None  # nothing to change (`in_progress` on both)
        justification = (
            prev.justification if prev.status in ("not_affected", "false_positive") else None
        )
        return Change(
            finding, prev.status, justification, carried_note(prev, from_version), from_version
        )
    if upgraded:
        prev = upgraded[0]
        return NeedsReview(
            finding,
            prev,
            f"component version changed ({prev.component_version} -> {finding.component_version})",
        )
    return None


def compute_carry(
    previous: Sequence[Finding], current: Sequence[Finding], *, from_version: str
) -> CarryResult:
    """Which findings of *current* take the triage of *previous* (see the module docstring)."""
    by_id: dict[str, list[tuple[Finding, str, str]]] = {}
    for p in previous:
        if p.status in TRIAGED | CARRIED_STATUSES:
            keyed = (p, finding_key(p), package_key(p.purl, p.component_name))
            for vuln_id in p.ids:
                by_id.setdefault(vuln_id, []).append(keyed)
    carried: list[Change] = []
    review: list[NeedsReview] = []
    untouched: list[Finding] = []
    for finding in current:
        if finding.status not in COUNTING:
            untouched.append(finding)
            continue
        related = {id(k[0]): k for vuln_id in finding.ids for k in by_id.get(vuln_id, [])}
        key = finding_key(finding)
        package = package_key(finding.purl, finding.component_name)
        same = [p for p, p_key, _ in related.values() if p_key == key]
        upgraded = [p for p, p_key, p_pkg in related.values() if p_pkg == package and p_key != key]
        decision = _decide(finding, same, upgraded, from_version)
        if isinstance(decision, Change):
            carried.append(decision)
        elif isinstance(decision, NeedsReview):
            review.append(decision)
        else:
            untouched.append(finding)
    return CarryResult(from_version, tuple(carried), tuple(review), tuple(untouched))


def carry_evidence(result: CarryResult) -> bytes:
    """The carry decision as JSON for the run's evidence (what, from where, and why not)."""

    def finding_ref(f: Finding) -> dict[str, str | None]:
        return {
            "id": f.id,
            "vuln_id": f.vuln_id,
            "component": f"{f.component_name} {f.component_version}".strip(),
            "purl": f.purl,
        }

    document = {
        "from_version": result.from_version,
        "summary": result.summary,
        "carried": [
            {
                **finding_ref(c.finding),
                "status": c.status,
                "justification": c.justification,
                "note": c.note,
            }
            for c in result.carried
        ],
        "needs_review": [
            {**finding_ref(r.finding), "previous": finding_ref(r.previous), "reason": r.reason}
            for r in result.needs_review
        ],
        "untouched": len(result.untouched),
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
