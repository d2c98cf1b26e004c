"""Tasks that fetch the release evidence from the API and write it to the evidence archive.

Keyed by product, version and SBOM SHA-256: the archive's own manifests are the
record (`extra.sbom_sha256`), so a rerun that finds a finished run folder for
the same SBOM writes nothing, on any machine.
"""

import functools
import os
import tempfile
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from config.evidence import EvidenceSettings
from craflow.api import Download
from craflow.evidence import EvidenceArchive, fetch_to_path, open_archive
from craflow.evidence.manifest import manifest_from_json
from tasks.client import current_client
from tasks.retry import RETRY_OPTIONS


@task(name="fetch-technical-file", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def fetch_technical_file(version_id: str, dest_dir: Path) -> Download:
    """Download the version's technical-file ZIP to *dest_dir*."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return current_client().export_technical_file(version_id, dest_dir / "technical-file.zip")


@task(name="fetch-compliance-report", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def fetch_compliance_report(sbom_id: str, dest_dir: Path) -> Download:
    """Download the SBOM's compliance report (PDF) to *dest_dir*."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return current_client().compliance_report(sbom_id, dest_dir / "compliance-report.pdf")


class ArchiveFile(BaseModel):
    """A local file to archive under *name*."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    content_type: str | None = None
    source_request_id: str | None = None


class ArchivedRun(BaseModel):
    """A finished run folder: its URI and each object's name, URI, size and SHA-256."""

    model_config = ConfigDict(frozen=True)

    run_uri: str
    written: bool
    objects: list[dict[str, str | int]]


def _archive(archive_uri: str | None, retain_years: int | None) -> EvidenceArchive:
    settings = EvidenceSettings()
    if retain_years is not None:
        settings = EvidenceSettings.model_validate(
            {**settings.model_dump(), "retain_years": retain_years}
        )
    # an S3 client costs ~0.5-2 s to build: reuse one per archive, settings and endpoint
    return _open_cached(archive_uri, settings, os.environ.get("AWS_ENDPOINT_URL"))


@functools.lru_cache(maxsize=8)
def _open_cached(
    archive_uri: str | None, settings: EvidenceSettings, endpoint: str | None
) -> EvidenceArchive:
    return open_archive(archive_uri, settings)


def _existing_run(
    archive: EvidenceArchive, product: str, version: str, sbom_sha256: str, verdict: str
) -> ArchivedRun | None:
    for run_uri in reversed(archive.list_runs(product, version)):
        with tempfile.TemporaryDirectory(prefix="craflow-manifest-") as folder:
            local = fetch_to_path(run_uri + "manifest.json", Path(folder) / "manifest.json")
            manifest = manifest_from_json(local.read_bytes(), where=run_uri)
        extra = manifest.extra
        if extra.get("sbom_sha256") == sbom_sha256 and extra.get("verdict", "passed") == verdict:
            objects: list[dict[str, str | int]] = [
                {"name": o.name, "uri": o.uri, "size": o.size, "sha256": o.sha256}
                for o in manifest.objects
            ]
            return ArchivedRun(run_uri=run_uri, written=False, objects=objects)
    return None


@task(name="find-archived-release", cache_policy=NO_CACHE)
def find_archived_release(
    archive_uri: str | None,
    product: str,
    version: str,
    sbom_sha256: str,
    *,
    verdict: str = "passed",
) -> ArchivedRun | None:
    """The finished run folder that already holds this SBOM's evidence for *verdict*, if any."""
    return _existing_run(_archive(archive_uri, None), product, version, sbom_sha256, verdict)


@task(name="archive-release", cache_policy=NO_CACHE)
def archive_release(
    archive_uri: str | None,
    product: str,
    version: str,
    *,
    run_id: str,
    sbom_sha256: str,
    files: list[ArchiveFile],
    documents: dict[str, object],
    retain_years: int | None = None,
    verdict: str = "passed",
) -> ArchivedRun:
    """Write *files* and JSON *documents* to a new run folder, then its manifest (last).

    Skips the write when a finished run for the same SBOM SHA-256 and *verdict* exists
    (a blocked release archives its SBOM and verdict; a later pass archives everything).
    """
    archive = _archive(archive_uri, retain_years)
    existing = _existing_run(archive, product, version, sbom_sha256, verdict)
    if existing is not None:
        return existing
    run = archive.start_run(product, version, run_id=run_id)
    for item in files:
        run.put_file(
            item.name,
            Path(item.path),
            content_type=item.content_type,
            source_request_id=item.source_request_id,
        )
    for name, document in documents.items():
        run.put_json(name, document)
    manifest = run.finish(
        extra={"sbom_sha256": sbom_sha256, "flow_run_id": run_id, "verdict": verdict}
    )
    objects: list[dict[str, str | int]] = [
        {"name": o.name, "uri": o.uri, "size": o.size, "sha256": o.sha256} for o in manifest.objects
    ]
    return ArchivedRun(run_uri=run.uri, written=True, objects=objects)
