"""Archive a release's evidence and tell where it is.

A passed release archives its SBOM, VEX, technical file, compliance report and the
run's documents (gate, CRA status, release record, comparison, carried triage); a
blocked one its SBOM, VEX and documents. A run that finds the same evidence already
archived (same product, version, SBOM content and verdict) writes nothing again.
What this run wrote is verified, announced as events and published as the evidence
table artifact.
"""

import json
from typing import Any

from prefect import get_run_logger

from craflow.api import CraEvidenceError
from craflow.boundary import one_line
from craflow.evidence import EvidenceError, verify_run
from craflow.release import story
from craflow.release.run import ReleaseRun
from craflow.vex.carry import carry_evidence
from craflow.vex.errors import VexError
from craflow.vex.model import Subject
from flows.release_context import ReleaseContext, tell
from tasks import events
from tasks.artifacts import publish_evidence
from tasks.export import (
    ArchivedRun,
    ArchiveFile,
    ArchiveKey,
    ArchiveRequest,
    archive_release,
    fetch_platform_files,
    find_archived_release,
)
from tasks.retry import with_retries
from tasks.vex import upload_version_vex, write_version_vex

_CDX_JSON = "application/vnd.cyclonedx+json"


def export_evidence(run: ReleaseRun, ctx: ReleaseContext, verdict: str) -> None:
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
            folder = ctx.work / "export"
            files += fetch_platform_files(version.id, run.sbom_id, folder, ctx.settings)[1]
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


def _archived(run: ReleaseRun, ctx: ReleaseContext, done: ArchivedRun, verdict: str) -> None:
    """Tell where the evidence is, verify what this run wrote, publish the evidence table."""
    tell(story.archive_written(done.run_uri, len(done.objects), done.written))
    about = {"uri": done.run_uri, "objects": len(done.objects), "verdict": verdict}
    if done.written:
        events.emit(events.ARCHIVE_WRITTEN, run.product, about, version=run.version_number)
        try:
            checked = verify_run(done.run_uri, ctx.evidence)
            problems = [f"{m.name}: {m.reason}" for m in checked.mismatches]
            tell(story.archive_verified(done.run_uri, checked.checked, problems))
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


def _vex_files(run: ReleaseRun, ctx: ReleaseContext) -> list[ArchiveFile]:
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


def _carry_documents(ctx: ReleaseContext) -> tuple[tuple[str, Any], ...]:
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
