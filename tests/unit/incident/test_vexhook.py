"""Closing a case as not affected sets the findings and writes a valid CycloneDX VEX."""

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from craflow.incident import CaseBook, CaseOpening, ComponentRef, VulnerabilityFacts
from craflow.incident.vexhook import decision_of, write_not_affected_vex
from craflow.vex.matching import Change
from craflow.vex.model import Finding
from craflow.vex.validate import check_schema


class FakePlatform:
    def __init__(self, findings: dict[str, list[Finding]]) -> None:
        self.findings = findings
        self.applied: list[Change] = []

    def version_findings(self, product: str, version: str) -> Sequence[Finding]:
        return self.findings.get(version, [])

    def apply(self, changes: Sequence[Change]) -> Sequence[Finding]:
        self.applied.extend(changes)
        return [
            Finding(
                c.finding.id,
                c.finding.vuln_id,
                c.finding.component_name,
                c.finding.component_version,
                c.finding.purl,
                c.finding.aliases,
                c.status,
                c.justification,
                c.note,
            )
            for c in changes
        ]


def _closed(book: CaseBook) -> str:
    opened = book.open(
        CaseOpening(
            product="widget",
            vulnerability="GHSA-aaaa-bbbb-cccc",
            affected_versions=("1.0.0", "1.1.0"),
            facts=VulnerabilityFacts(
                aliases=("CVE-2099-0001",),
                component=ComponentRef(name="lib", version="1.0", purl="pkg:pypi/lib@1.0"),
            ),
        )
    )
    book.close_not_affected(opened.case.case_id, "vulnerable_code_not_in_execute_path", "unused")
    return opened.case.case_id


def test_close_sets_matching_findings_and_writes_one_vex_per_version(
    make_book: Callable[[], CaseBook], tmp_path: Path
) -> None:
    book = make_book()
    case_id = _closed(book)
    decision = decision_of(book.get(case_id))
    assert decision is not None
    hit = Finding("f1", "CVE-2099-0001", "lib", "1.0", "pkg:pypi/lib@1.0")
    other = Finding("f2", "PYSEC-1", "lib", "1.0", "pkg:pypi/lib@1.0")
    platform = FakePlatform({"1.0.0": [hit, other], "1.1.0": []})

    written = write_not_affected_vex(decision, book.store, platform)

    assert [c.finding.id for c in platform.applied] == ["f1"]
    assert platform.applied[0].justification == "vulnerable_code_not_in_execute_path"
    assert written.findings_set == 1 and written.documents == 2
    folder = tmp_path / "archive" / "evidence" / "incident-vex" / case_id
    for version in ("1.0.0", "1.1.0"):
        document = json.loads((folder / f"{version}.cdx.json").read_text())
        check_schema(document, "cyclonedx")
        [vuln] = document["vulnerabilities"]
        assert vuln["analysis"]["state"] == "not_affected"
        assert vuln["analysis"]["justification"] == "code_not_reachable"
    # the case history is untouched by the documents beside it
    assert book.get(case_id).events == 2


def test_without_a_platform_the_vex_is_still_written(make_book: Callable[[], CaseBook]) -> None:
    book = make_book()
    decision = decision_of(book.get(_closed(book)))
    assert decision is not None
    written = write_not_affected_vex(decision, book.store)
    assert (written.documents, written.findings_set) == (2, 0)
    assert written.uri.endswith(f"/incident-vex/{decision.case_id}/")
