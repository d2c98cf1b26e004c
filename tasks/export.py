"""The one archive writer: fetch release evidence from the API, write it to the archive.

Every flow that archives (release, export, the sweep's refresh) hands one typed
`ArchiveRequest` to `archive_release`. Mode `once` (release, export) is keyed by
product, version, content SHA-256, verdict and gate policy: the archive's own
manifests are the record, so a rerun that finds a finished run folder for the same
key writes nothing, on any machine, while a rerun under another policy writes the
evidence of that run. Mode `refresh` (the sweep) always writes a new run folder.
Retention and encryption come from `EvidenceSettings` plus the request's
`retain_years`, the same in both modes.
"""

import functools
import os
import tempfile
from pathlib import Path
from typing import Literal

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from config.evidence import EvidenceSettings
from config.release import ReleaseSettings
from craflow.api import Download
from craflow.evidence import EvidenceArchive, fetch_to_path, open_archive
from craflow.evidence.errors import InvalidArchiveUriError
from craflow.evidence.manifest import manifest_from_json
from craflow.evidence.uri import FileLocation, Location, parse_location
from craflow.release.request import ArchiveTarget
from tasks.client import current_client
from tasks.retry import api_task, with_retries

ArchiveMode = Literal["once", "refresh"]
TECHNICAL_FILE_NAME = "technical-file.zip"
COMPLIANCE_REPORT_NAME = "compliance-report.pdf"


@api_task(name="fetch-technical-file")
def fetch_technical_file(version_id: str, dest_dir: Path) -> Download:
    """Download the version's technical-file ZIP to *dest_dir*."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return current_client().export_technical_file(version_id, dest_dir / TECHNICAL_FILE_NAME)


@api_task(name="fetch-compliance-report")
def fetch_compliance_report(sbom_id: str, dest_dir: Path) -> Download:
    """Download the SBOM's compliance report (PDF) to *dest_dir*."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return current_client().compliance_report(sbom_id, dest_dir / COMPLIANCE_REPORT_NAME)


class ArchiveFile(BaseModel):
    """A local file to archive under *name*."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    content_type: str | None = None
    source_request_id: str | None = None

    @classmethod
    def downloaded(cls, name: str, download: Download) -> "ArchiveFile":
        """The archive entry for a file the API client downloaded."""
        return cls(
            name=name,
            path=str(download.path),
            content_type=download.content_type,
            source_request_id=download.request_id,
        )


def fetch_platform_files(
    version_id: str, sbom_id: str | None, folder: Path, settings: ReleaseSettings
) -> tuple[Download, list[ArchiveFile]]:
    """The platform's documents of a version as archive entries, fetched side by side: the
    technical file and, given its SBOM, the compliance report. The technical file's
    download comes too (its digest keys the export of a version without an SBOM)."""
    technical = with_retries(fetch_technical_file, settings).submit(version_id, folder)
    report = (
        with_retries(fetch_compliance_report, settings).submit(sbom_id, folder)
        if sbom_id is not None
        else None
    )
    files = [ArchiveFile.downloaded(TECHNICAL_FILE_NAME, technical.result())]
    if report is not None:
        files.append(ArchiveFile.downloaded(COMPLIANCE_REPORT_NAME, report.result()))
    return technical.result(), files


class ArchiveKey(BaseModel):
    """Where a run's evidence goes and what makes two runs' evidence the same."""

    model_config = ConfigDict(frozen=True)

    target: ArchiveTarget
    product: str
    version: str
    content_sha256: str
    verdict: str = "passed"
    policy: str = ""
    retain_years: int | None = Field(None, ge=1, le=100)


class ArchiveRequest(BaseModel):
    """Everything one archive write needs, passed whole to `archive_release`."""

    model_config = ConfigDict(frozen=True)

    key: ArchiveKey
    run_id: str
    files: tuple[ArchiveFile, ...] = ()
    documents: tuple[tuple[str, JsonValue], ...] = ()
    mode: ArchiveMode = "once"
    reason: str = "release"


class ArchivedObject(BaseModel):
    """One archived object: name, URI, size and SHA-256."""

    model_config = ConfigDict(frozen=True)

    name: str
    uri: str
    size: int
    sha256: str


class ArchivedRun(BaseModel):
    """A finished run folder: its URI, whether this call wrote it, and its objects."""

    model_config = ConfigDict(frozen=True)

    run_uri: str
    written: bool
    objects: list[ArchivedObject]


def resolve_target(
    target: Location | None, settings: EvidenceSettings, configured: str | None = None
) -> Location:
    """*target*, else *configured* (e.g. `CRAFLOW_RELEASE_EXPORT`), else the evidence
    destination: the settings are the ones read when the run started."""
    if target is not None:
        return target
    return parse_location(configured if configured else settings.destination)


def check_writable(target: Location) -> Location:
    """Refuse an archive root that cannot be written, before anything is promoted.

    A local root must be a folder (or not exist yet) under a writable folder. An S3
    root's bucket name was checked when it was parsed; the bucket itself answers on
    the first write.
    """
    if not isinstance(target, FileLocation):
        return target
    path = target.path.absolute()
    if path.exists() and not path.is_dir():
        raise InvalidArchiveUriError(f"archive root {path} is a file, not a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise InvalidArchiveUriError(f"archive root {path} lies under a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidArchiveUriError(f"archive root {path} is not writable ({existing})")
    return target


def _settings(retain_years: int | None) -> EvidenceSettings:
    settings = EvidenceSettings()
    if retain_years is None:
        return settings
    return EvidenceSettings.model_validate({**settings.model_dump(), "retain_years": retain_years})


def _archive(target: Location, retain_years: int | None) -> EvidenceArchive:
    # an S3 client costs ~0.5-2 s to build: reuse one per archive, settings and endpoint
    return _open_cached(target, _settings(retain_years), os.environ.get("AWS_ENDPOINT_URL"))


@functools.lru_cache(maxsize=8)
def _open_cached(
    target: Location, settings: EvidenceSettings, endpoint: str | None
) -> EvidenceArchive:
    return open_archive(target, settings)


def _existing_run(archive: EvidenceArchive, key: ArchiveKey) -> ArchivedRun | None:
    for run_uri in reversed(archive.list_runs(key.product, key.version)):
        with tempfile.TemporaryDirectory(prefix="craflow-manifest-") as folder:
            local = fetch_to_path(run_uri + "manifest.json", Path(folder) / "manifest.json")
            manifest = manifest_from_json(local.read_bytes(), where=run_uri)
        extra = manifest.extra
        if (
            extra.get("sbom_sha256") == key.content_sha256
            and extra.get("verdict", "passed") == key.verdict
            and extra.get("gate_policy", "") == key.policy
        ):
            objects = [
                ArchivedObject(name=o.name, uri=o.uri, size=o.size, sha256=o.sha256)
                for o in manifest.objects
            ]
            return ArchivedRun(run_uri=run_uri, written=False, objects=objects)
    return None


@task(name="find-archived-release", cache_policy=NO_CACHE)
def find_archived_release(key: ArchiveKey) -> ArchivedRun | None:
    """The finished run folder that already holds the evidence for *key*, if any."""
    return _existing_run(_archive(key.target, None), key)


@task(name="archive-release", cache_policy=NO_CACHE)
def archive_release(request: ArchiveRequest) -> ArchivedRun:
    """Write the request's files and JSON documents to a new run folder, then its manifest.

    In mode `once` the write is skipped when a finished run for the same key exists.
    """
    key = request.key
    archive = _archive(key.target, key.retain_years)
    if request.mode == "once":
        existing = _existing_run(archive, key)
        if existing is not None:
            return existing
    run = archive.start_run(key.product, key.version, run_id=request.run_id)
    for item in request.files:
        run.put_file(
            item.name,
            Path(item.path),
            content_type=item.content_type,
            source_request_id=item.source_request_id,
        )
    for name, document in request.documents:
        run.put_json(name, document)
    manifest = run.finish(
        extra={
            "sbom_sha256": key.content_sha256,
            "flow_run_id": request.run_id,
            "verdict": key.verdict,
            "gate_policy": key.policy,
            "reason": request.reason,
        }
    )
    objects = [
        ArchivedObject(name=o.name, uri=o.uri, size=o.size, sha256=o.sha256)
        for o in manifest.objects
    ]
    return ArchivedRun(run_uri=run.uri, written=True, objects=objects)
