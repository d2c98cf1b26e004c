"""The archive step alone: export a version released earlier to the evidence archive.

Fetches the technical file (and the compliance report of the latest SBOM, when the
version has one) and hands them to the one archive writer (`tasks.export`). Like
the release flow, a finished run for the same content SHA-256 is reused, not
written twice. The run publishes one evidence table, `export-<product>-<version>-evidence`,
with HTTPS links to the archived objects (the same table as the release's).
"""

import tempfile
import uuid
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from craflow.release.request import ExportRequest
from tasks.artifacts import artifact_key, publish_evidence
from tasks.client import resolve_api_settings, run_client
from tasks.export import (
    ArchivedRun,
    ArchiveKey,
    ArchiveRequest,
    archive_release,
    check_writable,
    fetch_platform_files,
    resolve_target,
)
from tasks.retry import with_retries
from tasks.sweep import latest_sbom_task, locate_version_task


@flow(name="export", flow_run_name="export-{product}-{version}")
def export_flow(
    product: str, version: str, to: str | None = None, retain_years: int | None = None
) -> ArchivedRun:
    """Archive the technical file (and compliance report) of *product* *version* under *to*.

    The parameters are validated once, here, into an `ExportRequest` passed whole below.
    """
    request = ExportRequest.build(
        product=product, version=version, to=to, retain_years=retain_years
    )
    return _export(request, ReleaseSettings())


def _export(request: ExportRequest, settings: ReleaseSettings) -> ArchivedRun:
    run_id = str(flow_run.get_id() or uuid.uuid4().hex)
    evidence = EvidenceSettings()
    target = check_writable(resolve_target(request.to, evidence))
    with (
        run_client(resolve_api_settings(settings.secret_block_name)),
        tempfile.TemporaryDirectory(prefix="craflow-export-") as folder,
    ):
        work = Path(folder)
        found = with_retries(locate_version_task, settings)(request.product, request.version)
        sbom = with_retries(latest_sbom_task, settings)(found.version_id)
        sbom_id = sbom.id if sbom is not None else None
        technical, files = fetch_platform_files(found.version_id, sbom_id, work, settings)
        record = {
            "product": request.product,
            "version": request.version,
            "version_id": found.version_id,
            "release_state": found.release_state,
            "sbom_id": sbom_id,
            "flow_run_id": run_id,
        }
        key = ArchiveKey(
            target=target,
            product=request.product,
            version=request.version,
            content_sha256=sbom.sha256 if sbom is not None and sbom.sha256 else technical.sha256,
            retain_years=request.retain_years,
        )
        archived = archive_release(
            ArchiveRequest(
                key=key,
                run_id=run_id,
                files=tuple(files),
                documents=(("export.json", record),),
                reason="export",
            )
        )
    verb = "archived" if archived.written else "already archived"
    get_run_logger().info("%s %s %s: %s", verb, request.product, request.version, archived.run_uri)
    publish_evidence(
        artifact_key("export", request.product, request.version, "evidence"),
        f"Exported evidence of {request.product} {request.version} ({verb})",
        archived,
        evidence,
    )
    return archived
