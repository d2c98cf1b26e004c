"""The demo's closing report: what happened and where everything is, in a few lines."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from config.deploy import DemoSettings
from craflow.api import Comparison
from craflow.evidence.verify import VerificationResult
from craflow.release.outcome import ReleaseOutcome
from craflow.sweep import SweepOutcome


@dataclass(frozen=True)
class Places:
    """Where the demo's parts ran and what it left on disk."""

    workdir: Path
    sandbox_url: str
    s3_url: str
    archive_copy: Path
    archive_objects: int
    prefect: str


def _failure(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"ERROR: {text}"


def release_line(version: str, outcome: ReleaseOutcome | BaseException | None) -> str:
    if outcome is None:
        return f"release {version}: not run"
    if isinstance(outcome, BaseException):
        return f"release {version}: {_failure(outcome)}"
    if outcome.verdict == "passed":
        promoted = f"promoted to {outcome.promoted_to}" if outcome.promoted_to else "not promoted"
        archived = f", archived at {outcome.archive_uri}" if outcome.archive_uri else ""
        return f"release {version}: PASSED, {promoted}{archived}"
    reasons = "; ".join(outcome.reasons[:3]) or outcome.error or "no reason given"
    label = "BLOCKED" if outcome.verdict == "failed" else outcome.verdict.upper()
    return f"release {version}: {label} (exit {outcome.exit_code}): {reasons}"


def verification_line(result: VerificationResult | BaseException | None) -> str:
    if result is None:
        return "archive: nothing to verify"
    if isinstance(result, BaseException):
        return f"archive: {_failure(result)}"
    if result.ok:
        return f"archive: verified, {result.checked} objects match the manifest checksums"
    return f"archive: {len(result.mismatches)} of {result.checked} objects do NOT match"


def sweep_line(result: SweepOutcome | BaseException | None) -> str:
    if result is None:
        return "sweep: not run"
    if isinstance(result, BaseException):
        return f"sweep: {_failure(result)}"
    return f"sweep: {result.message}"


def comparison_line(settings: DemoSettings, result: Comparison | BaseException | None) -> str:
    if result is None:
        return "compare: not run"
    if isinstance(result, BaseException):
        return f"compare: {_failure(result)}"
    s, v = result.summary, result.vulnerability_diff
    return (
        f"compare {settings.first_version} -> {settings.second_version}: "
        f"{s.added} added, {s.removed} removed, {s.modified} changed components; "
        f"{v.fixed} vulnerabilities fixed, {v.new} new"
    )


def report_lines(
    *,
    settings: DemoSettings,
    places: Places,
    sboms: dict[str, Path],
    releases: dict[str, ReleaseOutcome | BaseException],
    sweep: SweepOutcome | BaseException | None,
    comparison: Comparison | BaseException | None,
    verification: VerificationResult | BaseException | None,
    succeeded: bool,
) -> Sequence[str]:
    """The report, one line per fact."""
    lines = [
        f"craflow demo: {'OK' if succeeded else 'FAILED'} (product {settings.product})",
        *(
            release_line(v, releases.get(v))
            for v in (settings.first_version, settings.second_version)
        ),
        verification_line(verification),
        sweep_line(sweep),
        comparison_line(settings, comparison),
        "",
        "where everything is:",
        f"  work folder   {places.workdir}",
        *(f"  SBOM {v:<8} {path}" for v, path in sboms.items()),
        f"  sandbox       {places.sandbox_url} (stopped; data in {places.workdir / 'sandbox'})",
        f"  S3 endpoint   {places.s3_url} (stopped); archive copied to {places.archive_copy} "
        f"({places.archive_objects} objects)",
        f"  Prefect       {places.prefect}",
    ]
    return lines
