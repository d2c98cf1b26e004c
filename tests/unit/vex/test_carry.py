"""Carry-forward: unchanged components carry, upgraded ones need review, removed ones vanish."""

from craflow.vex.carry import compute_carry
from craflow.vex.model import Finding


def finding(
    fid: str,
    vuln: str,
    name: str,
    version: str,
    status: str = "open",
    justification: str | None = None,
    aliases: tuple[str, ...] = (),
    notes: str | None = None,
) -> Finding:
    return Finding(
        id=fid,
        vuln_id=vuln,
        component_name=name,
        component_version=version,
        purl=f"pkg:pypi/{name}@{version}",
        aliases=aliases,
        status=status,
        justification=justification,
        notes=notes,
    )


PREVIOUS = [
    finding(
        "p1",
        "PYSEC-1",
        "requests",
        "2.19.0",
        "not_affected",
        "vulnerable_code_not_in_execute_path",
        notes="we never call it",
    ),
    finding("p2", "GHSA-x", "jinja2", "2.10", "accepted_risk", aliases=("CVE-2020-1",)),
    finding("p3", "PYSEC-3", "urllib3", "1.24.1", "wont_fix"),
    finding("p4", "PYSEC-4", "pyyaml", "5.1", "false_positive"),  # component removed later
    finding("p5", "PYSEC-5", "requests", "2.19.0", "open"),  # not triaged: never carried
]


def test_unchanged_components_carry_status_justification_and_origin() -> None:
    current = [
        finding("c1", "PYSEC-1", "requests", "2.19.0"),
        finding("c2", "CVE-2020-1", "jinja2", "2.10"),  # matched through the alias
    ]
    result = compute_carry(PREVIOUS, current, from_version="1.4.0")
    by_id = {c.finding.id: c for c in result.carried}
    assert set(by_id) == {"c1", "c2"}
    assert by_id["c1"].status == "not_affected"
    assert by_id["c1"].justification == "vulnerable_code_not_in_execute_path"
    assert by_id["c1"].note is not None
    assert by_id["c1"].note.startswith("Carried from 1.4.0")
    assert "we never call it" in by_id["c1"].note
    assert by_id["c2"].status == "accepted_risk"
    assert by_id["c2"].justification is None
    assert result.needs_review == ()
    assert result.summary == "2 carried from 1.4.0, 0 need review"


def test_upgraded_component_is_not_carried_but_needs_review() -> None:
    current = [
        finding("c1", "PYSEC-1", "requests", "2.19.0"),
        finding("c3", "PYSEC-3", "urllib3", "1.25.0"),
    ]
    result = compute_carry(PREVIOUS, current, from_version="1.4.0")
    assert [c.finding.id for c in result.carried] == ["c1"]
    assert [(r.finding.id, r.previous.id) for r in result.needs_review] == [("c3", "p3")]
    assert "1.24.1 -> 1.25.0" in result.needs_review[0].reason
    assert result.summary == "1 carried from 1.4.0, 1 needs review"


def test_removed_component_and_new_findings_are_untouched() -> None:
    current = [
        finding("c5", "PYSEC-5", "requests", "2.19.0"),  # previous was still open
        finding("c9", "PYSEC-9", "flask", "2.0"),  # new vulnerability
    ]
    result = compute_carry(PREVIOUS, current, from_version="1.4.0")
    assert result.carried == ()
    assert result.needs_review == ()
    assert {f.id for f in result.untouched} == {"c5", "c9"}  # pyyaml's triage went with it


def test_new_version_triage_is_never_overwritten() -> None:
    current = [finding("c1", "PYSEC-1", "requests", "2.19.0", "fixed")]
    result = compute_carry(PREVIOUS, current, from_version="1.4.0")
    assert result.carried == ()
    assert [f.id for f in result.untouched] == ["c1"]


def test_previous_not_affected_without_justification_needs_review() -> None:
    previous = [finding("p1", "PYSEC-1", "requests", "2.19.0", "not_affected")]
    current = [finding("c1", "PYSEC-1", "requests", "2.19.0")]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert result.carried == ()
    assert "justification" in result.needs_review[0].reason


def test_conflicting_previous_triage_needs_review() -> None:
    previous = [
        finding("p1", "PYSEC-1", "requests", "2.19.0", "wont_fix"),
        finding("p2", "CVE-1", "requests", "2.19.0", "fixed", aliases=("PYSEC-1",)),
    ]
    current = [finding("c1", "PYSEC-1", "requests", "2.19.0")]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert result.carried == ()
    assert "conflicting" in result.needs_review[0].reason


def test_purl_spelling_differences_still_match() -> None:
    previous = [Finding("p1", "PYSEC-1", "PyYAML", "5.1", "pkg:pypi/PyYAML@5.1", status="wont_fix")]
    current = [Finding("c1", "PYSEC-1", "pyyaml", "5.1", "pkg:pypi/pyyaml@5.1?extra=x")]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert [c.status for c in result.carried] == ["wont_fix"]


def test_carry_evidence_names_origin_and_reasons() -> None:
    import json

    from craflow.vex.carry import carry_evidence

    current = [
        finding("c1", "PYSEC-1", "requests", "2.19.0"),
        finding("c3", "PYSEC-3", "urllib3", "1.25.0"),
    ]
    evidence = json.loads(carry_evidence(compute_carry(PREVIOUS, current, from_version="1.4.0")))
    assert evidence["summary"] == "1 carried from 1.4.0, 1 needs review"
    assert evidence["carried"][0]["status"] == "not_affected"
    assert evidence["needs_review"][0]["previous"]["id"] == "p3"


def test_fixed_is_never_carried_to_an_unchanged_component() -> None:
    previous = [finding("p1", "PYSEC-1", "requests", "2.19.0", "fixed")]
    current = [finding("c1", "PYSEC-1", "requests", "2.19.0")]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert result.carried == ()
    assert [r.finding.id for r in result.needs_review] == ["c1"]
    assert "fixed in 1.4.0" in result.needs_review[0].reason


def test_every_triage_decision_carries() -> None:
    decisions = {
        "not_affected": "component_not_present",
        "false_positive": None,
        "accepted_risk": None,
        "wont_fix": None,
        "in_progress": None,
    }
    previous = [
        finding(f"p{i}", f"PYSEC-{i}", "lib", "1.0", status, justification)
        for i, (status, justification) in enumerate(decisions.items())
    ]
    current = [finding(f"c{i}", f"PYSEC-{i}", "lib", "1.0") for i in range(len(decisions))]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert {c.finding.id: c.status for c in result.carried} == {
        f"c{i}": status for i, status in enumerate(decisions)
    }
    assert result.summary == "5 carried from 1.4.0, 0 need review"


def test_in_progress_on_both_changes_nothing() -> None:
    previous = [finding("p1", "PYSEC-1", "lib", "1.0", "in_progress")]
    current = [finding("c1", "PYSEC-1", "lib", "1.0", "in_progress")]
    result = compute_carry(previous, current, from_version="1.4.0")
    assert result.carried == () and result.needs_review == ()
