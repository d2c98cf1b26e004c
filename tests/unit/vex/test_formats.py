"""Every status and justification survives build -> official schema -> read, in each format."""

import json

import pytest

from craflow.vex.csaf import build_csaf
from craflow.vex.cyclonedx import build_cyclonedx
from craflow.vex.matching import plan_apply
from craflow.vex.model import FORMATS, JUSTIFICATIONS, Finding, Subject, VexFormat
from craflow.vex.reader import parse_vex
from craflow.vex.validate import schema_errors
from craflow.vex.writer import render_vex

SUBJECT = Subject("shop", "1.4.0", timestamp="2026-11-30T12:00:00Z")


def triaged() -> list[Finding]:
    """One finding per status, every justification, aliases, a purl-less component."""
    rows = [
        ("open", None),
        ("in_progress", None),
        ("fixed", None),
        ("false_positive", None),
        ("false_positive", "component_not_present"),
        ("accepted_risk", None),
        ("wont_fix", None),
    ] + [("not_affected", j) for j in JUSTIFICATIONS]
    findings = [
        Finding(
            id=f"f{i}",
            vuln_id=f"PYSEC-2024-{i}",
            aliases=(f"CVE-2024-{1000 + i}",),
            component_name=f"pkg{i % 4}",
            component_version="1.0",
            purl=f"pkg:pypi/pkg{i % 4}@1.0",
            status=status,
            justification=j,
            notes=f"note {i}" if i % 2 else None,
        )
        for i, (status, j) in enumerate(rows)
    ]
    findings.append(
        Finding("nopurl", "GHSA-aaaa-bbbb-cccc", "vendored", "0.1", None, status="wont_fix")
    )
    return findings


@pytest.mark.parametrize("fmt", FORMATS)
def test_written_documents_validate_and_read_back_exactly(fmt: VexFormat) -> None:
    findings = triaged()
    data = render_vex(findings, SUBJECT, fmt)
    assert schema_errors(json.loads(data), fmt) == []
    doc = parse_vex(data, max_depth=64, max_statements=1000)
    assert doc.format == fmt
    assert doc.skipped == ()
    # the statements applied to fresh (open) findings reproduce the triage exactly
    fresh = [
        Finding(f.id, f.vuln_id, f.component_name, f.component_version, f.purl, f.aliases)
        for f in findings
    ]
    plan = plan_apply(fresh, doc.statements)
    assert plan.unmatched == ()
    assert plan.conflicts == ()
    got = {c.finding.id: (c.status, c.justification, c.note) for c in plan.changes}
    want = {
        f.id: (f.status, f.justification, f.notes)
        for f in findings
        if f.status not in ("open", "in_progress")
    }
    assert got == want
    # and applying it to the triaged findings changes nothing
    assert plan_apply(findings, doc.statements).changes == ()


def test_csaf_groups_products_under_one_vulnerability_with_its_cve() -> None:
    findings = [
        Finding("a", "CVE-2024-0001", "x", "1", "pkg:pypi/x@1", status="wont_fix"),
        Finding("b", "CVE-2024-0001", "y", "2", "pkg:pypi/y@2", status="fixed"),
    ]
    doc = build_csaf(findings, SUBJECT)
    assert [v["cve"] for v in doc["vulnerabilities"]] == ["CVE-2024-0001"]
    assert doc["vulnerabilities"][0]["product_status"] == {
        "known_affected": ["CSAFPID-0001"],
        "fixed": ["CSAFPID-0002"],
    }


def test_foreign_cyclonedx_justifications_map_to_the_openvex_set() -> None:
    doc = build_cyclonedx(
        [
            Finding(
                "a",
                "CVE-2024-0001",
                "x",
                "1",
                "pkg:pypi/x@1",
                status="not_affected",
                justification="vulnerable_code_not_in_execute_path",
            )
        ],
        SUBJECT,
    )
    vuln = doc["vulnerabilities"][0]
    vuln.pop("properties")  # as another tool would write it: no craflow hints
    vuln["analysis"]["justification"] = "protected_at_runtime"
    parsed = parse_vex(json.dumps(doc).encode(), max_depth=64, max_statements=10)
    assert [(s.status, s.justification) for s in parsed.statements] == [
        ("not_affected", "inline_mitigations_already_exist")
    ]


def test_a_hint_cannot_turn_affected_into_not_affected() -> None:
    document = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "urn:x",
        "author": "someone",
        "timestamp": "2026-11-30T12:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2024-0001"},
                "products": [{"@id": "pkg:pypi/x@1"}],
                "status": "affected",
                "action_statement": "upgrade",
                "status_notes": "craflow status: false_positive. sneaky",
            }
        ],
    }
    parsed = parse_vex(json.dumps(document).encode(), max_depth=64, max_statements=10)
    assert [s.status for s in parsed.statements] == ["open"]
