"""Where a not-affected decision becomes a VEX statement (craflow/vex, issue 16).

`CaseBook.close_not_affected` records the decision in the case history first (the
decision and its reasoning are the evidence); then the command calls
`write_not_affected_vex(decision, store, platform)`, which

1. sets every matching finding of the affected versions to `not_affected` with the
   justification and the note, through the platform (`PATCH /vulnerabilities/{id}`,
   API-CONTRACT §7), when a platform is given;
2. writes one CycloneDX 1.6 VEX document per affected version (schema-validated) into
   the case's evidence: `<archive>/incident-vex/<case id>/<version>.cdx.json`, beside
   the case's own folder (which holds its events only).

craflow/incident never talks to the API itself: `platform` is anything with the two
methods of `TriagePlatform` (`craflow.vex.platform.PlatformTriage` over a client).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from craflow.incident.model import Case
from craflow.incident.store import CaseStore
from craflow.vex.matching import Change
from craflow.vex.model import Finding, Subject
from craflow.vex.writer import render_vex

VEX_FOLDER = "incident-vex"


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

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(i.upper() for i in (self.vulnerability, *self.aliases) if i)


class TriagePlatform(Protocol):
    """The two platform operations the hook needs (findings of a version; apply changes)."""

    def version_findings(self, product: str, version: str) -> Sequence[Finding]: ...

    def apply(self, changes: Sequence[Change]) -> Sequence[Finding]: ...


@dataclass(frozen=True)
class VexWritten:
    """Where the VEX documents went and how many platform findings were set."""

    uri: str
    documents: int
    findings_set: int


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


def _stated(decision: NotAffectedDecision, version: str) -> Finding:
    """The statement when the platform has no finding to show (or was not asked)."""
    name = ""
    if decision.component_purl:
        name = decision.component_purl.split("/")[-1].split("@")[0]
    return Finding(
        id=f"{decision.case_id}@{version}",
        vuln_id=decision.vulnerability,
        component_name=name or decision.product,
        purl=decision.component_purl,
        aliases=decision.aliases,
        status="not_affected",
        justification=decision.justification,
        notes=decision.note,
    )


def _on_platform(
    decision: NotAffectedDecision, version: str, platform: TriagePlatform
) -> tuple[list[Finding], int]:
    """Set the version's matching findings not_affected; return them as they now are."""
    matching = [
        f for f in platform.version_findings(decision.product, version) if f.ids & decision.ids
    ]
    note = f"Art. 14 case {decision.case_id} closed as not affected." + (
        f" {decision.note}" if decision.note else ""
    )
    changes = [
        Change(f, "not_affected", decision.justification, note, decision.case_id)
        for f in matching
        if (f.status, f.justification) != ("not_affected", decision.justification)
    ]
    updated = {f.id: f for f in platform.apply(changes)} if changes else {}
    return [updated.get(f.id, f) for f in matching], len(changes)


def write_not_affected_vex(
    decision: NotAffectedDecision,
    store: CaseStore,
    platform: TriagePlatform | None = None,
    *,
    timestamp: str = "",
) -> VexWritten:
    """Set the findings (when a platform is given) and write the VEX; return where it went.

    Every document is built and validated before the first one is written.
    """
    versions = decision.versions or ("unspecified",)
    documents: list[tuple[str, bytes]] = []
    findings_set = 0
    for version in versions:
        findings: list[Finding] = []
        if platform is not None and decision.versions:
            findings, changed = _on_platform(decision, version, platform)
            findings_set += changed
        data = render_vex(
            findings or [_stated(decision, version)],
            Subject(decision.product, version, timestamp=timestamp),
            "cyclonedx",
        )
        documents.append((f"{version}.cdx.json", data))
    for name, data in documents:
        store.put_document(VEX_FOLDER, decision.case_id, name, data)
    uri = store.document_uri(VEX_FOLDER, decision.case_id)
    return VexWritten(uri=uri, documents=len(documents), findings_set=findings_set)
