"""The release flow: from an SBOM to a gated, promoted, archived product version.

The flow takes one `ReleaseRequest` (built by the CLI, rendered from the
`craflow.release.requested` event, or given to a deployment run), resolves its
defaults from `ReleaseSettings` when the run starts, and runs `RELEASE_STEPS`
in order over one `ReleaseRun`:

    check archive → SBOM, product, version ∥ previous → upload once, scan, wait
    → carry triage → gate (vulnerabilities ∥ comparison) → open KEV cases
    → archive a blocked verdict → check promotion → promote ∥ deprecate predecessor
    → archive the evidence

A step returns None to go on or a `ReleaseOutcome` to end the run there; a new step
is one more function in `RELEASE_STEPS`. The steps up to the gate's verdict are in
`flows.release_steps`, those after it in `flows.release_promote`, and the archive
they write in `flows.release_archive`.

The run ends Completed (passed), Failed named "Blocked" (the gate or the server's
release policy refused), Completed named "Pending" (the scan did not finish by the
deadline: nothing promoted, exit 75) or Failed (an error); the verdict is the state
message and the words come from `craflow.release.outcome.VERDICTS`. Each chapter of
the run's story is logged at INFO (`craflow.release.story`). Every ending carries
its `ReleaseOutcome` as the state's data.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

from prefect import State, flow, tags
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from config.vex import VexSettings
from craflow.api import CraEvidenceError
from craflow.boundary import exit_code_for, one_line
from craflow.evidence import EvidenceError
from craflow.release import story
from craflow.release.ci import detect_ci
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.release.gate import GatePolicy
from craflow.release.outcome import ReleaseOutcome, words
from craflow.release.report import summary_markdown
from craflow.release.request import ReleaseRequest
from craflow.release.run import ReleaseRun
from craflow.sbom.errors import SbomError
from flows.release_context import ReleaseContext, Step, tell
from flows.release_promote import archive_blocked, check_promotion, promote_and_archive
from flows.release_steps import carry, check_archive, gate, kev_cases, obtain, scan
from tasks import events
from tasks.artifacts import publish_markdown
from tasks.client import resolve_api_settings, run_client
from tasks.export import resolve_target
from tasks.runmeta import tag_this_run

#: errors that end a run with a clear one-line reason and an exit code (anything else crashes)
EXPECTED_ERRORS = (
    CraEvidenceError,
    SbomError,
    EvidenceError,
    ReleaseInputError,
    GateConfigError,
    TransitionError,
    FileNotFoundError,
)

#: the release, step by step; each may end the run with an outcome
RELEASE_STEPS: tuple[Step, ...] = (
    check_archive,
    obtain,
    scan,
    carry,
    gate,
    kev_cases,
    archive_blocked,
    check_promotion,
    promote_and_archive,
)


def _finish(run: ReleaseRun, outcome: ReleaseOutcome) -> State[ReleaseOutcome]:
    """Publish the summary and the event, then end the run in the state the verdict calls for
    (one vocabulary: `craflow.release.outcome.VERDICTS`)."""
    said = words(outcome.verdict)
    publish_markdown(
        run.key("summary"),
        summary_markdown(
            outcome, gate=run.gate, comparison=run.comparison, quality_score=run.quality_score
        ),
        f"Release {run.product} {run.version_number}: {outcome.verdict}",
    )
    payload = {
        "verdict": outcome.verdict,
        "state": said.state_name,
        "exit_code": outcome.exit_code,
        "reasons": outcome.reasons,
    }
    events.emit(said.event, run.product, payload, version=run.version_number)
    tell(story.ending(said.label, said.state_name, outcome.message))
    if said.state_type == "FAILED":
        return Failed(name=said.state_name, message=outcome.message, data=outcome)
    return Completed(name=said.state_name, message=outcome.message, data=outcome)


def start_run(request: ReleaseRequest, settings: ReleaseSettings) -> ReleaseRun:
    """Resolve the request's defaults from the settings read as this run starts."""
    promote = request.promote or settings.promote
    return ReleaseRun(
        request=request,
        policy=request.policy(settings.fail_on, settings.unknown_as),
        promote=None if promote == "none" else promote,
        archive=resolve_target(request.export, EvidenceSettings(), settings.export),
        ci=dict(request.ci) if request.ci is not None else detect_ci(os.environ),
        run_id=str(flow_run.id or "local"),
        carry_triage=(
            request.carry_triage if request.carry_triage is not None else VexSettings().carry_triage
        ),
    )


def _run_steps(run: ReleaseRun, settings: ReleaseSettings) -> ReleaseOutcome:
    api_settings = resolve_api_settings(settings.secret_block_name)
    with (
        tags(f"product:{run.product}", f"version:{run.version_number}"),
        tempfile.TemporaryDirectory(prefix="craflow-release-") as work,
        run_client(api_settings),
    ):
        ctx = ReleaseContext(settings, Path(work))
        for step in RELEASE_STEPS:
            ended = step(run, ctx)
            if ended is not None:
                return ended
    raise AssertionError("the last release step always ends the run")  # pragma: no cover


@flow(
    name="release",
    flow_run_name="release-{request.product}-{request.version}",
    task_runner=ThreadPoolTaskRunner[Any](max_workers=4),  # type: ignore[arg-type]
    log_prints=False,
)
def release_flow(request: ReleaseRequest) -> State[ReleaseOutcome]:
    """Release the requested product version: SBOM → upload → scan → gate → promote → archive.

    No parameter is a secret: the API key comes from `CRA_EVIDENCE_API_KEY` or the
    Prefect Secret block named in `ReleaseSettings.secret_block_name`.
    """
    settings = ReleaseSettings()
    tag_this_run([f"product:{request.product}", f"version:{request.version}", "craflow-release"])
    run = ReleaseRun(request, GatePolicy(), None, None, dict(request.ci or {}))
    try:
        run = start_run(request, settings)
        outcome = _run_steps(run, settings)
    except EXPECTED_ERRORS as exc:
        outcome = run.outcome(
            "failed", int(exit_code_for(exc)), [one_line(exc)], error=one_line(exc)
        )
    return _finish(run, outcome)


def outcome_of(state: State[Any]) -> ReleaseOutcome | BaseException:
    """The `ReleaseOutcome` a finished release run carries, or the error that crashed it."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, ReleaseOutcome | BaseException):
        return result
    return RuntimeError(f"release run ended {state.name} without an outcome")


def run_request(
    request: ReleaseRequest, settings: ReleaseSettings | None = None
) -> ReleaseOutcome | BaseException:
    """Run `release_flow` for *request* in this process and return its outcome (or error).

    The flow's task runner gets `ReleaseSettings.max_workers` as read now.
    """
    workers = (settings or ReleaseSettings()).max_workers
    runner = ThreadPoolTaskRunner[Any](max_workers=workers)
    configured = release_flow.with_options(task_runner=runner)  # type: ignore[arg-type]
    return outcome_of(configured(request, return_state=True))


def run_release(
    product: str,
    version: str,
    *,
    sbom: str | None = None,
    sbom_source: str | None = None,
    fail_on: str | None = None,
    promote: str | None = None,
    export: str | None = None,
    ci: dict[str, str] | None = None,
) -> ReleaseOutcome | BaseException:
    """Build a `ReleaseRequest` from these fields (the same factory as the CLI) and run it."""
    request = ReleaseRequest.build(
        product=product,
        version=version,
        sbom=sbom,
        sbom_source=sbom_source,
        fail_on=fail_on,
        promote=promote,
        export=export,
        ci=ci,
    )
    return run_request(request)
