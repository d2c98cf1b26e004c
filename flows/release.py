"""The release flow: from an SBOM to a gated, promoted, archived product version.

identity → SBOM (read or generate, quality) → product → version ∥ previous release
→ upload once → scan unless one ran → poll CRA status → vulnerabilities ∥ comparison
→ gate → promote (∥ deprecate the predecessor) → evidence archive → artifacts, events.

The run ends Completed (passed), Completed named "Pending" (the scan did not
finish by the deadline: nothing promoted, exit 75) or Failed (gate blocked or an
error; the verdict is the state message). Every ending carries a
`ReleaseOutcome` as the state's data: `run_release(...)` returns it.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

from prefect import State, flow, tags
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from config.release import ReleaseSettings
from craflow.api import CraEvidenceError, Download, ReleaseBlockedError, Version
from craflow.evidence import EvidenceError
from craflow.exitcodes import ExitCode
from craflow.release.ci import detect_ci
from craflow.release.errors import ReleaseInputError, exit_code_for_error, one_line
from craflow.release.gate import (
    GateConfigError,
    GatePolicy,
    GateVerdict,
    ReadinessFacts,
    evaluate_gate,
)
from craflow.release.names import check_release_names
from craflow.release.outcome import ReleaseOutcome
from craflow.release.polling import PollSchedule
from craflow.release.report import diff_rows, finding_from, finding_rows, summary_markdown
from craflow.release.run import ReleaseRun
from craflow.release.states import TransitionError, check_state
from craflow.sbom.errors import SbomError
from tasks import events
from tasks.artifacts import publish_link, publish_markdown, publish_table
from tasks.client import resolve_api_settings, run_client
from tasks.export import (
    ArchiveFile,
    archive_release,
    fetch_compliance_report,
    fetch_technical_file,
    find_archived_release,
)
from tasks.products import find_previous_release, resolve_product, resolve_version
from tasks.promote import deprecate_version, promote_version
from tasks.sbom import SbomFile, obtain_sbom
from tasks.scan import ensure_scan, wait_for_scan
from tasks.upload import upload_sbom_once
from tasks.vulnerabilities import compare_versions, list_vulnerabilities

_SETTINGS = ReleaseSettings()
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


def _tag_flow_run(product: str, version: str) -> None:
    run_id = flow_run.id
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        wanted = [f"product:{product}", f"version:{version}", "craflow-release"]
        client.update_flow_run(run_id, tags=sorted({*current.tags, *wanted}))


def _finish(run: ReleaseRun, outcome: ReleaseOutcome) -> State[ReleaseOutcome]:
    """Publish the summary and the event, then end the run in the state the verdict calls for."""
    score = run.quality_score
    publish_markdown(
        run.key("summary"),
        summary_markdown(outcome, gate=run.gate, comparison=run.comparison, quality_score=score),
        f"Release {run.product} {run.version}: {outcome.verdict}",
    )
    payload = {
        "version": run.version,
        "verdict": outcome.verdict,
        "exit_code": outcome.exit_code,
        "reasons": outcome.reasons,
    }
    if outcome.verdict == "failed":
        events.emit(events.RELEASE_BLOCKED, run.product, payload)
        return Failed(message=outcome.message, data=outcome)
    events.emit(events.RELEASE_COMPLETED, run.product, payload)
    if outcome.verdict == "pending":
        return Completed(name="Pending", message=outcome.message, data=outcome)
    return Completed(message=outcome.message, data=outcome)


def _obtain(
    run: ReleaseRun, sbom: str | None, sbom_source: str | None, work: Path, previous: str | None
) -> tuple[SbomFile, Version, Version | None]:
    # The SBOM is read and checked before anything is created on the server, so a
    # refused SBOM leaves no empty product or version behind.
    sbom_file = obtain_sbom(sbom, sbom_source, run.product, run.version, work)
    run.facts["sbom_sha256"] = sbom_file.sha256
    product = resolve_product(run.product)
    run.facts["product_id"] = product.id
    version_future = resolve_version.submit(product.id, run.version)
    previous_future = find_previous_release.submit(product.id, run.version, previous)
    version = version_future.result()
    run.facts["version_id"] = version.id
    prior = previous_future.result()
    if prior is not None:
        run.facts.update(previous_version=prior.version_number, previous_version_id=prior.id)
    run.quality_score = sbom_file.quality_score
    return sbom_file, version, prior


def _gate(
    run: ReleaseRun,
    policy: GatePolicy,
    version: Version,
    prior: Version | None,
    readiness: ReadinessFacts,
) -> GateVerdict:
    vulns_future = list_vulnerabilities.submit(version.id, run.settings.vulnerability_page_size)
    if prior is not None:
        run.comparison = compare_versions.submit(prior.id, version.id).result()
        publish_table(
            run.key("diff"),
            diff_rows(run.comparison, run.settings.artifact_table_rows),
            f"Changes from {prior.version_number} to {run.version}",
        )
    findings = [finding_from(v) for v in vulns_future.result()]
    new_ids = run.comparison.vulnerability_diff.new_ids if run.comparison else None
    verdict = evaluate_gate(policy, findings, readiness=readiness, new_ids=new_ids)
    run.gate = verdict
    publish_table(
        run.key("gate"),
        finding_rows(verdict.deciding, run.settings.artifact_table_rows),
        "; ".join(verdict.reasons),
    )
    for kev in (f for f in findings if f.kev and f.status in {"open", "in_progress"}):
        events.emit(
            events.KEV_DETECTED,
            run.product,
            {"version": run.version, "vulnerability": kev.vuln_id, "component": kev.component},
        )
    return verdict


def _export(
    run: ReleaseRun,
    *,
    export: str | None,
    retain_years: int | None,
    version: Version,
    sbom_file: SbomFile,
    sbom_id: str,
    work: Path,
    status_json: dict[str, Any],
    verdict: str,
) -> None:
    """Archive the evidence: all of it for a passed release; SBOM and verdict when blocked."""
    archive_uri = export or run.settings.export
    done = find_archived_release(
        archive_uri, run.product, run.version, sbom_file.sha256, verdict=verdict
    )
    if done is None:
        ext = ".xml" if sbom_file.path.lower().endswith(".xml") else ".json"
        name = f"sbom.{'spdx' if sbom_file.format == 'spdx' else 'cdx'}{ext}"
        files = [ArchiveFile(name=name, path=sbom_file.path)]
        downloads: list[tuple[str, Download]] = []
        if verdict == "passed":
            tech = fetch_technical_file.submit(version.id, work / "export")
            report = fetch_compliance_report.submit(sbom_id, work / "export")
            downloads = [
                ("technical-file.zip", tech.result()),
                ("compliance-report.pdf", report.result()),
            ]
        for fname, download in downloads:
            files.append(
                ArchiveFile(
                    name=fname,
                    path=str(download.path),
                    content_type=download.content_type,
                    source_request_id=download.request_id,
                )
            )
        documents: dict[str, object] = {
            "gate.json": run.gate.to_dict() if run.gate else {},
            "cra-status.json": status_json,
            "release.json": {"ci": run.ci, **run.facts},
        }
        if run.comparison is not None:
            documents["comparison.json"] = run.comparison.model_dump(mode="json")
        done = archive_release(
            archive_uri,
            run.product,
            run.version,
            run_id=str(flow_run.id or "local"),
            sbom_sha256=sbom_file.sha256,
            files=files,
            documents=documents,
            retain_years=retain_years,
            verdict=verdict,
        )
        run.facts["exported"] = True
    run.facts["archive_uri"] = done.run_uri
    for obj in done.objects:
        publish_link(
            run.key("evidence", str(obj["name"])),
            str(obj["uri"]),
            str(obj["name"]),
            f"sha256 {obj['sha256']}, {obj['size']} bytes",
        )


def _release(
    run: ReleaseRun, policy: GatePolicy, params: dict[str, Any], work: Path
) -> ReleaseOutcome:
    sbom_file, version, prior = _obtain(
        run, params["sbom"], params["sbom_source"], work, params["previous"]
    )
    upload = upload_sbom_once(version.id, sbom_file.path, sbom_file.sha256)
    run.facts.update(sbom_id=upload.sbom_id, uploaded=upload.uploaded)
    ensure_scan(version.id, upload.scan_started)
    s = run.settings
    schedule = PollSchedule(
        s.poll_initial_seconds,
        max(s.poll_cap_seconds, s.poll_initial_seconds),
        s.poll_multiplier,
        s.poll_jitter,
        s.poll_deadline_seconds,
    )
    waited = wait_for_scan(version.id, schedule, run.key("scan-progress"))
    run.facts["scan_state"] = waited.scan_state
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
        return run.outcome(
            "failed",
            int(ExitCode.API_ERROR),
            [f"scan ended {waited.scan_state}; no verdict possible"],
        )
    status = waited.status
    readiness = ReadinessFacts(
        status.cra_floor_status == "ready",
        status.release_policy_status == "ready",
        tuple(status.cra_missing_items),
    )
    verdict = _gate(run, policy, version, prior, readiness)
    archive_args: dict[str, Any] = {
        "export": params["export"],
        "retain_years": params["retain_years"],
        "version": version,
        "sbom_file": sbom_file,
        "sbom_id": upload.sbom_id,
        "work": work,
        "status_json": status.model_dump(mode="json"),
    }
    if not verdict.passed:
        reasons = list(verdict.reasons)
        try:
            _export(run, **archive_args, verdict="failed")
        except EvidenceError as exc:  # the verdict stands; say that its record is missing
            reasons.append(f"verdict not archived: {one_line(exc)}")
        return run.outcome("failed", verdict.exit_code, reasons)
    target = params["promote"]
    if target != "none":
        try:
            promotion = promote_version(run.facts["product_id"], version.id, run.version, target)
        except ReleaseBlockedError as exc:
            blockers = [f"{b.vuln_id}: {b.reason}" for b in exc.blockers] or [one_line(exc)]
            return run.outcome(
                "failed",
                int(ExitCode.RELEASE_POLICY_NOT_MET),
                [f"server refused the release: {'; '.join(blockers)}"],
            )
        run.facts["promoted_to"] = promotion.to_state
        if promotion.steps:
            events.emit(
                events.VERSION_CHANGED,
                run.product,
                {"version": run.version, "from": promotion.from_state, "to": promotion.to_state},
            )
    deprecation = None
    if params["deprecate_previous"] and prior is not None and target != "none":
        deprecation = deprecate_version.submit(
            run.facts["product_id"], prior.id, prior.version_number, version.id
        )
    _export(run, **archive_args, verdict="passed")
    if deprecation is not None:
        deprecation.result()
        run.facts["deprecated_previous"] = True
    return run.outcome("passed", int(ExitCode.OK), list(verdict.reasons))


@flow(
    name="release",
    flow_run_name="release-{product}-{version}",
    task_runner=ThreadPoolTaskRunner[Any](max_workers=_SETTINGS.max_workers),  # type: ignore[arg-type]
    log_prints=False,
)
def release_flow(  # noqa: PLR0917 - the parameters are the flow's fixed public interface
    product: str,
    version: str,
    sbom: str | None = None,
    sbom_source: str | None = None,
    previous: str | None = None,
    fail_on: str = "high",
    new_only: bool = False,
    fail_on_kev: bool = False,
    require_ready: bool = False,
    promote: str = "released",
    deprecate_previous: bool = False,
    export: str | None = None,
    retain_years: int | None = None,
    ci: dict[str, str] | None = None,
) -> State[ReleaseOutcome]:
    """Release *product* *version*: SBOM → upload → scan → gate → promote → archive.

    No parameter is a secret: the API key comes from `CRA_EVIDENCE_API_KEY` or the
    Prefect Secret block named in `ReleaseSettings.secret_block_name`.
    """
    settings = ReleaseSettings()
    run = ReleaseRun(
        product, version, settings, dict(ci) if ci is not None else detect_ci(os.environ), {}
    )
    _tag_flow_run(product, version)
    params = {
        "sbom": sbom,
        "sbom_source": sbom_source,
        "previous": previous,
        "promote": promote,
        "deprecate_previous": deprecate_previous,
        "export": export,
        "retain_years": retain_years,
    }
    try:
        check_release_names(product, version)
        policy = GatePolicy.parse(
            fail_on, new_only=new_only, fail_on_kev=fail_on_kev, require_ready=require_ready
        )
        if promote != "none":
            check_state(promote)
        api_settings = resolve_api_settings(settings.secret_block_name)
        with (
            tags(f"product:{product}", f"version:{version}"),
            tempfile.TemporaryDirectory(prefix="craflow-release-") as work,
            run_client(api_settings),
        ):
            outcome = _release(run, policy, params, Path(work))
    except EXPECTED_ERRORS as exc:
        outcome = run.outcome(
            "failed", exit_code_for_error(exc), [one_line(exc)], error=one_line(exc)
        )
    return _finish(run, outcome)


def outcome_of(state: State[Any]) -> ReleaseOutcome | BaseException:
    """The `ReleaseOutcome` a finished release run carries, or the error that crashed it."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, ReleaseOutcome | BaseException):
        return result
    return RuntimeError(f"release run ended {state.name} without an outcome")


def run_release(**parameters: Any) -> ReleaseOutcome | BaseException:
    """Run `release_flow` with *parameters* in this process and return its outcome (or error)."""
    state = release_flow(**parameters, return_state=True)
    return outcome_of(state)
