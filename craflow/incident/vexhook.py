"""The hook where a not-affected decision becomes a VEX statement (craflow/vex, issue 16).

`CaseBook.close_not_affected` records the decision in the case history first (the
decision and its reasoning are the evidence); then the command calls
`write_not_affected_vex(decision)`. Until `craflow.vex` lands this writes nothing
and says so; the VEX work replaces the body of `write_not_affected_vex` (or sets
the findings' status through `PATCH /vulnerabilities/{id}` with the justification,
API-CONTRACT §7) without touching the case code.
"""

from dataclasses import dataclass

from craflow.incident.model import Case


@dataclass(frozen=True)
class NotAffectedDecision:
    """What a VEX statement needs: product, versions, vulnerability, justification, note."""

    case_id: str
    product: str
    versions: tuple[str, ...]
    vulnerability: str
    aliases: tuple[str, ...]
    component_purl: str | None
    justification: str
    note: str | None


def decision_of(case: Case) -> NotAffectedDecision | None:
    """The not-affected decision of a closed case (None when it was not closed so)."""
    if case.closed is None:
        return None
    facts = case.opened.facts
    return NotAffectedDecision(
        case_id=case.case_id,
        product=case.opened.product,
        versions=case.affected_versions,
        vulnerability=case.opened.vulnerability,
        aliases=facts.aliases,
        component_purl=facts.component.purl if facts.component else None,
        justification=case.closed.justification,
        note=case.closed.note,
    )


def write_not_affected_vex(decision: NotAffectedDecision) -> str | None:
    """Write the VEX statement of `decision`; return where it went (None: not written yet)."""
    del decision  # craflow.vex (issue 16) fills this in
    return None
