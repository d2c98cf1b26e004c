"""The run manifest: every archived object with size, SHA-256, request and run ids.

`manifest.json` is written last in a run folder; a folder without one is an
unfinished run. (De)serialised with pydantic over frozen dataclasses.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from craflow.evidence.errors import ArchiveWriteError, EvidenceError

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA: Final = "craflow.evidence.manifest/v1"


@dataclass(frozen=True)
class ArchivedObject:
    """One object written in a run folder."""

    name: str
    uri: str
    key: str
    size: int
    sha256: str
    source_request_id: str | None = None
    version_id: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` holds. `run_id` is the flow run id the run was written by."""

    product: str
    version: str
    run_id: str
    run_uri: str
    started_at: datetime
    finished_at: datetime
    objects: tuple[ArchivedObject, ...]
    extra: Mapping[str, object] = field(default_factory=dict)
    schema: Literal["craflow.evidence.manifest/v1"] = "craflow.evidence.manifest/v1"

    def object_named(self, name: str) -> ArchivedObject | None:
        return next((obj for obj in self.objects if obj.name == name), None)


_ADAPTER: TypeAdapter[Manifest] = TypeAdapter(Manifest)


def manifest_to_json(manifest: Manifest) -> bytes:
    """Serialise a manifest (indented JSON, UTF-8)."""
    try:
        return _ADAPTER.dump_json(manifest, indent=2) + b"\n"
    except PydanticSerializationError as exc:
        raise ArchiveWriteError(f"manifest extra is not JSON-serialisable: {exc}") from exc


def manifest_from_json(data: bytes, *, where: str) -> Manifest:
    """Parse a manifest, raising a one-line `EvidenceError` if it is not one."""
    try:
        return _ADAPTER.validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise EvidenceError(f"not a craflow manifest: {where} ({loc}: {first['msg']})") from exc
