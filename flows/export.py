"""The archive step alone: export a version released earlier to the evidence archive.

Fetches the technical file (and the compliance report of the latest SBOM, when the
version has one) and writes them to a new run folder with a checksum manifest.
Like the release flow, a finished run for the same SBOM SHA-256 is reused, not
written twice.
"""

import tempfile
import uuid
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from config.release import ReleaseSettings
from tasks.artifacts import artifact_key, publish_link
from tasks.client import resolve_api_settings, run_client
from tasks.export import (
    ArchivedRun,
    ArchiveFile,
    archive_release,
    fetch_compliance_report,
    fetch_technical_file,
)
from tasks.sweep import TECHNICAL_FILE_NAME, latest_sbom_task, locate_version_task

COMPLIANCE_REPORT_NAME = "compliance-report.pdf"


@flow(name="export", flow_run_name="export-{product}-{version}")
def export_flow(
    product: str, version: str, to: str | None = None, retain_years: int | None = None
) -> ArchivedRun:
    """Archive the technical file (and compliance report) of *product* *version* under *to*."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id() or uuid.uuid4().hex)
    with (
        run_client(resolve_api_settings(ReleaseSettings().secret_block_name)),
        tempfile.TemporaryDirectory(prefix="craflow-export-") as folder,
    ):
        work = Path(folder)
        target = locate_version_task(product, version)
        sbom = latest_sbom_task(target.version_id)
        technical = fetch_technical_file(target.version_id, work)
        files = [
            ArchiveFile(
                name=TECHNICAL_FILE_NAME,
                path=str(technical.path),
                content_type=technical.content_type,
                source_request_id=technical.request_id,
            )
        ]
        if sbom is not None:
            report = fetch_compliance_report(sbom.id, work)
            files.append(
                ArchiveFile(
                    name=COMPLIANCE_REPORT_NAME,
                    path=str(report.path),
                    content_type=report.content_type,
                    source_request_id=report.request_id,
                )
            )
        key_sha = sbom.sha256 if sbom is not None and sbom.sha256 else technical.sha256
        archived = archive_release(
            to,
            product,
            version,
            run_id=run_id,
            sbom_sha256=key_sha,
            files=files,
            documents={
                "export.json": {
                    "product": product,
                    "version": version,
                    "version_id": target.version_id,
                    "release_state": target.release_state,
                    "sbom_id": sbom.id if sbom is not None else None,
                    "flow_run_id": run_id,
                }
            },
            retain_years=retain_years,
        )
    verb = "archived" if archived.written else "already archived"
    logger.info("%s %s %s: %s", verb, product, version, archived.run_uri)
    publish_link(
        artifact_key("export", product, version),
        archived.run_uri,
        f"{product} {version} evidence",
        f"Technical file of {product} {version} ({verb})",
    )
    return archived
