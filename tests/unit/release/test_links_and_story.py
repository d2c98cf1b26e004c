"""Advisory links, code spans, evidence links; the run's story lines; the one vocabulary."""

import pytest

from craflow.release import story
from craflow.release.gate import Finding, GateVerdict
from craflow.release.links import advisory_md, advisory_url, code, console_url
from craflow.release.outcome import VERDICTS, ReleaseOutcome
from craflow.release.report import EvidenceLink, evidence_markdown, summary_markdown


@pytest.mark.parametrize(
    ("advisory", "url"),
    [
        ("CVE-2023-43804", "https://nvd.nist.gov/vuln/detail/CVE-2023-43804"),
        ("cve-2024-3651", "https://nvd.nist.gov/vuln/detail/CVE-2024-3651"),
        ("GHSA-v845-jxx5-vc9f", "https://github.com/advisories/GHSA-v845-jxx5-vc9f"),
        ("PYSEC-2023-192", "https://osv.dev/vulnerability/PYSEC-2023-192"),
        ("GO-2024-2687", "https://osv.dev/vulnerability/GO-2024-2687"),
        ("RUSTSEC-2021-0001", "https://osv.dev/vulnerability/RUSTSEC-2021-0001"),
        ("not an id", None),
        ("urllib3@1.23", None),
        ("", None),
    ],
)
def test_advisory_url(advisory: str, url: str | None) -> None:
    assert advisory_url(advisory) == url


def test_components_are_code_not_links_and_advisories_are_links() -> None:
    assert code("urllib3@1.23") == "`urllib3@1.23`"
    assert code("a`b") == "``a`b``"
    assert code("") == "—"
    assert advisory_md("PYSEC-2023-192").startswith("[PYSEC-2023-192](https://osv.dev/")
    assert advisory_md("weird id") == "`weird id`"


def test_console_url_only_for_s3() -> None:
    template = "https://console.example/{bucket}?prefix={key_quoted}"
    assert console_url("s3://b/e/p/1.0/sbom.cdx.json", template) == (
        "https://console.example/b?prefix=e%2Fp%2F1.0%2Fsbom.cdx.json"
    )
    assert console_url("file:///srv/e/x.json", template) is None


def test_evidence_table_links_https_and_shows_s3_as_text() -> None:
    objects = [
        EvidenceLink("sbom.cdx.json", "s3://b/e/sbom.cdx.json", 1234, "ab" * 32, "https://x/1"),
        EvidenceLink("gate.json", "file:///e/gate.json", 10, "cd" * 32),
    ]
    text = evidence_markdown("Evidence of shop 1.0.0", "s3://b/e/", objects)
    assert "| Object | Size | SHA-256 (prefix) | Location |" in text
    assert "[sbom.cdx.json](https://x/1)" in text
    assert "`s3://b/e/sbom.cdx.json`" in text
    assert "](s3://" not in text
    assert "(2 objects)" in text


def test_summary_has_no_emoji_no_empty_header_and_links_the_findings() -> None:
    finding = Finding(
        "PYSEC-2023-192", "high", "open", False, "urllib3@1.23", "", ("CVE-2023-43804",)
    )
    gate = GateVerdict(False, 11, ("1 open high vulnerability: PYSEC-2023-192",), (finding,), 1)
    outcome = ReleaseOutcome(product="shop", version="1.0.0", verdict="blocked", exit_code=11)
    text = summary_markdown(outcome, gate=gate)
    assert text.startswith("# Release shop 1.0.0: blocked\n")
    assert "| | |" not in text and "| Fact | Value |" in text
    assert "`urllib3@1.23`" in text
    assert "[CVE-2023-43804](https://nvd.nist.gov/vuln/detail/CVE-2023-43804)" in text


def test_one_vocabulary() -> None:
    assert {v: (w.label, w.state_name, w.state_type) for v, w in VERDICTS.items()} == {
        "passed": ("PASSED", "Completed", "COMPLETED"),
        "blocked": ("BLOCKED", "Blocked", "FAILED"),
        "pending": ("PENDING", "Pending", "COMPLETED"),
        "failed": ("FAILED", "Failed", "FAILED"),
    }
    assert VERDICTS["blocked"].event == "craflow.release.blocked"
    outcome = ReleaseOutcome(product="p", version="1", verdict="blocked", exit_code=11)
    assert outcome.label == "BLOCKED" and ": blocked (exit 11)" in outcome.message


def test_story_lines() -> None:
    assert story.sbom_read("cyclonedx", "1.6", 1, False) == (
        "SBOM read: cyclonedx 1.6, 1 component (given)"
    )
    assert story.sbom_upload(False, "a" * 64, "s1").startswith("SBOM reused")
    assert story.scan_waited(12.4, 5, "completed", True) == "Scan waited 12 s (5 polls): completed"
    assert "still running at the deadline" in story.scan_waited(60, 1, "running", False)
    gate = GateVerdict(False, 11, ("2 open high",), (), 2, "fail_on=high")
    assert story.gate_verdict(gate) == "Gate blocked (policy fail_on=high): 2 open high"
    assert story.promotion("draft", "released", ["approved", "released"]) == (
        "Promoted: draft → approved → released"
    )
    assert "already released" in story.promotion("released", "released", [])
    assert story.archive_written("s3://b/e/", 13, True) == (
        "Evidence archive written: s3://b/e/ (13 objects)"
    )
    finding = Finding("PYSEC-2023-192", "high", component="urllib3@1.23", kev=True)
    assert story.deciding([finding] * 3, limit=2) == (
        "Deciding findings (3): PYSEC-2023-192 high urllib3@1.23 [KEV]; "
        "PYSEC-2023-192 high urllib3@1.23 [KEV]; and 1 more"
    )
    assert "NOT verified" in story.archive_verified("s3://b/e/", 13, ["x: missing"])
