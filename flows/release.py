"""The release flow: from an SBOM to a gated, promoted, archived product version.

The flow takes one `ReleaseRequest` (built by the CLI, rendered from the
`craflow.release.requested` event, or given to a deployment run), resolves its
defaults from `ReleaseSettings` when the run starts, and runs `RELEASE_STEPS`
in order over one `ReleaseRun`:

    check archive → SBOM, product, version ∥ previous → upload once, scan, wait
    → gate (vulnerabilities ∥ comparison) → archive a blocked verdict
    → check promotion → promote ∥ deprecate predecessor → archive the evidence

A step returns None to go on or a `ReleaseOutcome` to end the run there. A later
step (carry triage forward, archive a VEX document, open an incident case) is one
more function in `RELEASE_STEPS`.

The run ends Completed (passed), Failed named "Blocked" (the gate or the server's
release policy refused), Completed named "Pending" (the scan did not finish by the
deadline: nothing promoted, exit 75) or Failed (an error); the verdict is the state
message and the words come from `craflow.release.outcome.VERDICTS`. Each chapter of
the run's story is logged at INFO (`craflow.release.story`). Every ending carries
its `ReleaseOutcome` as the state's data.
"""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import State, flow, get_run_logger, tags
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from config.vex import VexSettings
from craflow.api import CraEvidenceError, ReleaseBlockedError
from craflow.boundary import exit_code_for, one_line
from craflow.evidence import EvidenceError, verify_run
from craflow.exitcodes import ExitCode
from craflow.release import story
from craflow.release.ci import detect_ci
from craflow.release.errors import GateConfigError, ReleaseInputError, TransitionError
from craflow.release.gate import GatePolicy, ReadinessFacts, evaluate_gate
from craflow.release.outcome import ReleaseOutcome, words
from craflow.release.polling import PollSchedule
from craflow.release.report import (
    diff_rows,
    finding_from,
    finding_rows,
    summary_markdown,
)
from craflow.release.request import ReleaseRequest
from craflow.release.run import ReleaseRun
from craflow.release.states import promotion_blocker
from craflow.release.vocabulary import is_open
from craflow.sbom.errors import SbomError
from craflow.vex.carry import CarryResult, carry_evidence
from craflow.vex.errors import VexError
from craflow.vex.model import Subject
from flows.incident import open_cases_for_kev_hits
from tasks import events
from tasks.artifacts import publish_evidence, publish_markdown, publish_table
from tasks.client import resolve_api_settings, run_client
from tasks.export import (
    COMPLIANCE_REPORT_NAME,
    TECHNICAL_FILE_NAME,
    ArchivedRun,
    ArchiveFile,
    ArchiveKey,
    ArchiveRequest,
    archive_release,
    check_writable,
    fetch_compliance_report,
    fetch_technical_file,
    find_archived_release,
    resolve_target,
)
from tasks.incident import collect_kev_hits
from tasks.products import find_previous_release, resolve_product, resolve_version
from tasks.promote import deprecate_version, promote_version
from tasks.retry import with_retries
from tasks.runmeta import tag_this_run
from tasks.sbom import SbomFile, obtain_sbom
from tasks.scan import ensure_scan, wait_for_scan
from tasks.upload import upload_sbom_once
from tasks.vex import carry_triage, upload_version_vex, write_version_vex
from tasks.vulnerabilities import compare_versions, list_vulnerabilities

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


class _Context:
    """What the steps share besides the run: settings, the work folder, the SBOM file."""

    def __init__(self, settings: ReleaseSettings, work: Path) -> None:
        self.evidence = EvidenceSettings()
        self.settings = settings
        self.work = work
        self.sbom: SbomFile | None = None
        self.vex = VexSettings()
        self.carry: CarryResult | None = None


Step = Callable[[ReleaseRun, _Context], ReleaseOutcome | None]
_CDX_JSON = "application/vnd.cyclonedx+json"


def _tell(line: str) -> None:
    """One line of the run's story, at INFO in the run's logs (the UI shows them)."""
    get_run_logger().info("%s", line)


def _check_archive(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Refuse an archive root that cannot be written before anything is created."""
    assert run.archive is not None
    check_writable(run.archive)
    return None


def _obtain(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Read or build the SBOM (before anything is created on the server), then find or
    create the product and version and find the previous release."""
    req, s = run.request, ctx.settings
    sbom = obtain_sbom(req.sbom, req.sbom_source, run.product, run.version_number, ctx.work)
    ctx.sbom, run.sbom_sha256, run.quality_score = sbom, sbom.sha256, sbom.quality_score
    _tell(story.sbom_read(sbom.format, sbom.spec_version, sbom.component_count, sbom.generated))
    product = with_retries(resolve_product, s)(run.product)
    run.product_id = product.id
    version = with_retries(resolve_version, s).submit(product.id, run.version_number)
    prior = with_retries(find_previous_release, s).submit(
        product.id, run.version_number, req.previous
    )
    run.version, run.previous = version.result(), prior.result()
    return None


def _scan(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Upload unless the same SBOM is there, scan unless one ran, wait for the verdict."""
    s, sbom, version = ctx.settings, ctx.sbom, run.version
    assert sbom is not None and version is not None
    upload = with_retries(upload_sbom_once, s)(version.id, sbom.path, sbom.sha256)
    run.sbom_id, run.uploaded = upload.sbom_id, upload.uploaded
    _tell(story.sbom_upload(upload.uploaded, sbom.sha256, upload.sbom_id))
    with_retries(ensure_scan, s)(version.id, upload.scan_started)
    schedule = PollSchedule(
        s.poll_initial_seconds,
        max(s.poll_cap_seconds, s.poll_initial_seconds),
        s.poll_multiplier,
        s.poll_jitter,
        s.poll_deadline_seconds,
    )
    waited = with_retries(wait_for_scan, s)(version.id, schedule, run.key("scan-progress"))
    run.status = waited.status
    _tell(story.scan_waited(waited.elapsed_seconds, waited.polls, waited.scan_state, waited.done))
    if not waited.done:
        return run.outcome(
            "pending",
            int(ExitCode.PENDING),
            [
                f"scan still {waited.scan_state} after {waited.elapsed_seconds:.0f} s "
                "(deadline reached); nothing promoted"
            ],
        )
    if waited.scan_state != "completed":
        reason = f"scan ended {waited.scan_state}; no verdict possible"
        return run.outcome("failed", int(ExitCode.API_ERROR), [reason])
    return None


def _carry(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Carry the previous release's triage to unchanged components, so the gate counts
    only what is still open (off with `--no-carry-triage`)."""
    prior, version = run.previous, run.version
    if prior is None or version is None:
        return None
    if not run.carry_triage:
        get_run_logger().info("triage not carried from %s (carry off)", prior.version_number)
        return None
    ctx.carry = with_retries(carry_triage, ctx.settings)(prior.id, version.id, prior.version_number)
    run.triage_carried = ctx.carry.summary
    get_run_logger().info("triage: %s", ctx.carry.summary)
    for review in ctx.carry.needs_review:
        get_run_logger().info(
            "triage needs review: %s on %s %s (%s)",
            review.finding.vuln_id,
            review.finding.component_name,
            review.finding.component_version,
            review.reason,
        )
    return None


def _gate(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """List open vulnerabilities ∥ compare with the previous release, then decide."""
    s, version, prior, status = ctx.settings, run.version, run.previous, run.status
    assert version is not None and status is not None
    vulns = with_retries(list_vulnerabilities, s).submit(version.id, s.vulnerability_page_size)
    if prior is not None:
        run.comparison = with_retries(compare_versions, s).submit(prior.id, version.id).result()
        publish_table(
            run.key("diff"),
            diff_rows(run.comparison, s.artifact_table_rows),
            f"Changes from {prior.version_number} to {run.version_number}",
        )
    findings = [finding_from(v) for v in vulns.result()]
    readiness = ReadinessFacts(
        status.cra_floor_status == "ready",
        status.release_policy_status == "ready",
        tuple(status.cra_missing_items),
    )
    new_ids = run.comparison.vulnerability_diff.new_ids if run.comparison else None
    run.gate = evaluate_gate(run.policy, findings, readiness=readiness, new_ids=new_ids)
    publish_table(
        run.key("gate"),
        finding_rows(run.gate.deciding, s.artifact_table_rows),
        "; ".join(run.gate.reasons),
    )
    _tell(story.gate_verdict(run.gate))
    if run.gate.deciding:
        _tell(story.deciding(run.gate.deciding))
    for kev in (f for f in findings if f.kev and is_open(f.status)):
        events.emit(
            events.KEV_DETECTED,
            run.product,
            {"vulnerability": kev.vuln_id, "component": kev.component},
            version=run.version_number,
        )
    return None


def _kev_cases(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Open (once) the Art. 14 case of every open KEV-listed finding of the version."""
    version = run.version
    assert version is not None and run.product_id is not None
    sighting = with_retries(collect_kev_hits, ctx.settings)(
        run.product_id, version.id, run.version_number
    )
    archive = run.archive.uri if run.archive is not None else None
    cases = open_cases_for_kev_hits(
        sighting.hits, {run.product: sighting.released}, archive=archive
    )
    for case in cases:
        versions = ", ".join(case.affected_versions) or "none released"
        get_run_logger().info(
            "case opened: %s (%s; affected released versions: %s)",
            case.case_id,
            case.status.value,
            versions,
        )
    return None


def _archive_blocked(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """A blocked release archives its SBOM and verdict, and ends."""
    verdict = run.gate
    assert verdict is not None
    if verdict.passed:
        return None
    reasons = list(verdict.reasons)
    try:
        _export(run, ctx, "failed")  # the archive's key word for a blocked verdict (stable)
    except EvidenceError as exc:  # the verdict stands; say that its record is missing
        reasons.append(f"verdict not archived: {one_line(exc)}")
    _tell(story.not_promoted("the gate blocked the release"))
    return run.outcome("blocked", verdict.exit_code, reasons)


def _refused(run: ReleaseRun, reason: str) -> ReleaseOutcome:
    _tell(story.not_promoted(f"the server refused: {reason}"))
    return run.outcome(
        "blocked", int(ExitCode.RELEASE_POLICY_NOT_MET), [f"server refused the release: {reason}"]
    )


def _check_promotion(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Refuse before the first step what the server would refuse at the last one."""
    status = run.status
    if run.promote is None:
        _tell(story.not_promoted("--promote none"))
    if run.promote is None or status is None:
        return None
    blocker = promotion_blocker(
        status.release_state or "draft",
        run.promote,
        release_policy_ready=status.release_policy_status == "ready",
        blockers=[f"{b.vuln_id}: {b.reason}" for b in status.vuln_blockers],
    )
    return None if blocker is None else _refused(run, blocker)


def _promote(run: ReleaseRun, ctx: _Context) -> ReleaseOutcome | None:
    """Promote (∥ deprecate the predecessor), then archive the full evidence."""
    s, version, prior = ctx.settings, run.version, run.previous
    assert version is not None and run.product_id is not None
    if run.promote is not None:
        try:
            promotion = with_retries(promote_version, s)(
                run.product_id, version.id, run.version_number, run.promote
            )
        except ReleaseBlockedError as exc:
            blockers = [f"{b.vuln_id}: {b.reason}" for b in exc.blockers] or [one_line(exc)]
            return _refused(run, "; ".join(blockers))
        run.promoted_to = promotion.to_state
        _tell(story.promotion(promotion.from_state, promotion.to_state, promotion.steps))
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
    _export(run, ctx, "passed")
    if deprecation is not None and prior is not None:
        deprecation.result()
        run.deprecated_previous = True
        _tell(story.deprecated(prior.version_number, run.version_number))
        events.emit(
            events.VERSION_DEPRECATED,
            run.product,
            {"superseded_by": run.version_number},
            version=prior.version_number,
        )
    assert run.gate is not None
    return run.outcome("passed", int(ExitCode.OK), list(run.gate.reasons))


def _export(run: ReleaseRun, ctx: _Context, verdict: str) -> None:
    """Archive the evidence: all of it for a passed release; SBOM and verdict when blocked."""
    sbom, version, archive = ctx.sbom, run.version, run.archive
    assert sbom is not None and version is not None and run.sbom_id is not None
    assert archive is not None
    key = ArchiveKey(
        target=archive,
        product=run.product,
        version=run.version_number,
        content_sha256=sbom.sha256,
        verdict=verdict,
        policy=run.policy.describe(),
        retain_years=run.request.retain_years,
    )
    done = find_archived_release(key)
    if done is None:
        ext = ".xml" if sbom.path.lower().endswith(".xml") else ".json"
        name = f"sbom.{'spdx' if sbom.format == 'spdx' else 'cdx'}{ext}"
        files = [ArchiveFile(name=name, path=sbom.path), *_vex_files(run, ctx)]
        if verdict == "passed":
            s, folder = ctx.settings, ctx.work / "export"
            tech = with_retries(fetch_technical_file, s).submit(version.id, folder)
            report = with_retries(fetch_compliance_report, s).submit(run.sbom_id, folder)
            files.append(ArchiveFile.downloaded(TECHNICAL_FILE_NAME, tech.result()))
            files.append(ArchiveFile.downloaded(COMPLIANCE_REPORT_NAME, report.result()))
        run.exported = True
        done = archive_release(
            ArchiveRequest(
                key=key,
                run_id=run.run_id,
                files=tuple(files),
                documents=(*_documents(run), *_carry_documents(ctx)),
            )
        )
    run.archive_uri = done.run_uri
    _archived(run, ctx, done, verdict)


def _archived(run: ReleaseRun, ctx: _Context, done: ArchivedRun, verdict: str) -> None:
    """Tell where the evidence is, verify what this run wrote, publish the evidence table."""
    _tell(story.archive_written(done.run_uri, len(done.objects), done.written))
    about = {"uri": done.run_uri, "objects": len(done.objects), "verdict": verdict}
    if done.written:
        events.emit(events.ARCHIVE_WRITTEN, run.product, about, version=run.version_number)
        try:
            checked = verify_run(done.run_uri, ctx.evidence)
            problems = [f"{m.name}: {m.reason}" for m in checked.mismatches]
            _tell(story.archive_verified(done.run_uri, checked.checked, problems))
            events.emit(
                events.ARCHIVE_VERIFIED,
                run.product,
                {
                    "uri": done.run_uri,
                    "checked": checked.checked,
                    "ok": checked.ok,
                    "mismatches": problems,
                },
                version=run.version_number,
            )
        except EvidenceError as exc:  # the release stands; say the check could not run
            get_run_logger().warning("Archive not verified: %s", one_line(exc))
    publish_evidence(
        run.key("evidence"), f"Evidence of {run.product} {run.version_number}", done, ctx.evidence
    )


def _vex_files(run: ReleaseRun, ctx: _Context) -> list[ArchiveFile]:
    """The version's CycloneDX VEX, to archive beside the SBOM (none if it cannot be built);
    stored on the version too where the server accepts one, before the technical file is
    fetched, so the archived technical file lists it under `vex/`."""
    assert run.version is not None
    subject = Subject(run.product, run.version_number, ctx.vex.author)
    try:
        path = with_retries(write_version_vex, ctx.settings)(
            run.version.id, subject, ctx.work / "vex"
        )
    except VexError as exc:
        get_run_logger().warning("VEX not archived: %s", one_line(exc))
        return []
    try:
        if ctx.vex.upload:  # CRAFLOW_VEX_UPLOAD: each upload spends one of 50 per hour
            with_retries(upload_version_vex, ctx.settings)(run.product, run.version_number, path)
    except CraEvidenceError as exc:  # the archive keeps it; the verdict must not change
        get_run_logger().warning("VEX not uploaded: %s", one_line(exc))
    return [ArchiveFile(name=path.name, path=str(path), content_type=_CDX_JSON)]


def _carry_documents(ctx: _Context) -> tuple[tuple[str, Any], ...]:
    if ctx.carry is None:
        return ()
    return (("carry.json", json.loads(carry_evidence(ctx.carry))),)


def _documents(run: ReleaseRun) -> tuple[tuple[str, Any], ...]:
    status = run.status.model_dump(mode="json") if run.status is not None else {}
    documents: list[tuple[str, Any]] = [
        ("gate.json", run.gate.to_dict() if run.gate else {}),
        ("cra-status.json", status),
        ("release.json", run.record()),
    ]
    if run.comparison is not None:
        documents.append(("comparison.json", run.comparison.model_dump(mode="json")))
    return tuple(documents)


#: the release, step by step; each may end the run with an outcome
RELEASE_STEPS: tuple[Step, ...] = (
    _check_archive,
    _obtain,
    _scan,
    _carry,
    _gate,
    _kev_cases,
    _archive_blocked,
    _check_promotion,
    _promote,
)


def _tag_flow_run(product: str, version: str) -> None:
    tag_this_run([f"product:{product}", f"version:{version}", "craflow-release"])


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
    _tell(story.ending(said.label, said.state_name, outcome.message))
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
        ctx = _Context(settings, Path(work))
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
    _tag_flow_run(request.product, request.version)
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
