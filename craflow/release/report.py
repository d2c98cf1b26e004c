"""Rows and markdown for the release run's artifacts, built from plain values (no Prefect)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from craflow.api import Comparison, Vulnerability
from craflow.release.comparison import comparison_rows
from craflow.release.gate import Finding, GateVerdict
from craflow.release.links import advisory_md, code
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


def _table(header: tuple[str, ...], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table with a real header row (no empty header cells)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def finding_markdown(findings: Iterable[Finding], limit: int) -> str:
    """The deciding findings as a markdown table: advisories linked, components as code."""
    rows = [
        (
            advisory_md(f.vuln_id),
            f.severity,
            "yes" if f.kev else "no",
            f.status,
            code(f.component),
            ", ".join(advisory_md(a) for a in f.aliases) or "—",
        )
        for f in list(findings)[:limit]
    ]
    header = ("Vulnerability", "Severity", "KEV", "Status", "Component", "Aliases")
    return _table(header, rows)


@dataclass(frozen=True)
class EvidenceLink:
    """One archived object as the evidence table shows it."""

    name: str
    uri: str
    size: int
    sha256: str
    https: str | None = None  #: console or presigned HTTPS link; None shows the URI as text


def evidence_markdown(title: str, run_uri: str, objects: Sequence[EvidenceLink]) -> str:
    """One table of a release's archived evidence: HTTPS links, the `s3://` URI as text."""
    rows = [
        (
            f"[{o.name}]({o.https})" if o.https else code(o.name),
            f"{o.size:,} bytes",
            code(o.sha256[:16]),
            code(o.uri),
        )
        for o in objects
    ]
    return (
        f"# {title}\n\nArchive run folder: {code(run_uri)} ({len(objects)} objects)\n\n"
        + _table(("Object", "Size", "SHA-256 (prefix)", "Location"), rows)
        + "\n"
    )


def summary_markdown(
    outcome: ReleaseOutcome,
    *,
    gate: GateVerdict | None = None,
    comparison: Comparison | None = None,
    quality_score: float | None = None,
    max_findings: int = 20,
) -> str:
    """The run's markdown summary: verdict, reasons, what was done, where the evidence is."""
    facts: list[tuple[str, str]] = [
        ("Verdict", f"{outcome.verdict} (exit {outcome.exit_code})"),
        ("SBOM SHA-256", code(outcome.sbom_sha256 or "")),
        ("Uploaded now", "yes" if outcome.uploaded else "no (already on the version)"),
        ("Scan state", outcome.scan_state or "—"),
        ("Previous release", outcome.previous_version or "—"),
        ("Promoted to", outcome.promoted_to or "—"),
        ("Previous deprecated", "yes" if outcome.deprecated_previous else "no"),
        ("Evidence archive", code(outcome.archive_uri or "")),
    ]
    if outcome.triage_carried:
        facts.append(("triage carried", outcome.triage_carried))
    if quality_score is not None:
        facts.append(("SBOM quality score", f"{quality_score:.0f} / 100"))
    if gate is not None:
        facts.append(("Vulnerabilities counted", str(gate.counted)))
    if comparison is not None:
        s, d = comparison.summary, comparison.vulnerability_diff
        facts.append(
            (
                "Component diff",
                f"{s.added} added, {s.removed} removed, {s.modified} modified, "
                f"{s.unchanged} unchanged",
            )
        )
        facts.append(("Vulnerability diff", f"{d.new} new, {d.fixed} fixed"))
    if outcome.ci:
        facts.append(("CI", ", ".join(f"{k}={v}" for k, v in sorted(outcome.ci.items()))))
    reasons = "\n".join(f"- {r}" for r in outcome.reasons) or "- (none)"
    text = (
        f"# Release {outcome.product} {outcome.version}: {outcome.verdict}\n\n"
        f"## Reasons\n\n{reasons}\n\n## Run\n\n{_table(('Fact', 'Value'), facts)}\n"
    )
    if gate is not None and gate.deciding:
        text += f"\n## Deciding findings\n\n{finding_markdown(gate.deciding, max_findings)}\n"
    return text
