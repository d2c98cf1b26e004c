"""The Art. 14(8) user advisory: a CSAF 2.0 `csaf_security_advisory` draft, schema-checked.

The document is built from the case, then validated against the official CSAF 2.0
JSON schema bundled once in `craflow.schemas` (the FIRST CVSS schemas it references
resolved locally; no network). Its tracking status is `draft`: a person reviews the
publisher, distribution (TLP) and text before publishing it to users.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cvss import CVSS3
from cvss.exceptions import CVSSError

from craflow import __version__
from craflow.incident.errors import IncidentError
from craflow.incident.model import Case
from craflow.schemas import csaf_validator, first_errors

_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_MESSAGES = 5


class CsafInvalidError(IncidentError):
    """A built CSAF document does not validate (a bug in craflow, never written)."""


@dataclass(frozen=True)
class Publisher:
    """Who publishes the advisory (CSAF `document.publisher`)."""

    name: str
    namespace: str  # a URL the publisher controls, e.g. https://example.com


def csaf_errors(document: object) -> list[str]:
    """Up to a few schema errors of `document` (empty when it validates)."""
    return first_errors(csaf_validator(), document, _MAX_MESSAGES)


def _pid(case: Case, version: str) -> str:
    return f"{case.opened.product}-{version}"


def _product_tree(case: Case, publisher: Publisher) -> dict[str, object]:
    versions = list(case.affected_versions)
    if case.fix is not None and case.fix.version not in versions:
        versions.append(case.fix.version)
    name = case.opened.product_name or case.opened.product
    leaves = [
        {
            "category": "product_version",
            "name": v,
            "product": {"product_id": _pid(case, v), "name": f"{name} {v}"},
        }
        for v in versions
    ]
    product: dict[str, object] = {"category": "product_name", "name": name}
    if leaves:
        product["branches"] = leaves
    else:
        product["product"] = {"product_id": case.opened.product, "name": name}
    return {"branches": [{"category": "vendor", "name": publisher.name, "branches": [product]}]}


def _identifiers(case: Case) -> dict[str, object]:
    ids = [case.opened.vulnerability, *case.opened.facts.aliases]
    cve = next((i for i in ids if _CVE.match(i)), None)
    others = [
        {"system_name": "GitHub Security Advisory" if i.startswith("GHSA-") else "OSV", "text": i}
        for i in dict.fromkeys(ids)
        if i != cve
    ]
    found: dict[str, object] = {"cve": cve} if cve else {}
    if others:
        found["ids"] = others
    return found


def _notes(case: Case) -> list[dict[str, str]]:
    facts = case.opened.facts
    text = facts.summary or "TO FILL (person): describe the vulnerability for users."
    notes = [{"category": "description", "title": "Vulnerability description", "text": text}]
    if facts.cwe_ids:
        notes.append(
            {"category": "details", "title": "Weaknesses", "text": ", ".join(facts.cwe_ids)}
        )
    if facts.component and (facts.component.purl or facts.component.name):
        component = facts.component.purl or facts.component.name or ""
        notes.append({"category": "details", "title": "Affected component", "text": component})
    return notes


def _threats(case: Case) -> list[dict[str, object]]:
    facts = case.opened.facts
    if case.opened.source != "kev" and facts.kev_date_added is None:
        details = "Actively exploited (reported by the manufacturer)."
    else:
        details = "Listed in the CISA Known Exploited Vulnerabilities catalogue"
        if facts.kev_date_added:
            details += f" since {facts.kev_date_added}"
        if facts.kev_known_ransomware_use:
            details += f"; known ransomware campaign use: {facts.kev_known_ransomware_use}"
        details += "."
    threat: dict[str, object] = {"category": "exploit_status", "details": details}
    if facts.kev_date_added and _DATE.match(facts.kev_date_added):
        threat["date"] = f"{facts.kev_date_added}T00:00:00Z"
    return [threat]


def _scores(case: Case, affected: list[str]) -> list[dict[str, object]]:
    vector = case.opened.facts.cvss_vector
    if not vector or not affected or not vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
        return []
    try:
        parsed = CVSS3(vector)
    except CVSSError:
        return []
    cvss = {
        "version": vector[5:8],
        "vectorString": parsed.clean_vector(),
        "baseScore": float(parsed.scores()[0]),
        "baseSeverity": parsed.severities()[0].upper(),
    }
    return [{"products": affected, "cvss_v3": cvss}]


def _remediation(case: Case, affected: list[str]) -> list[dict[str, object]]:
    if not affected:
        return []
    if case.fix is not None:
        details = (
            f"Upgrade to {case.opened.product_name or case.opened.product} {case.fix.version}."
        )
        return [
            {
                "category": "vendor_fix",
                "details": details,
                "date": case.fix.released_at.isoformat(),
                "product_ids": affected,
            }
        ]
    fixed = ", ".join(case.opened.facts.fixed_upstream)
    details = "No fixed release yet. TO FILL (person): mitigations users can deploy."
    if fixed:
        details += f" The component is fixed upstream in {fixed}."
    return [{"category": "none_available", "details": details, "product_ids": affected}]


def _vulnerability(case: Case) -> dict[str, object]:
    affected = [_pid(case, v) for v in case.affected_versions]
    vuln: dict[str, object] = {**_identifiers(case), "notes": _notes(case)}
    status: dict[str, list[str]] = {}
    if affected:
        status["known_affected"] = affected
    if case.fix is not None:
        status["fixed"] = [_pid(case, case.fix.version)]
    if status:
        vuln["product_status"] = status
    for key, value in (
        ("remediations", _remediation(case, affected)),
        ("scores", _scores(case, affected)),
        ("threats", _threats(case)),
    ):
        if value:
            vuln[key] = value
    return vuln


def build_advisory(case: Case, publisher: Publisher, now: datetime) -> dict[str, object]:
    """The CSAF 2.0 security advisory draft of `case`, validated; `CsafInvalidError` if not."""
    stamp = now.astimezone(UTC).isoformat()
    name = case.opened.product_name or case.opened.product
    document = {
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "title": f"{name}: actively exploited vulnerability {case.opened.vulnerability}",
            "lang": "en",
            "publisher": {
                "category": "vendor",
                "name": publisher.name,
                "namespace": publisher.namespace,
            },
            "distribution": {
                "text": "Draft prepared by craflow: review before publishing to users.",
                "tlp": {"label": "AMBER"},
            },
            "notes": [
                {
                    "category": "summary",
                    "title": "Summary",
                    "text": f"{case.opened.vulnerability} affects {name} and is actively "
                    "exploited. TO FILL (person): what users should do.",
                }
            ],
            "tracking": {
                "id": case.case_id,
                "status": "draft",
                "version": "0",
                "initial_release_date": stamp,
                "current_release_date": stamp,
                "revision_history": [
                    {"date": stamp, "number": "0", "summary": "Draft prepared by craflow."}
                ],
                "generator": {"engine": {"name": "craflow", "version": __version__}},
            },
        },
        "product_tree": _product_tree(case, publisher),
        "vulnerabilities": [_vulnerability(case)],
    }
    errors = csaf_errors(document)
    if errors:
        raise CsafInvalidError(f"CSAF draft of {case.case_id} is invalid: {errors[0]}")
    return document
