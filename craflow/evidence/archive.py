"""The evidence archive: run folders of immutable objects closed by a manifest.

Layout under the archive root (`s3://bucket/prefix` or a local folder):

    {product}/{version}/{YYYYMMDDTHHMMSSZ}-{run id}/technical-file.zip, ..., manifest.json
    sweeps/{YYYY-MM-DD}-{run id}/snapshot.json
"""

import json
import mimetypes
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from pydantic_core import PydanticSerializationError, to_json

from config.evidence import EvidenceSettings
from craflow.evidence.errors import (
    ArchiveWriteError,
    EvidenceError,
    InvalidArchiveUriError,
    ObjectExistsError,
)
from craflow.evidence.hashing import FileDigest, digest_file
from craflow.evidence.manifest import (
    MANIFEST_NAME,
    ArchivedObject,
    Manifest,
    manifest_to_json,
)
from craflow.evidence.store import ObjectStore, WriteOptions
from craflow.evidence.uri import check_segment, join_key

SWEEPS_FOLDER = "sweeps"
SNAPSHOT_NAME = "snapshot.json"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidArchiveUriError(f"{what} must carry a time zone: {moment.isoformat()}")
    return moment.astimezone(UTC)


def _json_bytes(obj: object, what: str) -> bytes:
    try:
        return to_json(obj, indent=2) + b"\n"
    except PydanticSerializationError as exc:
        raise ArchiveWriteError(f"{what} is not JSON-serialisable: {exc}") from exc


def _put_bytes(store: ObjectStore, key: str, data: bytes, options: WriteOptions) -> str | None:
    with tempfile.TemporaryDirectory(prefix="craflow-evidence-") as folder:
        path = Path(folder) / "object"
        path.write_bytes(data)
        part_size = store.part_size_for(len(data))
        digest = digest_file(path, part_size=part_size, chunk_bytes=max(len(data), 1))
        return store.put_file(key, path, digest, options)


class RunWriter:
    """Writes the objects of one run folder, then `finish()` writes `manifest.json` last."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        folder_key: str,
        product: str,
        version: str,
        run_id: str,
        started_at: datetime,
        chunk_bytes: int,
        now: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._folder_key = folder_key
        self._product = product
        self._version = version
        self._run_id = run_id
        self._started_at = started_at
        self._chunk_bytes = chunk_bytes
        self._now = now
        self._objects: list[ArchivedObject] = []
        self._manifest: Manifest | None = None

    @property
    def uri(self) -> str:
        """The run folder's URI, ending in `/`."""
        return self._store.uri_for(self._folder_key) + "/"

    @property
    def objects(self) -> tuple[ArchivedObject, ...]:
        return tuple(self._objects)

    def _check_name(self, name: str) -> str:
        if self._manifest is not None:
            raise EvidenceError(f"run {self.uri} is finished; no more objects can be added")
        check_segment(name, "object name")
        if name == MANIFEST_NAME:
            raise InvalidArchiveUriError(f"{MANIFEST_NAME!r} is written by finish(), not by hand")
        if any(obj.name == name for obj in self._objects):
            raise ObjectExistsError(f"{name!r} is already archived in {self.uri}")
        return name

    def _options(self, name: str, content_type: str | None, request_id: str | None) -> WriteOptions:
        kind = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        metadata = {"run-id": quote(self._run_id, safe="")}
        if request_id:
            metadata["source-request-id"] = quote(request_id, safe="")
        return WriteOptions(content_type=kind, metadata=metadata)

    def put_file(
        self,
        name: str,
        path: Path,
        *,
        content_type: str | None = None,
        source_request_id: str | None = None,
        digest: FileDigest | None = None,
    ) -> ArchivedObject:
        """Archive a local file (streamed). Pass `digest` from `spool_chunks` to skip re-hashing."""
        self._check_name(name)
        key = join_key(self._folder_key, name)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise EvidenceError(f"cannot read {path}: {exc.strerror or exc}") from exc
        part_size = self._store.part_size_for(size)
        if digest is None or digest.size != size or digest.part_size != part_size:
            digest = digest_file(path, part_size=part_size, chunk_bytes=self._chunk_bytes)
        options = self._options(name, content_type, source_request_id)
        version_id = self._store.put_file(key, path, digest, options)
        archived = ArchivedObject(
            name=name,
            uri=self._store.uri_for(key),
            key=key,
            size=digest.size,
            sha256=digest.sha256,
            source_request_id=source_request_id,
            version_id=version_id,
            content_type=options.content_type,
        )
        self._objects.append(archived)
        return archived

    def put_bytes(
        self,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        source_request_id: str | None = None,
    ) -> ArchivedObject:
        """Archive bytes held in memory (small objects: JSON, HTML)."""
        self._check_name(name)
        with tempfile.TemporaryDirectory(prefix="craflow-evidence-") as folder:
            path = Path(folder) / "object"
            path.write_bytes(data)
            return self.put_file(
                name, path, content_type=content_type, source_request_id=source_request_id
            )

    def put_json(
        self,
        name: str,
        obj: object,
        *,
        content_type: str | None = "application/json",
        source_request_id: str | None = None,
    ) -> ArchivedObject:
        """Archive `obj` as indented JSON (dataclasses, pydantic models, datetimes welcome)."""
        data = _json_bytes(obj, name)
        return self.put_bytes(
            name, data, content_type=content_type, source_request_id=source_request_id
        )

    def finish(self, extra: Mapping[str, object] | None = None) -> Manifest:
        """Write `manifest.json` (last) and close the run; returns the manifest."""
        if self._manifest is not None:
            raise EvidenceError(f"run {self.uri} is already finished")
        manifest = Manifest(
            product=self._product,
            version=self._version,
            run_id=self._run_id,
            run_uri=self.uri,
            started_at=self._started_at,
            finished_at=_aware_utc(self._now(), "finish time"),
            objects=tuple(self._objects),
            extra=dict(extra or {}),
        )
        key = join_key(self._folder_key, MANIFEST_NAME)
        _put_bytes(
            self._store,
            key,
            manifest_to_json(manifest),
            WriteOptions(content_type="application/json"),
        )
        self._manifest = manifest
        return manifest


class EvidenceArchive:
    """An archive root; opens run folders and keeps sweep snapshots."""

    def __init__(
        self,
        store: ObjectStore,
        prefix: str,
        settings: EvidenceSettings,
        *,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._prefix = prefix
        self._settings = settings
        self._now = now

    @property
    def uri(self) -> str:
        return self._store.uri_for(self._prefix)

    @property
    def store(self) -> ObjectStore:
        return self._store

    def start_run(
        self, product: str, version: str, *, run_id: str, started_at: datetime | None = None
    ) -> RunWriter:
        """Open a new run folder; raises if the store is not writable or the folder exists."""
        check_segment(product, "product name")
        check_segment(version, "version name")
        check_segment(run_id, "run id")
        started = _aware_utc(started_at or self._now(), "started_at")
        folder = join_key(self._prefix, product, version, f"{started:%Y%m%dT%H%M%SZ}-{run_id}")
        self._store.check_writable()
        if next(iter(self._store.list_keys(folder)), None) is not None:
            raise ObjectExistsError(f"run folder already exists: {self._store.uri_for(folder)}/")
        return RunWriter(
            self._store,
            folder_key=folder,
            product=product,
            version=version,
            run_id=run_id,
            started_at=started,
            chunk_bytes=self._settings.io_chunk_bytes,
            now=self._now,
        )

    def list_runs(self, product: str, version: str) -> list[str]:
        """URIs of the finished run folders (with a manifest) of a version, oldest first."""
        base = join_key(
            self._prefix, check_segment(product, "product name"), check_segment(version, "version")
        )
        depth = base.count("/") + 3
        runs = [
            key.rsplit("/", 1)[0]
            for key in self._store.list_keys(base)
            if key.endswith(f"/{MANIFEST_NAME}") and key.count("/") + 1 == depth
        ]
        return [self._store.uri_for(folder) + "/" for folder in sorted(runs)]

    def write_sweep_snapshot(
        self, run_id: str, snapshot: Mapping[str, object], *, at: datetime | None = None
    ) -> str:
        """Write `sweeps/{YYYY-MM-DD}-{run id}/snapshot.json`; returns its URI."""
        check_segment(run_id, "run id")
        day = _aware_utc(at or self._now(), "snapshot time")
        key = join_key(self._prefix, SWEEPS_FOLDER, f"{day:%Y-%m-%d}-{run_id}", SNAPSHOT_NAME)
        self._store.check_writable()
        data = _json_bytes(dict(snapshot), "sweep snapshot")
        _put_bytes(self._store, key, data, WriteOptions(content_type="application/json"))
        return self._store.uri_for(key)

    def latest_sweep_snapshot(self) -> dict[str, object] | None:
        """The newest sweep snapshot (by key order), or None if there is none."""
        base = join_key(self._prefix, SWEEPS_FOLDER)
        depth = base.count("/") + 3
        keys = [
            key
            for key in self._store.list_keys(base)
            if key.endswith(f"/{SNAPSHOT_NAME}") and key.count("/") + 1 == depth
        ]
        if not keys:
            return None
        newest = max(keys)
        with self._store.open_read(newest) as stream:
            data = b"".join(iter(lambda: stream.read(self._settings.io_chunk_bytes), b""))
        where = self._store.uri_for(newest)
        try:
            loaded = json.loads(data)
        except ValueError as exc:
            raise EvidenceError(f"sweep snapshot is not JSON: {where}") from exc
        if not isinstance(loaded, dict):
            raise EvidenceError(f"sweep snapshot is not a JSON object: {where}")
        return loaded
