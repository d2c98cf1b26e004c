"""Rows and markdown for the release run's artifacts, built from plain values (no Prefect)."""

from collections.abc import Iterable, Sequence

from craflow.api import Comparison, Vulnerability
from craflow.release.comparison import comparison_rows
from craflow.release.gate import Finding, GateVerdict
from craflow.release.outcome import ReleaseOutcome


def finding_from(vuln: Vulnerability) -> Finding:
    """The gate's view of an API vulnerability."""
    component = vuln.component
    return Finding(
        vuln_id=vuln.vuln_id or vuln.id,
        severity=(vuln.severity or "unknown").lower(),
        status=(vuln.status or "open").lower(),
        kev=vuln.kev,
        component=(f"{component.name}@{component.version}" if component and component.name else ""),
        purl=(component.purl or "") if component else "",
        aliases=tuple(vuln.aliases),
    )


def finding_rows(findings: Iterable[Finding], limit: int) -> list[dict[str, object]]:
    """Table rows of the findings that decided the gate."""
    return [
        {
            "vulnerability": f.vuln_id,
            "severity": f.severity,
            "kev": "yes" if f.kev else "no",
            "status": f.status,
            "component": f.component,
            "aliases": ", ".join(f.aliases),
        }
        for f in list(findings)[:limit]
    ]


def diff_rows(comparison: Comparison, limit: int) -> list[dict[str, object]]:
    """Table rows of the version diff (the compare flow's rows), at most *limit*."""
    return [dict(row) for row in comparison_rows(comparison)[:limit]]


def _table(rows: Sequence[tuple[str, str]]) -> str:
    lines = ["| | |", "|---|---|"]
    lines.extend(f"| {k} | {v.replace('|', '/')} |" for k, v in rows)
    return "\n".join(lines)


def summary_markdown(
    outcome: ReleaseOutcome,
    *,
    gate: GateVerdict | None = None,
    comparison: Comparison | None = None,
    quality_score: float | None = None,
) -> str:
    """The run's markdown summary: verdict, reasons, what was done, where the evidence is."""
    icon = {"passed": "✅", "failed": "⛔", "pending": "⏳"}[outcome.verdict]
    facts: list[tuple[str, str]] = [
        ("verdict", f"{outcome.verdict} (exit {outcome.exit_code})"),
        ("SBOM SHA-256", f"`{outcome.sbom_sha256}`" if outcome.sbom_sha256 else "—"),
        ("uploaded now", "yes" if outcome.uploaded else "no (already on the version)"),
        ("scan state", outcome.scan_state or "—"),
        ("previous release", outcome.previous_version or "—"),
        ("promoted to", outcome.promoted_to or "—"),
        ("previous deprecated", "yes" if outcome.deprecated_previous else "no"),
        ("evidence archive", outcome.archive_uri or "—"),
    ]
    if outcome.triage_carried:
        facts.append(("triage carried", outcome.triage_carried))
    if quality_score is not None:
        facts.append(("SBOM quality score", f"{quality_score:.0f} / 100"))
    if gate is not None:
        facts.append(("vulnerabilities counted", str(gate.counted)))
    if comparison is not None:
        s, d = comparison.summary, comparison.vulnerability_diff
        facts.append(
            (
                "component diff",
                f"{s.added} added, {s.removed} removed, {s.modified} modified, "
                f"{s.unchanged} unchanged",
            )
        )
        facts.append(("vulnerability diff", f"{d.new} new, {d.fixed} fixed"))
    if outcome.ci:
        facts.append(("CI", ", ".join(f"{k}={v}" for k, v in sorted(outcome.ci.items()))))
    reasons = "\n".join(f"- {r}" for r in outcome.reasons) or "- (none)"
    return (
        f"# {icon} Release {outcome.product} {outcome.version}: {outcome.verdict}\n\n"
        f"## Reasons\n\n{reasons}\n\n## Run\n\n{_table(facts)}\n"
    )
