"""The demo's closing report: what happened and where everything is, in a few lines."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from config.deploy import DemoSettings
from craflow.api import Comparison
from craflow.demo.environment import ArchiveCopy
from craflow.evidence.verify import VerificationResult
from craflow.release.outcome import ReleaseOutcome
from craflow.sweep import SweepOutcome

if TYPE_CHECKING:
    from craflow.demo.incident import CaseDrafts


@dataclass(frozen=True)
class Places:
    """Where the demo's parts ran and what it left on disk."""

    workdir: Path
    sandbox_url: str
    s3_url: str
    archive_uri: str
    archive_copy: Path
    archive: ArchiveCopy
    prefect: Sequence[str]


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
    label = outcome.label
    return f"release {version}: {label} (exit {outcome.exit_code}): {reasons}"


def verification_line(result: VerificationResult | BaseException | None) -> str:
    if result is None:
        return "archive: nothing to verify"
    if isinstance(result, BaseException):
        return f"archive: {_failure(result)}"
    if result.ok:
        return (
            f"archive: {result.run_uri} verified: the {_count(result.checked, 'object')} "
            "its manifest.json lists match their sizes and SHA-256 checksums"
        )
    return (
        f"archive: {result.run_uri}: {len(result.mismatches)} of "
        f"{_count(result.checked, 'object')} do NOT match the manifest"
    )


def _count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 object`, `2 objects` (or *plural*)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def archive_copy_line(places: Places) -> str:
    """Where the archive copy is, and what its object count covers."""
    copy = places.archive
    parts = ", ".join(f"{place} {count}" for place, count in copy.places)
    return (
        f"  archive       {places.archive_uri} copied to {places.archive_copy}: "
        f"{_count(copy.objects, 'object')} ({parts}; each run folder holds its files "
        "and the manifest.json that lists them)"
    )


def triage_line(
    settings: DemoSettings,
    triaged: int | BaseException | None,
    second: ReleaseOutcome | BaseException | None,
) -> str:
    """What the person triaged on the first version and what the second carried."""
    if isinstance(triaged, BaseException):
        return f"triage: {_failure(triaged)}"
    if triaged is None:
        return "triage: not run"
    carried = second.triage_carried if isinstance(second, ReleaseOutcome) else None
    return (
        f"triage: {_count(triaged, 'finding')} of {settings.first_version} set not_affected "
        f"by hand; the {settings.second_version} run: {carried or 'nothing carried'}"
    )


def case_lines(
    kev_entry: str | BaseException | None, case: "CaseDrafts | BaseException | None"
) -> list[str]:
    """The KEV entry that appeared and the Art. 14 case it opened, with its drafts."""
    if isinstance(kev_entry, BaseException):
        return [f"KEV: {_failure(kev_entry)}"]
    if case is None:
        return ["Art. 14 case: not run"]
    if isinstance(case, BaseException):
        return [f"Art. 14 case: {_failure(case)}"]
    opened = case.case
    versions = ", ".join(opened.affected_versions) or "none"
    return [
        f"KEV: {kev_entry} listed for a component of a released version; "
        f"case {opened.case_id} opened ({opened.status.value}, affected released: {versions})",
        f"  drafts        {case.folder} ({case.files} files: early warning, notification, "
        f"final report as JSON + markdown; CSAF advisory {case.advisory.name})",
    ]


def sweep_line(result: SweepOutcome | BaseException | None) -> str:
    if result is None:
        return "sweep: not run"
    if isinstance(result, BaseException):
        return f"sweep: {_failure(result)}"
    if not result.ok:
        return f"sweep: {result.message}"
    return (
        f"sweep: {_count(result.products_total, 'product')}, "
        f"{_count(result.versions_total, 'version')} swept; {result.versions_changed} changed, "
        f"{_count(result.kev_detected, 'new KEV entry', 'new KEV entries')}"
    )


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
    triaged: int | BaseException | None = None,
    kev_entry: str | BaseException | None = None,
    case: "CaseDrafts | BaseException | None" = None,
) -> Sequence[str]:
    """The report, one line per fact."""
    lines = [
        f"craflow demo: {'OK' if succeeded else 'FAILED'} (product {settings.product})",
        *(
            release_line(v, releases.get(v))
            for v in (settings.first_version, settings.second_version)
        ),
        triage_line(settings, triaged, releases.get(settings.second_version)),
        verification_line(verification),
        sweep_line(sweep),
        *case_lines(kev_entry, case),
        comparison_line(settings, comparison),
        "",
        "where everything is:",
        f"  work folder   {places.workdir}",
        *(f"  SBOM {v:<8} {path}" for v, path in sboms.items()),
        f"  sandbox       {places.sandbox_url} (stopped; data in {places.workdir / 'sandbox'})",
        f"  S3 endpoint   {places.s3_url} (stopped)",
        archive_copy_line(places),
        *places.prefect,
    ]
    return lines
