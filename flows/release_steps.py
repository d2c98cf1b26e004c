"""The release steps up to the gate's verdict, in the order `RELEASE_STEPS` runs them.

    check archive → SBOM, product, version ∥ previous → upload once, scan, wait
    → carry triage forward → gate (vulnerabilities ∥ comparison) → open KEV cases

The steps after the verdict (archive a blocked one, promote, archive the evidence)
are in `flows.release_promote`.
"""

from prefect import get_run_logger

from craflow.exitcodes import ExitCode
from craflow.release import story
from craflow.release.gate import ReadinessFacts, evaluate_gate
from craflow.release.outcome import ReleaseOutcome
from craflow.release.polling import PollSchedule
from craflow.release.report import diff_rows, finding_from, finding_rows
from craflow.release.run import ReleaseRun
from craflow.release.vocabulary import is_open
from flows.incident import open_cases_for_kev_hits
from flows.release_context import ReleaseContext, tell
from tasks import events
from tasks.artifacts import publish_table
from tasks.export import check_writable
from tasks.incident import collect_kev_hits
from tasks.products import find_previous_release, resolve_product, resolve_version
from tasks.retry import with_retries
from tasks.sbom import obtain_sbom
from tasks.scan import ensure_scan, wait_for_scan
from tasks.upload import upload_sbom_once
from tasks.vex import carry_triage
from tasks.vulnerabilities import compare_versions, list_vulnerabilities


def check_archive(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """Refuse an archive root that cannot be written before anything is created."""
    assert run.archive is not None
    check_writable(run.archive)
    return None


def obtain(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """Read or build the SBOM (before anything is created on the server), then find or
    create the product and version and find the previous release."""
    req, s = run.request, ctx.settings
    sbom = obtain_sbom(req.sbom, req.sbom_source, run.product, run.version_number, ctx.work)
    ctx.sbom, run.sbom_sha256, run.quality_score = sbom, sbom.sha256, sbom.quality_score
    tell(story.sbom_read(sbom.format, sbom.spec_version, sbom.component_count, sbom.generated))
    product = with_retries(resolve_product, s)(run.product)
    run.product_id = product.id
    version = with_retries(resolve_version, s).submit(product.id, run.version_number)
    prior = with_retries(find_previous_release, s).submit(
        product.id, run.version_number, req.previous
    )
    run.version, run.previous = version.result(), prior.result()
    return None


def scan(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
    """Upload unless the same SBOM is there, scan unless one ran, wait for the verdict."""
    s, sbom, version = ctx.settings, ctx.sbom, run.version
    assert sbom is not None and version is not None
    upload = with_retries(upload_sbom_once, s)(version.id, sbom.path, sbom.sha256)
    run.sbom_id, run.uploaded = upload.sbom_id, upload.uploaded
    tell(story.sbom_upload(upload.uploaded, sbom.sha256, upload.sbom_id))
    state = with_retries(ensure_scan, s)(version.id, upload.scan_started)
    schedule = PollSchedule(
        s.poll_initial_seconds,
        max(s.poll_cap_seconds, s.poll_initial_seconds),
        s.poll_multiplier,
        s.poll_jitter,
        s.poll_deadline_seconds,
    )
    waited = with_retries(wait_for_scan, s)(
        version.id,
        schedule,
        run.key("scan-progress"),
        scan_state=state,
        component_count=sbom.component_count or None,
    )
    run.status = waited.status
    tell(story.scan_waited(waited.elapsed_seconds, waited.polls, waited.scan_state, waited.done))
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


def carry(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
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


def gate(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
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
    tell(story.gate_verdict(run.gate))
    if run.gate.deciding:
        tell(story.deciding(run.gate.deciding))
    for kev in (f for f in findings if f.kev and is_open(f.status)):
        events.emit(
            events.KEV_DETECTED,
            run.product,
            {"vulnerability": kev.vuln_id, "component": kev.component},
            version=run.version_number,
        )
    return None


def kev_cases(run: ReleaseRun, ctx: ReleaseContext) -> ReleaseOutcome | None:
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
