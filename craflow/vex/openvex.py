"""OpenVEX 0.2.0: build it from findings (plain JSON, validated by the official schema), read it.

One statement per finding: `vulnerability{name, aliases}`, `products[{@id: purl,
identifiers{purl}}]`, `status`, and `justification`, `impact_statement`,
`action_statement` and `status_notes` as the format asks for each status.
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from craflow.vex.mapping import OPENVEX_STATUS, from_openvex, hint_text, strip_hint
from craflow.vex.model import Finding, Skipped, Statement, Subject, collect

CONTEXT = "https://openvex.dev/ns/v0.2.0"


def _product(finding: Finding) -> dict[str, Any]:
    if finding.purl:
        return {"@id": finding.purl, "identifiers": {"purl": finding.purl}}
    return {"@id": f"urn:craflow:component:{finding.component_name}@{finding.component_version}"}


def _statement(finding: Finding) -> dict[str, Any]:
    status = OPENVEX_STATUS[finding.status]
    vulnerability: dict[str, Any] = {"name": finding.vuln_id}
    aliases = [a for a in dict.fromkeys(finding.aliases) if a != finding.vuln_id]
    if aliases:
        vulnerability["aliases"] = aliases
    statement: dict[str, Any] = {
        "vulnerability": vulnerability,
        "products": [_product(finding)],
        "status": status,
        "status_notes": hint_text(finding.status, finding.notes),
    }
    if finding.justification and status == "not_affected":
        statement["justification"] = finding.justification
    if finding.status == "false_positive":
        statement["impact_statement"] = "False positive: the finding does not apply."
    if status == "affected":
        statement["action_statement"] = (
            "Risk accepted; no remediation planned."
            if finding.status == "accepted_risk"
            else "Will not fix."
        )
    return statement


def build_openvex(findings: Iterable[Finding], subject: Subject) -> dict[str, Any]:
    """The OpenVEX 0.2.0 document of *findings*, as parsed JSON."""
    statements = [_statement(f) for f in findings]
    seed = f"{subject.product}\n{subject.version}\n{subject.timestamp}".encode()
    return {
        "@context": CONTEXT,
        "@id": f"urn:craflow:vex:{hashlib.sha256(seed).hexdigest()[:32]}",
        "author": subject.author,
        "timestamp": subject.timestamp,
        "version": 1,
        "tooling": "craflow",
        "statements": statements,
    }


def _purl_and_name(product: Mapping[str, Any]) -> tuple[str | None, str]:
    identifiers = product.get("identifiers")
    purl = identifiers.get("purl") if isinstance(identifiers, dict) else None
    ident = product.get("@id")
    if not isinstance(purl, str) and isinstance(ident, str) and ident.startswith("pkg:"):
        purl = ident
    name = purl if isinstance(purl, str) else str(ident or "?")
    return (purl if isinstance(purl, str) else None), name


def read_openvex(doc: Mapping[str, Any]) -> tuple[list[Statement], list[Skipped]]:
    """Statements of a parsed OpenVEX document (one per statement and product)."""
    statements: list[Statement] = []
    skipped: list[Skipped] = []
    for raw in doc.get("statements") or []:
        vulnerability = raw.get("vulnerability") if isinstance(raw, dict) else None
        name = vulnerability.get("name") if isinstance(vulnerability, dict) else None
        if not isinstance(raw, dict) or not isinstance(name, str) or not name:
            skipped.append(Skipped("?", "?", "a statement without a vulnerability name"))
            continue
        assert isinstance(vulnerability, dict)
        aliases = tuple(a for a in vulnerability.get("aliases") or [] if isinstance(a, str))
        mapped = from_openvex(raw.get("status"), raw.get("justification"), raw.get("status_notes"))
        for product in raw.get("products") or []:
            if not isinstance(product, dict):
                continue
            purl, label = _purl_and_name(product)
            collect(
                (statements, skipped),
                (mapped.status, mapped.justification, mapped.reason),
                vuln_id=name,
                purl=purl,
                label=label,
                aliases=aliases,
                note=strip_hint(raw.get("status_notes")),
            )
    return statements, skipped
