"""Cases in the evidence store: one object per event, never overwritten.

Layout under the archive root: `incidents/<case id>/<seq>-<kind>.json`, `seq`
zero-padded so key order is history order. Writing uses the store's
write-if-absent (S3 `If-None-Match: *`, a hard link on disk), so two writers
never both get the same slot; the loser re-reads and takes the next. Under an
Object Lock archive (`CRAFLOW_EVIDENCE_RETAIN_YEARS`) every event is locked:
the timeline is itself evidence.
"""

import json
import re
from collections.abc import Iterator

from pydantic import ValidationError

from craflow.evidence.archive import _put_bytes
from craflow.evidence.errors import ArchiveWriteError, ObjectExistsError
from craflow.evidence.store import ObjectStore, WriteOptions
from craflow.incident.errors import CaseNotFoundError, InvalidCaseInputError
from craflow.incident.model import CaseEvent, EventEnvelope

FOLDER = "incidents"
_SEQ_DIGITS = 6
_MAX_APPEND_ATTEMPTS = 5
MAX_EVENT_BYTES = 1024 * 1024  # an event is a few KiB; anything larger is not ours
_CASE_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*--[a-z0-9][a-z0-9.-]*$")
_OPTIONS = WriteOptions(content_type="application/json")


def check_case_id(case_id: str) -> str:
    """`case_id` if it is well-formed (`product--vulnerability`), else a one-line error."""
    if len(case_id) > 200 or not _CASE_ID.match(case_id):
        raise InvalidCaseInputError(f"not a case id: {case_id[:80]!r}")
    return case_id


class CaseStore:
    """Append-only event histories of cases under one archive root."""

    def __init__(self, store: ObjectStore, prefix: str = "") -> None:
        self._store = store
        self._prefix = prefix.strip("/")
        self._root = f"{self._prefix}/{FOLDER}" if self._prefix else FOLDER

    def uri(self, case_id: str) -> str:
        return self._store.uri_for(self._folder(case_id))

    def _folder(self, case_id: str) -> str:
        return f"{self._root}/{check_case_id(case_id)}"

    def _keys(self, case_id: str) -> list[str]:
        return list(self._store.list_keys(self._folder(case_id)))

    def exists(self, case_id: str) -> bool:
        return bool(self._keys(case_id))

    def history(self, case_id: str) -> list[CaseEvent]:
        """Every event of `case_id`, oldest first."""
        keys = self._keys(case_id)
        if not keys:
            raise CaseNotFoundError(f"no case {case_id!r}")
        return [self._read(key) for key in keys]

    def _read(self, key: str) -> CaseEvent:
        chunks: list[bytes] = []
        size = 0
        with self._store.open_read(key) as stream:
            while size <= MAX_EVENT_BYTES and (chunk := stream.read(MAX_EVENT_BYTES + 1 - size)):
                chunks.append(chunk)
                size += len(chunk)
        data = b"".join(chunks)
        if size > MAX_EVENT_BYTES:
            raise ArchiveWriteError(f"case event {key} is larger than {MAX_EVENT_BYTES} bytes")
        try:
            return EventEnvelope.model_validate(json.loads(data)).event
        except (ValueError, ValidationError) as exc:
            raise ArchiveWriteError(f"unreadable case event {key}: {exc}") from exc

    def case_ids(self) -> Iterator[str]:
        """The id of every stored case, in key order."""
        seen: set[str] = set()
        cut = len(self._root) + 1
        for key in self._store.list_keys(self._root):
            case_id = key[cut:].split("/", 1)[0]
            if case_id not in seen:
                seen.add(case_id)
                yield case_id

    def append(self, case_id: str, event: CaseEvent, *, first: bool = False) -> str:
        """Write `event` as the next object of `case_id`; return its URI.

        With `first`, the event must be the very first one: `ObjectExistsError` when
        the case already exists (that is how "open once" holds across writers).
        """
        data = EventEnvelope(event=event).model_dump_json(indent=2).encode() + b"\n"
        for _ in range(_MAX_APPEND_ATTEMPTS):
            seq = 0 if first else len(self._keys(case_id))
            key = f"{self._folder(case_id)}/{seq:0{_SEQ_DIGITS}d}-{event.kind}.json"
            try:
                _put_bytes(self._store, key, data, _OPTIONS)
            except ObjectExistsError:
                if first:
                    raise
                continue
            return self._store.uri_for(key)
        raise ArchiveWriteError(f"could not append to case {case_id}: too many concurrent writers")

    def _document_folder(self, folder: str, case_id: str) -> str:
        base = f"{self._prefix}/{folder}" if self._prefix else folder
        return f"{base}/{check_case_id(case_id)}"

    def document_uri(self, folder: str, case_id: str) -> str:
        """The URI of a case's evidence folder beside `incidents/` (e.g. `incident-vex`)."""
        return self._store.uri_for(self._document_folder(folder, case_id)) + "/"

    def put_document(self, folder: str, case_id: str, name: str, data: bytes) -> str:
        """Write a document of the case (once: never overwritten); return its URI."""
        if folder == FOLDER or "/" in name or not name.strip("."):
            raise InvalidCaseInputError(f"not a case document: {folder}/{name}")
        key = f"{self._document_folder(folder, case_id)}/{name}"
        _put_bytes(self._store, key, data, _OPTIONS)
        return self._store.uri_for(key)
