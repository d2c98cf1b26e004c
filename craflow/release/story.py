"""The lines that tell a release run's story in its logs (pure: the flow logs them at INFO).

SBOM read → uploaded or reused → scan waited → gate verdict → promotion path or why
not → archive written → archive verified → the ending. One function per chapter,
each returning one line, so the flow stays short and the wording is tested here.
"""

from collections.abc import Sequence

from craflow.release.gate import Finding, GateVerdict

SHA_PREFIX = 12


def sbom_read(fmt: str, spec_version: str | None, components: int, generated: bool) -> str:
    """`SBOM read: cyclonedx 1.6, 42 components (generated)`."""
    spec = f" {spec_version}" if spec_version else ""
    origin = "generated" if generated else "given"
    noun = "component" if components == 1 else "components"
    return f"SBOM read: {fmt}{spec}, {components} {noun} ({origin})"


def sbom_upload(uploaded: bool, sha256: str, sbom_id: str) -> str:
    """`SBOM uploaded: sha256 1a2b3c4d5e6f…, id …` or `SBOM reused: …`."""
    verb = "uploaded" if uploaded else "reused (already on the version)"
    return f"SBOM {verb}: sha256 {sha256[:SHA_PREFIX]}…, id {sbom_id}"


def scan_waited(seconds: float, polls: int, state: str, done: bool) -> str:
    """`Scan waited 12 s (5 polls): completed` (or still running at the deadline)."""
    ending = state if done else f"still {state} at the deadline"
    noun = "poll" if polls == 1 else "polls"
    return f"Scan waited {seconds:.0f} s ({polls} {noun}): {ending}"


def gate_verdict(verdict: GateVerdict) -> str:
    """`Gate passed|blocked (policy …): reason; reason`."""
    word = "passed" if verdict.passed else "blocked"
    reasons = "; ".join(verdict.reasons) or "no reasons"
    return f"Gate {word} (policy {verdict.policy or 'default'}): {reasons}"


def deciding(findings: Sequence[Finding], limit: int = 50) -> str:
    """`Deciding findings (2): PYSEC-2023-192 high urllib3@1.23 [KEV]; …` (at most *limit*)."""
    shown = [
        f"{f.vuln_id} {f.severity}{' ' + f.component if f.component else ''}"
        f"{' [KEV]' if f.kev else ''}"
        for f in findings[:limit]
    ]
    more = f"; and {len(findings) - limit} more" if len(findings) > limit else ""
    return f"Deciding findings ({len(findings)}): " + "; ".join(shown) + more


def promotion(from_state: str, to_state: str, steps: Sequence[str]) -> str:
    """`Promoted: draft → approved → released` or `Promotion: already released`."""
    if not steps:
        return f"Promotion: already {to_state}, nothing to do"
    return "Promoted: " + " → ".join([from_state, *steps])


def not_promoted(reason: str) -> str:
    """`Not promoted: …`."""
    return f"Not promoted: {reason}"


def deprecated(previous: str, version: str) -> str:
    return f"Deprecated {previous} (superseded by {version})"


def archive_written(uri: str, objects: int, written: bool) -> str:
    """`Evidence archive written: s3://… (13 objects)`, or `… reused: …` on a rerun."""
    verb = "written" if written else "reused (this evidence was archived before)"
    noun = "object" if objects == 1 else "objects"
    return f"Evidence archive {verb}: {uri} ({objects} {noun})"


def archive_verified(uri: str, checked: int, problems: Sequence[str]) -> str:
    """`Evidence archive verified: 13 objects match the manifest at …` or what does not."""
    if not problems:
        return f"Evidence archive verified: {checked} objects match the manifest at {uri}"
    return f"Evidence archive NOT verified at {uri}: " + "; ".join(problems)


def ending(label: str, state_name: str, message: str) -> str:
    """`Verdict BLOCKED (state Blocked): …`."""
    return f"Verdict {label} (state {state_name}): {message}"
