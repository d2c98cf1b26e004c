"""The release steps after the gate's verdict, in the order `RELEASE_STEPS` runs them.

    archive a blocked verdict → check promotion → promote ∥ deprecate predecessor
    → archive the evidence

What goes into the archive, and the evidence published after it, is
`flows.release_archive`.
"""

from collections.abc import Iterable

from craflow.api import ReleaseBlockedError, VulnBlocker
from craflow.boundary import one_line
from craflow.evidence import EvidenceError
from craflow.exitcodes import ExitCode
from craflow.release import story
from craflow.release.outcome import ReleaseOutcome
from craflow.release.run import ReleaseRun
from craflow.release.states import promotion_blocker
from flows.release_archive import export_evidence
from flows.release_context import ReleaseContext, tell
from tasks import events
from tasks.promote import deprecate_version, promote_version
from tasks.retry import with_retries


def archive_blocked(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """A blocked release archives its SBOM and verdict, and ends."""
    verdict = run.gate
    assert verdict is not None
    if verdict.passed:
        return None
    reasons = list(verdict.reasons)
    try:
        export_evidence(run, ctx, "failed")  # the archive's key word for a blocked verdict (stable)
    except EvidenceError as exc:  # the verdict stands; say that its record is missing
        reasons.append(f"verdict not archived: {one_line(exc)}")
    tell(story.not_promoted("the gate blocked the release"))
    return run.outcome("blocked", verdict.exit_code, reasons)


def _blocker_lines(blockers: Iterable[VulnBlocker]) -> list[str]:
    """The server's release blockers, one `vuln: reason` line each."""
    return [f"{b.vuln_id}: {b.reason}" for b in blockers]


def _refused(run: ReleaseRun, reason: str) -> ReleaseOutcome:
    """End the run blocked: the server refuses (or would refuse) the promotion."""
    tell(story.not_promoted(f"the server refused: {reason}"))
    return run.outcome(
        "blocked", int(ExitCode.RELEASE_POLICY_NOT_MET), [f"server refused the release: {reason}"]
    )


def check_promotion(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """Refuse before the first step what the server would refuse at the last one."""
    status = run.status
    if run.promote is None:
        tell(story.not_promoted("--promote none"))
    if run.promote is None or status is None:
        return None
    blocker = promotion_blocker(
        status.release_state or "draft",
        run.promote,
        release_policy_ready=status.release_policy_status == "ready",
        blockers=_blocker_lines(status.vuln_blockers),
    )
    return None if blocker is None else _refused(run, blocker)


def promote_and_archive(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """Promote (∥ deprecate the predecessor), then archive the full evidence."""
    s, version, prior = ctx.settings, run.version, run.previous
    assert version is not None and run.product_id is not None
    if run.promote is not None:
        try:
            promotion = with_retries(promote_version, s)(
                run.product_id, version.id, run.version_number, run.promote
            )
        except ReleaseBlockedError as exc:
            blockers = _blocker_lines(exc.blockers) or [one_line(exc)]
            return _refused(run, "; ".join(blockers))
        run.promoted_to = promotion.to_state
        tell(story.promotion(promotion.from_state, promotion.to_state, promotion.steps))
        if promotion.steps:
            events.emit(
                events.VERSION_CHANGED,
                run.product,
                {"from": promotion.from_state, "to": promotion.to_state},
                version=run.version_number,
            )
    deprecation = None
    if run.request.deprecate_previous and prior is not None and run.promote is not None:
        deprecation = with_retries(deprecate_version, s).submit(
            run.product_id, prior.id, prior.version_number, version.id
        )
    export_evidence(run, ctx, "passed")
    if deprecation is not None and prior is not None:
        deprecation.result()
        run.deprecated_previous = True
        tell(story.deprecated(prior.version_number, run.version_number))
        events.emit(
            events.VERSION_DEPRECATED,
            run.product,
            {"superseded_by": run.version_number},
            version=prior.version_number,
        )
    assert run.gate is not None
    return run.outcome("passed", int(ExitCode.OK), list(run.gate.reasons))
