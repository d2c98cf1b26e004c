"""Verify a run folder: re-read every object its manifest lists and compare size and SHA-256."""

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from config.evidence import EvidenceSettings
from craflow.evidence.errors import ArchiveNotFoundError, EvidenceError
from craflow.evidence.hashing import digest_stream
from craflow.evidence.manifest import (
    MANIFEST_NAME,
    ArchivedObject,
    Manifest,
    manifest_from_json,
)
from craflow.evidence.open import store_for
from craflow.evidence.store import ObjectStore
from craflow.evidence.uri import check_segment, join_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class Mismatch:
    """One object that does not verify, and why (missing, size, sha256, unlisted, unsafe)."""

    name: str
    reason: str


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of `verify_run`: `ok` when every listed object matches and none is extra."""

    run_uri: str
    manifest: Manifest
    checked: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _read_all(store: ObjectStore, key: str, chunk_bytes: int) -> bytes:
    with store.open_read(key) as stream:
        return b"".join(iter(lambda: stream.read(chunk_bytes), b""))


def _check_object(
    store: ObjectStore, folder: str, listed: ArchivedObject, chunk_bytes: int
) -> Mismatch | None:
    name, size, sha256 = listed.name, listed.size, listed.sha256
    try:
        check_segment(name, "object name")
    except EvidenceError:
        return Mismatch(name, "unsafe name in manifest")
    key = join_key(folder, name)
    try:
        with store.open_read(key) as stream:
            digest = digest_stream(stream, part_size=max(size, 1), chunk_bytes=chunk_bytes)
    except ArchiveNotFoundError:
        return Mismatch(name, "missing")
    if digest.size != size:
        return Mismatch(name, f"size {digest.size}, manifest says {size}")
    if digest.sha256 != sha256:
        return Mismatch(name, f"sha256 {digest.sha256}, manifest says {sha256}")
    return None


def _run_folder(
    uri: "str | os.PathLike[str]", settings: EvidenceSettings, s3_client: "S3Client | None"
) -> tuple[ObjectStore, str]:
    text = os.fspath(uri).rstrip("/")
    if text.endswith(f"/{MANIFEST_NAME}") or text == MANIFEST_NAME:
        text = text[: -len(MANIFEST_NAME)].rstrip("/") or "."
    return store_for(text, settings, s3_client=s3_client)


def _load_manifest(store: ObjectStore, folder: str, settings: EvidenceSettings) -> Manifest:
    manifest_key = join_key(folder, MANIFEST_NAME)
    where = store.uri_for(manifest_key)
    try:
        raw = _read_all(store, manifest_key, settings.io_chunk_bytes)
    except ArchiveNotFoundError as exc:
        raise ArchiveNotFoundError(f"no manifest (unfinished or missing run): {where}") from exc
    return manifest_from_json(raw, where=where)


def read_manifest(
    uri: "str | os.PathLike[str]",
    settings: EvidenceSettings | None = None,
    *,
    s3_client: "S3Client | None" = None,
) -> Manifest:
    """The manifest of the run folder (or the `manifest.json`) at `uri`, without verifying."""
    settings = settings if settings is not None else EvidenceSettings()
    store, folder = _run_folder(uri, settings, s3_client)
    return _load_manifest(store, folder, settings)


def verify_run(
    uri: "str | os.PathLike[str]",
    settings: EvidenceSettings | None = None,
    *,
    s3_client: "S3Client | None" = None,
) -> VerificationResult:
    """Verify the run folder (or its `manifest.json`) at `uri`, streaming every object back."""
    settings = settings if settings is not None else EvidenceSettings()
    store, folder = _run_folder(uri, settings, s3_client)
    manifest = _load_manifest(store, folder, settings)
    mismatches: list[Mismatch] = []
    listed = set()
    for obj in manifest.objects:
        listed.add(obj.name)
        problem = _check_object(store, folder, obj, settings.io_chunk_bytes)
        if problem is not None:
            mismatches.append(problem)
    prefix = f"{folder}/" if folder else ""
    for key in store.list_keys(folder):
        name = key[len(prefix) :]
        if name != MANIFEST_NAME and name not in listed:
            mismatches.append(Mismatch(name, "not listed in the manifest"))
    return VerificationResult(
        run_uri=store.uri_for(folder) + "/",
        manifest=manifest,
        checked=len(manifest.objects),
        mismatches=tuple(mismatches),
    )
