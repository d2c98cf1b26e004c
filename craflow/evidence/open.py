"""Open an archive root, or a run folder, from a URI; fetch single objects."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from config.evidence import EvidenceSettings
from craflow.evidence.archive import EvidenceArchive
from craflow.evidence.errors import ArchiveNotFoundError, ArchiveWriteError, InvalidArchiveUriError
from craflow.evidence.filestore import FileStore
from craflow.evidence.s3client import make_s3_client
from craflow.evidence.s3store import S3Store
from craflow.evidence.store import ObjectStore
from craflow.evidence.uri import FileLocation, Location, S3Location, parse_location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def store_for(
    uri: "str | Location", settings: EvidenceSettings, *, s3_client: "S3Client | None" = None
) -> tuple[ObjectStore, str]:
    """The store holding `uri` (a URI, or a location parsed earlier), and the key it names."""
    location = uri if isinstance(uri, S3Location | FileLocation) else parse_location(uri)
    if isinstance(location, S3Location):
        client = s3_client if s3_client is not None else make_s3_client(settings)
        return S3Store(client, location.bucket, settings), location.key
    store = FileStore(
        location.path,
        part_size=settings.multipart_chunk_bytes,
        chunk_bytes=settings.io_chunk_bytes,
        retention_asked=settings.retain_years is not None,
    )
    return store, ""


def open_archive(
    uri: "str | os.PathLike[str] | Location | None" = None,
    settings: EvidenceSettings | None = None,
    *,
    s3_client: "S3Client | None" = None,
) -> EvidenceArchive:
    """Open the archive at `uri` (default: `settings.destination`); nothing is written yet."""
    settings = settings if settings is not None else EvidenceSettings()
    target: str | Location
    if uri is None:
        target = settings.destination
    elif isinstance(uri, S3Location | FileLocation):
        target = uri
    else:
        target = os.fspath(uri)
    store, prefix = store_for(target, settings, s3_client=s3_client)
    return EvidenceArchive(store, prefix, settings)


def fetch_to_path(
    uri: "str | os.PathLike[str]",
    dest: Path,
    settings: EvidenceSettings | None = None,
    *,
    s3_client: "S3Client | None" = None,
) -> Path:
    """Download the object at `uri` (`s3://bucket/key`, `file:///path` or a path) to `dest`."""
    settings = settings if settings is not None else EvidenceSettings()
    location = parse_location(os.fspath(uri))
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(location, S3Location):
        if not location.key:
            raise InvalidArchiveUriError(f"S3 URI names no object: {location.uri!r}")
        client = s3_client if s3_client is not None else make_s3_client(settings)
        # s3transfer downloads to a temporary name and renames it into place.
        S3Store(client, location.bucket, settings).download_to(location.key, dest)
        return dest
    return _copy_file(location, dest)


def _copy_file(location: FileLocation, dest: Path) -> Path:
    source = location.path
    if not source.is_file():
        raise ArchiveNotFoundError(f"not found: {source.absolute().as_uri()}")
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".craflow-fetch-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp_name)
        os.replace(tmp_name, dest)
    except OSError as exc:
        raise ArchiveWriteError(
            f"failed to copy {source} to {dest}: {exc.strerror or exc}"
        ) from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return dest
