import pytest

from craflow.api import (
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    Comparison,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    Vulnerability,
)
from craflow.boundary import exit_code_for, one_line
from craflow.evidence import ArchiveAccessDeniedError
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.release.gate import GatePolicy, ReadinessFacts, evaluate_gate
from craflow.release.outcome import ReleaseOutcome
from craflow.release.report import diff_rows, finding_from, finding_rows, summary_markdown
from craflow.sbom import SbomFileNotFoundError, SbomFormatError


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthenticationError(401), 2),
        (PermissionDeniedError(403), 2),
        (GateConfigError("bad"), 2),
        (TransitionError("bad"), 2),
        (NotFoundError(404), 3),
        (ServerError(500), 3),
        (ApiTimeoutError("slow"), 3),
        (BadRequestError(422), 4),
        (ReleaseInputError("no such previous"), 4),
        (SbomFormatError("not an SBOM"), 4),
        (SbomFileNotFoundError("gone"), 5),
        (FileNotFoundError("gone"), 5),
        (ConfigurationError("no key"), 6),
        (ArchiveAccessDeniedError("denied"), 1),
        (RuntimeError("boom"), 1),
    ],
)
def test_exit_code_for_error(error: BaseException, code: int) -> None:
    assert exit_code_for(error) == code


def test_one_line() -> None:
    assert one_line(ValueError("two\n  lines")) == "two lines"
    assert one_line(ValueError()) == "ValueError"


def test_finding_from_an_api_vulnerability() -> None:
    vuln = Vulnerability.model_validate(
        {
            "id": "u1",
            "vuln_id": "GHSA-1",
            "aliases": ["CVE-1"],
            "severity": "HIGH",
            "kev": True,
            "status": "open",
            "component": {
                "name": "requests",
                "version": "2.19.0",
                "purl": "pkg:pypi/requests@2.19.0",
            },
        }
    )
    finding = finding_from(vuln)
    assert (finding.vuln_id, finding.severity, finding.component) == (
        "GHSA-1",
        "high",
        "requests@2.19.0",
    )
    assert finding.ids() == {"GHSA-1", "CVE-1"}
    assert finding_rows([finding], 10)[0]["kev"] == "yes"
    assert finding_rows([finding] * 5, 2) == finding_rows([finding] * 2, 10)


def test_diff_rows() -> None:
    comparison = Comparison.model_validate(
        {
            "changes": {
                "added": [{"name": "idna", "version": "3.10"}],
                "removed": [],
                "modified": [
                    {"name": "requests", "old_version": "2.19.0", "new_version": "2.32.4"}
                ],
            },
            "vulnerability_diff": {"new": 0, "fixed": 1, "fixed_ids": ["GHSA-1"]},
        }
    )
    rows = diff_rows(comparison, 10)
    # the same rows as `craflow compare` (one writer of comparison rows)
    assert [r["change"] for r in rows] == [
        "component added",
        "component changed",
        "vulnerability fixed",
    ]
    assert rows[1] == {
        "change": "component changed",
        "name": "requests",
        "before": "2.19.0",
        "after": "2.32.4",
        "purl": "",
    }
    assert len(diff_rows(comparison, 1)) == 1


def test_summary_markdown_names_verdict_reasons_and_archive() -> None:
    gate = evaluate_gate(GatePolicy("high"), [], readiness=ReadinessFacts(True, True))
    outcome = ReleaseOutcome(
        product="widget",
        version="1.2",
        verdict="passed",
        exit_code=0,
        reasons=list(gate.reasons),
        archive_uri="s3://b/e/widget/1.2/r/",
        ci={"provider": "github"},
    )
    text = summary_markdown(outcome, gate=gate, quality_score=87.0)
    assert text.startswith("# Release widget 1.2: passed")
    assert "s3://b/e/widget/1.2/r/" in text
    assert "87 / 100" in text
    assert "provider=github" in text
    assert outcome.message == "widget 1.2: passed (exit 0): " + gate.reasons[0]
