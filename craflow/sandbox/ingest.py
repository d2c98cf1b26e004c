"""SBOM ingest shared by `/sboms/ingest` and `/ci/upload`: stage, check, store, record."""

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any, BinaryIO

from craflow.sandbox.blobs import StagedBlob
from craflow.sandbox.errors import conflict
from craflow.sandbox.sbom_parse import ParsedSbom, parse_sbom
from craflow.sandbox.state import SandboxState, new_id

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_FILENAME_CHARS = 200


def safe_filename(name: str) -> str:
    """The last path part of an uploaded file name, made safe to use as a ZIP entry or file.

    `../../x.json`, `C:\\x.json` and names with control characters all become a plain
    name of letters, digits and `. _ + -` that never starts with a dot.
    """
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", last).lstrip(".")[:MAX_FILENAME_CHARS]
    return cleaned or "sbom"


def sbom_dict(row: sqlite3.Row) -> dict[str, Any]:
    keys = (
        "id",
        "version_id",
        "filename",
        "format",
        "spec_version",
        "component_count",
        "quality_score",
        "sha256",
        "size_bytes",
        "created_at",
    )
    return {k: row[k] for k in keys}


@dataclass(frozen=True)
class PreparedSbom:
    """An uploaded SBOM that parsed, staged on disk but not yet stored or recorded."""

    staged: StagedBlob
    parsed: ParsedSbom
    filename: str
    content_type: str


def prepare_sbom(
    state: SandboxState, *, source: BinaryIO, filename: str, content_type: str
) -> PreparedSbom:
    """Stage and parse an upload; 400/413 leave nothing behind."""
    staged = state.blobs.stage(source, state.settings.max_upload_bytes)
    try:
        parsed = parse_sbom(staged.tmp_path.read_bytes(), state.settings.max_json_depth)
    except BaseException:
        state.blobs.discard(staged)
        raise
    return PreparedSbom(staged, parsed, safe_filename(filename), content_type)


def refuse_closed_version(version: sqlite3.Row) -> None:
    """An end-of-life version takes no more evidence (409)."""
    if version["release_state"] == "end_of_life":
        raise conflict("Version is end_of_life: it takes no more uploads")


def store_sbom(
    state: SandboxState, org_id: str, version: sqlite3.Row, prepared: PreparedSbom
) -> sqlite3.Row:
    """Move the staged file into the store, then record its row (file first, row second)."""
    staged, parsed = prepared.staged, prepared.parsed
    state.blobs.commit(staged)
    sbom_id = new_id()
    components = json.dumps([asdict(c) for c in parsed.components])
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO sboms (id, org_id, version_id, filename, content_type, format,"
            " spec_version, component_count, quality_score, sha256, size_bytes, components,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sbom_id,
                org_id,
                version["id"],
                prepared.filename,
                prepared.content_type,
                parsed.format,
                parsed.spec_version,
                len(parsed.components),
                parsed.quality_score,
                staged.sha256,
                staged.size,
                components,
                state.now_iso(),
            ),
        )
        state.audit_in(
            conn,
            org_id,
            "sbom.ingested",
            {"sbom_id": sbom_id, "sha256": staged.sha256, "filename": prepared.filename},
            product_id=version["product_id"],
            version_id=version["id"],
        )
    row = state.db.one("SELECT * FROM sboms WHERE id = ?", (sbom_id,))
    assert row is not None
    return row


def ingest_sbom(
    state: SandboxState,
    org_id: str,
    version: sqlite3.Row,
    *,
    source: BinaryIO,
    filename: str,
    content_type: str,
) -> tuple[sqlite3.Row, ParsedSbom]:
    """Store an SBOM only after it parsed; the file is in place before its row commits."""
    refuse_closed_version(version)
    prepared = prepare_sbom(state, source=source, filename=filename, content_type=content_type)
    return store_sbom(state, org_id, version, prepared), prepared.parsed
