"""SBOM ingest and download, scans, CRA status, release state and comparison by version id."""

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel

from craflow.sandbox.compare import compare_versions
from craflow.sandbox.cra import cra_status, version_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import invalid, not_found
from craflow.sandbox.ingest import ingest_sbom, sbom_dict
from craflow.sandbox.release import set_release_state
from craflow.sandbox.resources import envelope, find_product, find_version, page_params
from craflow.sandbox.scans import trigger_scan
from craflow.sandbox.state import SandboxState

router = APIRouter(tags=["sboms, scans and releases"])


class ReleaseStateBody(BaseModel):
    state: str
    superseded_by: str | None = None
    release_anyway: bool = False
    release_anyway_reason: str | None = None


class ComparisonBody(BaseModel):
    version_a_id: str
    version_b_id: str


def version_with_product(
    state: SandboxState, org_id: str, version_id: str
) -> tuple[sqlite3.Row, sqlite3.Row]:
    version = find_version(state, org_id, version_id)
    return find_product(state, org_id, version["product_id"]), version


@router.post("/sboms/ingest", status_code=201)
def ingest(
    principal: PrincipalDep,
    state: StateDep,
    file: Annotated[UploadFile, File()],
    version_id: Annotated[str, Form()],
    auto_scan: Annotated[str, Form(description="'true' (default) or 'false'")] = "true",
) -> dict[str, Any]:
    principal.require("sbom:write")
    version = find_version(state, principal.org_id, version_id)
    row, _ = ingest_sbom(
        state,
        principal.org_id,
        version,
        source=file.file,
        filename=file.filename or "sbom",
        content_type=file.content_type or "application/octet-stream",
    )
    body = sbom_dict(row)
    body["quality_score"] = row["quality_score"]
    wants_scan = auto_scan.strip().lower() not in ("false", "0", "no")
    body["scan"] = trigger_scan(state, principal.org_id, version) if wants_scan else None
    return body


@router.get("/versions/{version_id}/sboms")
def list_sboms(
    version_id: str,
    principal: PrincipalDep,
    state: StateDep,
    page: int | None = None,
    per_page: int | None = None,
) -> dict[str, Any]:
    principal.require("sbom:read")
    version = find_version(state, principal.org_id, version_id)
    p, k = page_params(state, page, per_page)
    rows = state.db.all(
        "SELECT * FROM sboms WHERE version_id = ? ORDER BY created_at, rowid", (version["id"],)
    )
    return envelope([sbom_dict(r) for r in rows[(p - 1) * k : p * k]], len(rows), p, k)


@router.get("/sboms/{sbom_id}/download", response_class=FileResponse)
def download(sbom_id: str, principal: PrincipalDep, state: StateDep) -> FileResponse:
    principal.require("sbom:read")
    row = state.db.one(
        "SELECT * FROM sboms WHERE id = ? AND org_id = ?", (sbom_id, principal.org_id)
    )
    if row is None:
        raise not_found("Sbom", sbom_id)
    return FileResponse(
        state.blobs.path_of(row["sha256"]), media_type=row["content_type"], filename=row["filename"]
    )


@router.post("/versions/{version_id}/scan", status_code=202)
def scan(version_id: str, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("version:write")
    version = find_version(state, principal.org_id, version_id)
    return trigger_scan(state, principal.org_id, version)


@router.get("/versions/{version_id}/cra-status")
def get_cra_status(version_id: str, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("sbom:read")
    product, version = version_with_product(state, principal.org_id, version_id)
    return cra_status(state, product, version)


@router.patch("/versions/{version_id}/release-state")
def patch_release_state(
    version_id: str, body: ReleaseStateBody, principal: PrincipalDep, state: StateDep
) -> dict[str, Any]:
    principal.require("version:write")
    product, version = version_with_product(state, principal.org_id, version_id)
    row, recorded = set_release_state(
        state,
        principal.org_id,
        product,
        version,
        target=body.state,
        superseded_by=body.superseded_by,
        release_anyway=body.release_anyway,
        reason=body.release_anyway_reason,
    )
    return {**version_dict(state, row), "release_anyway_recorded": recorded}


@router.post("/comparison/versions")
def comparison(body: ComparisonBody, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("sbom:read")
    product, base = version_with_product(state, principal.org_id, body.version_a_id)
    _, target = version_with_product(state, principal.org_id, body.version_b_id)
    if base["product_id"] != target["product_id"]:
        raise invalid("Both versions must belong to the same product")
    return compare_versions(state, product, base, target)
