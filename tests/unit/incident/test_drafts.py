"""Drafts per stage and the CSAF 2.0 advisory: pre-filled, marked for a person, schema-valid."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from craflow.incident import (
    CaseBook,
    CaseOpening,
    Publisher,
    Stage,
    VulnerabilityFacts,
    build_advisory,
    build_draft,
    csaf_errors,
    open_cases,
    write_drafts,
)
from tests.unit.incident.conftest import VirtualClock
from tests.unit.incident.test_cases import hit, released

PUBLISHER = Publisher(name="Example Manufacturer", namespace="https://example.com")


def _fields(case, stage):  # type: ignore[no-untyped-def]
    return {f["key"]: f for f in build_draft(case, stage).to_json()["fields"]}  # type: ignore[attr-defined]


def test_early_warning_names_member_states_and_kev_facts(book: CaseBook) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    fields = _fields(case, Stage.EARLY_WARNING)
    assert fields["member_states"]["value"] == ["DE", "FR"]
    assert "US" in fields["member_states"]["hint"]
    assert "2024-04-01" in fields["exploitation"]["value"]
    assert "knownRansomwareCampaignUse: Unknown" in fields["exploitation"]["value"]
    assert fields["assessment"]["needs_person"] is True
    assert fields["assessment"]["value"] is None
    assert fields["affected_versions"]["value"] == ["1.0.0"]


def test_notification_and_final_fill_what_craflow_knows(book: CaseBook) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    note = _fields(case, Stage.NOTIFICATION)
    assert "Backdoor" in note["vulnerability_nature"]["value"]
    assert "CWE-506" in note["vulnerability_nature"]["value"]
    assert note["severity"]["value"].startswith("critical, CVSS 10.0")
    assert note["corrective_measures_taken"]["needs_person"] is True
    assert note["user_measures"]["value"] == ["xz 5.6.2"]
    assert note["sensitivity"]["needs_person"] is True
    final = _fields(case, Stage.FINAL)
    assert final["security_update"]["value"] is None
    assert final["fixed_upstream"]["value"] == ["5.6.2"]
    assert final["malicious_actor"]["needs_person"] is True


def test_markdown_marks_fields_for_a_person(book: CaseBook) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    text = build_draft(case, Stage.EARLY_WARNING).to_markdown()
    assert text.startswith("# Early warning — widget--cve-2024-3094")
    assert "**TO FILL (person):**" in text
    assert "14(2)(a)" in text


def _cases(book: CaseBook, clock: VirtualClock):  # type: ignore[no-untyped-def]
    kev = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    manual = book.open(
        CaseOpening("gadget", "GHSA-aaaa-bbbb-cccc", source="manual", note="own telemetry")
    ).case
    bare = book.open(
        CaseOpening(
            "gizmo",
            "OSV-2026-1",
            affected_versions=("0.1.0",),
            facts=VulnerabilityFacts(cvss_vector="not a vector", kev_date_added="yesterday"),
        )
    ).case
    clock.advance(days=1)
    fixed = book.fix_released(kev.case_id, "1.0.1", clock.now - timedelta(hours=1))
    return [kev, manual, bare, fixed]


def test_every_csaf_draft_validates(book: CaseBook, clock: VirtualClock) -> None:
    for case in _cases(book, clock):
        advisory = build_advisory(case, PUBLISHER, clock.now)
        assert csaf_errors(advisory) == []
        assert advisory["document"]["category"] == "csaf_security_advisory"  # type: ignore[index]


def test_csaf_carries_cve_kev_and_the_fix(book: CaseBook, clock: VirtualClock) -> None:
    fixed = _cases(book, clock)[-1]
    doc = build_advisory(fixed, PUBLISHER, clock.now)
    vuln = doc["vulnerabilities"][0]  # type: ignore[index]
    assert vuln["cve"] == "CVE-2024-3094"
    assert vuln["product_status"] == {"known_affected": ["widget-1.0.0"], "fixed": ["widget-1.0.1"]}
    assert vuln["remediations"][0]["category"] == "vendor_fix"
    assert vuln["threats"][0]["date"] == "2024-04-01T00:00:00Z"
    assert vuln["scores"][0]["cvss_v3"]["baseScore"] == 10.0


def test_the_schema_catches_a_broken_document(book: CaseBook, clock: VirtualClock) -> None:
    advisory = build_advisory(_cases(book, clock)[0], PUBLISHER, clock.now)
    advisory["document"]["category"] = ""  # type: ignore[index]
    assert csaf_errors(advisory)


def test_write_drafts_writes_every_file(
    book: CaseBook, clock: VirtualClock, tmp_path: Path
) -> None:
    case = _cases(book, clock)[-1]
    written = write_drafts(case, tmp_path / "out", PUBLISHER, clock.now)
    names = sorted(p.name for p in written)
    assert len(names) == 7
    assert "widget--cve-2024-3094.csaf.json" in names
    final = json.loads((tmp_path / "out/widget--cve-2024-3094.final.json").read_text())
    assert final["deadline"] == (case.fix.released_at + timedelta(days=14)).isoformat()  # type: ignore[union-attr]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_json_names_its_article(book: CaseBook, stage: Stage) -> None:
    case = open_cases(book, [hit("1.0.0")], released("1.0.0"))[0].case
    basis = build_draft(case, stage).to_json()["legal_basis"]
    assert basis == f"Regulation (EU) 2024/2847, Article {build_draft(case, stage).article}"
