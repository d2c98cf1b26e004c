"""CycloneDX 1.6 VEX: build it from findings with cyclonedx-python-lib, read it back.

Written: a BOM whose `components` are the affected components (bom-ref = purl, or
name@version) and whose `vulnerabilities` are one entry per finding, with `analysis`
(state, justification, response, detail) and `affects` pointing at the component.
Read: `vulnerabilities[].analysis` and `affects[].ref`, resolved through `components`
(a ref that is itself a purl or a BOM-Link to a purl-keyed component works too).
"""

import json
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisJustification,
    ImpactAnalysisResponse,
    ImpactAnalysisState,
)
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityReference,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from craflow.vex.mapping import CDX_JUSTIFICATION, CDX_STATE, Mapped, from_cyclonedx
from craflow.vex.model import Finding, Skipped, Statement, Subject, collect

PROP_STATUS = "craflow:status"
PROP_JUSTIFICATION = "craflow:justification"


def _source(vuln_id: str) -> VulnerabilitySource:
    prefix = vuln_id.split("-", 1)[0].upper()
    return VulnerabilitySource(name={"CVE": "NVD", "GHSA": "GitHub"}.get(prefix, "OSV"))


def _ref(finding: Finding) -> str:
    return finding.purl or f"{finding.component_name}@{finding.component_version}"


def _component(finding: Finding) -> Component:
    purl = None
    if finding.purl:
        try:
            purl = PackageURL.from_string(finding.purl)
        except ValueError:
            purl = None
    return Component(
        name=finding.component_name or "unknown",
        version=finding.component_version or None,
        purl=purl,
        bom_ref=_ref(finding),
        type=ComponentType.LIBRARY,
    )


def _vulnerability(finding: Finding) -> Vulnerability:
    responses = []
    if finding.status in ("accepted_risk", "wont_fix"):
        responses.append(ImpactAnalysisResponse.WILL_NOT_FIX)
    justification = (
        ImpactAnalysisJustification(CDX_JUSTIFICATION[finding.justification])
        if finding.justification in CDX_JUSTIFICATION
        else None
    )
    properties = [Property(name=PROP_STATUS, value=finding.status)]
    if justification is not None and finding.justification:
        properties.append(Property(name=PROP_JUSTIFICATION, value=finding.justification))
    return Vulnerability(
        id=finding.vuln_id,
        source=_source(finding.vuln_id),
        references=[
            VulnerabilityReference(id=alias, source=_source(alias))
            for alias in finding.aliases
            if alias != finding.vuln_id
        ],
        analysis=VulnerabilityAnalysis(
            state=ImpactAnalysisState(CDX_STATE[finding.status]),
            justification=justification,
            responses=responses,
            detail=finding.notes or None,
        ),
        affects=[BomTarget(ref=_ref(finding))],
        properties=properties,
    )


def build_cyclonedx(findings: Iterable[Finding], subject: Subject) -> dict[str, Any]:
    """The CycloneDX 1.6 VEX document of *findings*, as parsed JSON."""
    findings = list(findings)
    bom = Bom()
    bom.metadata.timestamp = datetime.fromisoformat(subject.timestamp.replace("Z", "+00:00"))
    bom.metadata.component = Component(
        name=subject.product, version=subject.version, type=ComponentType.APPLICATION
    )
    seen: set[str] = set()
    for finding in findings:
        if _ref(finding) not in seen:
            seen.add(_ref(finding))
            bom.components.add(_component(finding))
        bom.vulnerabilities.add(_vulnerability(finding))
    with warnings.catch_warnings():  # a VEX document has no dependency graph to complete
        warnings.simplefilter("ignore", UserWarning)
        text = JsonV1Dot6(bom).output_as_string()
    document: dict[str, Any] = json.loads(text)
    return document


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _purl_of_ref(ref: str, by_ref: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, str]:
    component = by_ref.get(ref)
    if component is None and "#" in ref:  # a BOM-Link: urn:cdx:serial/version#bom-ref
        component = by_ref.get(ref.rsplit("#", 1)[1])
    if component is not None:
        label = f"{component.get('name') or ref}@{component.get('version') or ''}"
        return _text(component.get("purl")), label
    if ref.startswith("pkg:"):
        return ref, ref
    return None, ref


def _properties(vuln: Mapping[str, Any]) -> dict[str, object]:
    props = vuln.get("properties")
    found: dict[str, object] = {}
    for prop in props if isinstance(props, list) else []:
        if isinstance(prop, dict) and isinstance(prop.get("name"), str):
            found[prop["name"]] = prop.get("value")
    return found


def read_cyclonedx(doc: Mapping[str, Any]) -> tuple[list[Statement], list[Skipped]]:
    """Statements of a parsed CycloneDX VEX document (one per vulnerability and target)."""
    by_ref = {
        str(c["bom-ref"]): c
        for c in doc.get("components") or []
        if isinstance(c, dict) and isinstance(c.get("bom-ref"), str)
    }
    statements: list[Statement] = []
    skipped: list[Skipped] = []
    for vuln in doc.get("vulnerabilities") or []:
        if not isinstance(vuln, dict) or not _text(vuln.get("id")):
            skipped.append(Skipped("?", "?", "a vulnerability without an id"))
            continue
        vuln_id = str(vuln["id"])
        raw_analysis = vuln.get("analysis")
        analysis: dict[str, Any] = raw_analysis if isinstance(raw_analysis, dict) else {}
        responses = tuple(r for r in analysis.get("response") or [] if isinstance(r, str))
        props = _properties(vuln)
        mapped: Mapped = from_cyclonedx(
            analysis.get("state"),
            analysis.get("justification"),
            responses,
            (props.get(PROP_STATUS), props.get(PROP_JUSTIFICATION)),
        )
        aliases = tuple(
            str(r["id"])
            for r in vuln.get("references") or []
            if isinstance(r, dict) and _text(r.get("id"))
        )
        for target in vuln.get("affects") or []:
            ref = target.get("ref") if isinstance(target, dict) else None
            if not isinstance(ref, str):
                continue
            purl, name = _purl_of_ref(ref, by_ref)
            collect(
                (statements, skipped),
                (mapped.status, mapped.justification, mapped.reason),
                vuln_id=vuln_id,
                purl=purl,
                label=name,
                aliases=aliases,
                note=_text(analysis.get("detail")),
            )
    return statements, skipped
