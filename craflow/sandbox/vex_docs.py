"""VEX documents uploaded through `/ci/upload artifact_type=vex` (API-CONTRACT.md section 7).

The format is recognised by content: CycloneDX (a BOM with `vulnerabilities`), OpenVEX
(an `@context` under openvex.dev with `statements`) or CSAF (`document.category`
`csaf_vex`). The document is kept byte for byte on its version and listed in the
technical file under `vex/`; it never changes a finding's status by itself.
"""

import sqlite3
from dataclasses import dataclass
from typing import Any, BinaryIO

from craflow.sandbox.errors import invalid
from craflow.sandbox.ingest import safe_filename
from craflow.sandbox.sbom_parse import load_json_object
from craflow.sandbox.state import SandboxState, new_id


def vex_format(data: bytes, max_depth: int) -> str:
    """ "cyclonedx", "openvex" or "csaf"; a 400 VALIDATION_ERROR for anything else."""
    doc = load_json_object(data, max_depth, file="VEX file", kind="VEX document")
    if doc.get("bomFormat") == "CycloneDX" and isinstance(doc.get("vulnerabilities"), list):
        return "cyclonedx"
    context = doc.get("@context")
    statements = doc.get("statements")
    if isinstance(context, str) and "openvex" in context and isinstance(statements, list):
        return "openvex"
    document = doc.get("document")
    if isinstance(document, dict) and document.get("category") == "csaf_vex":
        return "csaf"
    raise invalid(
        "Not a recognised VEX document: expected CycloneDX with vulnerabilities, "
        "OpenVEX, or CSAF with document.category csaf_vex"
    )


@dataclass(frozen=True)
class CheckedVex:
    """A VEX upload read whole and recognised, not yet stored."""

    data: bytes
    format: str
    sha256: str
    size: int
    filename: str
    content_type: str


def read_vex(
    state: SandboxState, *, source: BinaryIO, filename: str, content_type: str
) -> CheckedVex:
    """Read and recognise one VEX upload (400 when it is not VEX); nothing is written."""
    staged = state.blobs.stage(source, state.settings.max_upload_bytes)
    try:
        data = staged.tmp_path.read_bytes()
    finally:
        state.blobs.discard(staged)
    fmt = vex_format(data, state.settings.max_json_depth)
    return CheckedVex(data, fmt, staged.sha256, staged.size, filename, content_type)


def store_vex(
    state: SandboxState, org_id: str, version: sqlite3.Row, checked: CheckedVex
) -> sqlite3.Row:
    """Keep a checked VEX document byte for byte on *version*."""
    vex_id = new_id()
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO vex_documents (id, org_id, version_id, filename, content_type, format,"
            " sha256, size_bytes, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                vex_id,
                org_id,
                version["id"],
                safe_filename(checked.filename),
                checked.content_type,
                checked.format,
                checked.sha256,
                checked.size,
                checked.data,
                state.now_iso(),
            ),
        )
    state.audit(
        org_id,
        "vex.uploaded",
        {"vex_id": vex_id, "sha256": checked.sha256, "format": checked.format},
        product_id=version["product_id"],
        version_id=version["id"],
    )
    row = state.db.one("SELECT * FROM vex_documents WHERE id = ?", (vex_id,))
    assert row is not None
    return row


def vex_documents(state: SandboxState, version_id: str) -> list[sqlite3.Row]:
    return state.db.all(
        "SELECT * FROM vex_documents WHERE version_id = ? ORDER BY created_at, rowid",
        (version_id,),
    )


def vex_dict(row: sqlite3.Row) -> dict[str, Any]:
    keys = ("id", "version_id", "filename", "format", "sha256", "size_bytes", "created_at")
    return {k: row[k] for k in keys}


def vex_upload_answer(
    vex: sqlite3.Row,
    status: dict[str, Any],
    version: sqlite3.Row,
    created: tuple[bool, bool],
) -> dict[str, Any]:
    """The `/ci/upload` answer for a VEX document: the SBOM upload's shape, no scan."""
    product, ver = status["product"], status["version"]
    return {
        "artifact_id": vex["id"],
        "artifact_type": "vex",
        "format": vex["format"],
        "component_count": 0,
        "quality_score": None,
        "sha256": vex["sha256"],
        "message": f"VEX document ({vex['format']}) uploaded to {product['slug']} {ver['number']}",
        "warnings": [],
        "product": {**product, "created": created[0]},
        "version": {
            "id": ver["id"],
            "number": ver["number"],
            "created": created[1],
            "cra_status": status["cra_status"],
            "release_state": ver["release_state"],
            "environment": version["environment"],
        },
        "scan_results": None,
        "cra_status": status["cra_status"],
        "cra_missing_items": status["cra_missing_items"],
    }
