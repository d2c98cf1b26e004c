"""The demo's Prefect part: two SBOMs, release, triage, release, KEV, sweep, case, compare.

Import this module only after `craflow.demo.environment.apply_environment`: the flows
read their settings from the environment.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from config.deploy import DemoSettings
from craflow.api import Comparison
from craflow.demo.incident import (
    CaseDrafts,
    add_kev_entry,
    open_case_and_drafts,
    triage_first_version,
)
from craflow.demo.sample import FIXED_REQUIREMENTS, VULNERABLE_REQUIREMENTS, write_sample
from craflow.evidence.verify import VerificationResult, verify_run
from craflow.release.outcome import ReleaseOutcome
from craflow.release.request import ReleaseRequest
from craflow.sbom import generate_sbom, write_sbom
from craflow.sweep import SweepOutcome
from flows.compare import compare_flow
from flows.release import run_release, run_request
from flows.sweep import sweep_flow

T = TypeVar("T")


@dataclass
class DemoResults:
    """Everything the demo produced, for the report and the exit code."""

    sboms: dict[str, Path] = field(default_factory=dict)
    releases: dict[str, ReleaseOutcome | BaseException] = field(default_factory=dict)
    sweep: SweepOutcome | BaseException | None = None
    comparison: Comparison | BaseException | None = None
    verification: VerificationResult | BaseException | None = None
    triaged: int | BaseException | None = None
    kev_entry: str | BaseException | None = None
    case: CaseDrafts | BaseException | None = None


def generate_sample_sboms(settings: DemoSettings, workdir: Path) -> dict[str, Path]:
    """Write the two versions' requirements and a CycloneDX SBOM for each."""
    sboms: dict[str, Path] = {}
    for version, requirements in (
        (settings.first_version, VULNERABLE_REQUIREMENTS),
        (settings.second_version, FIXED_REQUIREMENTS),
    ):
        source = write_sample(workdir / "sample", version, requirements)
        bom = generate_sbom(
            "requirements",
            str(source),
            product=settings.product,
            version=version,
            reproducible=True,
        )
        sboms[version] = write_sbom(
            bom, workdir / "sboms" / f"{settings.product}-{version}.cdx.json"
        )
    return sboms


def _outcome(outcome: ReleaseOutcome | BaseException) -> ReleaseOutcome | None:
    return outcome if isinstance(outcome, ReleaseOutcome) else None


def run_pipeline(settings: DemoSettings, workdir: Path) -> DemoResults:
    """Run the demo's flows in order; a failing step is recorded, never raised."""
    results = DemoResults(sboms=generate_sample_sboms(settings, workdir))
    first, second = settings.first_version, settings.second_version
    results.releases[first] = run_release(
        product=settings.product,
        version=first,
        sbom=str(results.sboms[first]),
        fail_on="high",
        ci={"system": "craflow-demo"},
    )
    results.triaged = _attempt(lambda: triage_first_version(settings))
    # named as the previous version: 1.0.0 was never released, yet its triage carries
    results.releases[second] = _attempt(
        lambda: run_request(
            ReleaseRequest.build(
                product=settings.product,
                version=second,
                sbom=str(results.sboms[second]),
                previous=first,
                fail_on="high",
                ci={"system": "craflow-demo"},
            )
        )
    )
    results.kev_entry = _attempt(add_kev_entry)
    try:
        sweep = sweep_flow(products=[settings.product])
        results.sweep = sweep if isinstance(sweep, SweepOutcome) else None
    except Exception as exc:  # the report says what failed; the demo goes on
        results.sweep = exc
    results.case = _attempt(lambda: open_case_and_drafts(settings, workdir))
    try:
        results.comparison = compare_flow(
            settings.product, settings.first_version, settings.second_version
        )
    except Exception as exc:
        results.comparison = exc
    passed = _outcome(results.releases[settings.second_version])
    if passed is not None and passed.archive_uri:
        try:
            results.verification = verify_run(passed.archive_uri)
        except Exception as exc:
            results.verification = exc
    return results


def _attempt(step: Callable[[], T]) -> T | BaseException:
    """Run one demo step; a failure is recorded for the report, never raised."""
    try:
        return step()
    except Exception as exc:
        return exc


def demo_succeeded(settings: DemoSettings, results: DemoResults) -> bool:
    """The story held: the first version blocked, the second carried the triage and was
    released and archived intact, the KEV hit on it opened a case with drafts."""
    first = _outcome(results.releases.get(settings.first_version, RuntimeError()))
    second = _outcome(results.releases.get(settings.second_version, RuntimeError()))
    return (
        first is not None
        and first.verdict == "blocked"
        and second is not None
        and second.verdict == "passed"
        and second.promoted_to == "released"
        and isinstance(results.verification, VerificationResult)
        and results.verification.ok
        and isinstance(results.sweep, SweepOutcome)
        and isinstance(results.comparison, Comparison)
        and bool(second.triage_carried and second.triage_carried.startswith("1 carried"))
        and isinstance(results.case, CaseDrafts)
    )


class DemoIsolationError(RuntimeError):
    """Prefect would talk to something other than the demo's own API and home."""


def check_prefect_isolation(home: Path, api_url: str | None) -> None:
    """Refuse to run when Prefect's effective settings are not the demo's own."""
    from prefect.settings import get_current_settings

    current = get_current_settings()
    if Path(current.home).resolve() != home.resolve() or (current.api.url or None) != api_url:
        raise DemoIsolationError(
            "Prefect was configured before the demo set its environment; run `craflow demo` "
            "as its own command"
        )
