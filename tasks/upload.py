"""The upload task: put the SBOM on the version unless the same bytes are already there."""

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tasks.client import current_client
from tasks.retry import api_task


class UploadResult(BaseModel):
    """Whether the SBOM was uploaded now, its id, and whether a scan was started with it."""

    model_config = ConfigDict(frozen=True)

    uploaded: bool
    sbom_id: str
    scan_started: bool = False
    request_id: str | None = None


@api_task(name="upload-sbom")
def upload_sbom_once(version_id: str, path: str, sha256: str) -> UploadResult:
    """Upload unless an SBOM with *sha256* is already on the version (a re-read, not a cache).

    A rerun or a duplicate event therefore uploads nothing; the server's list of
    SBOMs is the record, so this holds across machines.
    """
    client = current_client()
    wanted = sha256.lower()
    for existing in client.list_sboms(version_id):
        if (existing.sha256 or "").lower() == wanted:
            return UploadResult(uploaded=False, sbom_id=existing.id)
    result = client.ingest_sbom(version_id, Path(path), auto_scan=True)
    started = result.scan is not None and (result.scan.status or "") not in {"", "disabled"}
    return UploadResult(
        uploaded=True, sbom_id=result.sbom.id, scan_started=started, request_id=result.request_id
    )
