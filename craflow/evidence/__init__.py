"""The S3 evidence archive (boto3, no Prefect): stream, checksum, manifest, retention.

archive = open_archive("s3://bucket/prefix")          # or file:///path, or a path
run = archive.start_run("widget", "1.2.0", run_id=flow_run_id)
run.put_file("technical-file.zip", path, source_request_id=request_id)
run.put_json("gate.json", gate)
manifest = run.finish()                                 # manifest.json, written last
assert verify_run(run.uri).ok
"""

from config.evidence import EvidenceSettings
from craflow.evidence.archive import EvidenceArchive, RunWriter
from craflow.evidence.errors import (
    ArchiveAccessDeniedError,
    ArchiveEndpointError,
    ArchiveNotFoundError,
    ArchiveWriteError,
    ChecksumMismatchError,
    EvidenceError,
    InvalidArchiveUriError,
    ObjectExistsError,
    ObjectLockNotEnabledError,
)
from craflow.evidence.hashing import FileDigest, spool_chunks
from craflow.evidence.manifest import ArchivedObject, Manifest
from craflow.evidence.open import fetch_to_path, open_archive
from craflow.evidence.verify import Mismatch, VerificationResult, read_manifest, verify_run

__all__ = [
    "ArchiveAccessDeniedError",
    "ArchiveEndpointError",
    "ArchiveNotFoundError",
    "ArchiveWriteError",
    "ArchivedObject",
    "ChecksumMismatchError",
    "EvidenceArchive",
    "EvidenceError",
    "EvidenceSettings",
    "FileDigest",
    "InvalidArchiveUriError",
    "Manifest",
    "Mismatch",
    "ObjectExistsError",
    "ObjectLockNotEnabledError",
    "RunWriter",
    "VerificationResult",
    "fetch_to_path",
    "open_archive",
    "read_manifest",
    "spool_chunks",
    "verify_run",
]
