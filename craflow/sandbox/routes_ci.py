"""The `/ci/*` surface of API-CONTRACT.md §3, keyed by product slug (or id) and version number."""

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import FileResponse

from craflow.sandbox.auth import Principal
from craflow.sandbox.compare import compare_versions
from craflow.sandbox.cra import cra_status, version_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import ApiError, invalid, not_found
from craflow.sandbox.exports import compliance_report, latest_sbom_or_404, technical_file
from craflow.sandbox.ingest import ingest_sbom
from craflow.sandbox.release import set_release_state
from craflow.sandbox.resources import (
    create_product,
    create_version,
    find_product,
    find_version_by_number,
    is_uuid,
    parse_markets,
    slugify,
)
from craflow.sandbox.routes_exports import zip_response
from craflow.sandbox.scans import trigger_scan
from craflow.sandbox.state import SandboxState
from craflow.sandbox.vex_docs import store_vex, vex_upload_answer

router = APIRouter(prefix="/ci", tags=["ci"])
_LOW_QUALITY = 50


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def resolve(
    state: SandboxState, principal: Principal, product_ref: str, version_ref: str
) -> tuple[sqlite3.Row, sqlite3.Row]:
    product = find_product(state, principal.org_id, product_ref)
    version = find_version_by_number(state, product, version_ref)
    if version is None:
        raise not_found("Version", version_ref)
    return product, version


@router.post("/upload", status_code=201)
def upload(
    *,
    principal: PrincipalDep,
    state: StateDep,
    file: Annotated[UploadFile, File()],
    product: Annotated[str, Form()],
    version: Annotated[str, Form()],
    artifact_type: Annotated[str, Form()] = "sbom",
    create_product_flag: Annotated[str | None, Form(alias="create_product")] = None,
    create_version_flag: Annotated[str | None, Form(alias="create_version")] = None,
    scan: Annotated[str, Form()] = "true",
    target_markets: Annotated[str | None, Form()] = None,
    category: Annotated[str | None, Form()] = None,
    environment: Annotated[str | None, Form()] = None,
    release_state: Annotated[str | None, Form()] = None,
    supersedes: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    principal.require("sbom:write")
    if artifact_type not in ("sbom", "vex"):
        raise invalid(
            f"artifact_type '{artifact_type}' is not supported by the sandbox (sbom, vex)"
        )
    warnings: list[str] = []
    product_created = version_created = False
    try:
        product_row = find_product(state, principal.org_id, product)
    except ApiError:
        if not _true(create_product_flag) or is_uuid(product):
            raise
        principal.require("product:write")
        if not (target_markets or "").strip():
            raise invalid("A new product needs target_markets") from None
        product_row = create_product(
            state,
            principal.org_id,
            product,
            category or "default",
            slugify(product),
            target_markets=parse_markets(target_markets),
        )
        product_created = True
    version_row = find_version_by_number(state, product_row, version)
    if version_row is None:
        if not _true(create_version_flag):
            raise not_found("Version", version)
        principal.require("version:write")
        version_row = create_version(
            state,
            principal.org_id,
            product_row,
            number=version,
            release_state=release_state or "draft",
            environment=environment,
        )
        version_created = True
    if artifact_type == "vex":
        vex = store_vex(
            state,
            principal.org_id,
            version_row,
            source=file.file,
            filename=file.filename or "vex.json",
            content_type=file.content_type or "application/json",
        )
        status = cra_status(state, product_row, version_row)
        return vex_upload_answer(vex, status, version_row, (product_created, version_created))
    row, parsed = ingest_sbom(
        state,
        principal.org_id,
        version_row,
        source=file.file,
        filename=file.filename or "sbom",
        content_type=file.content_type or "application/octet-stream",
    )
    if parsed.quality_score < _LOW_QUALITY:
        warnings.append(f"SBOM quality score is low ({parsed.quality_score}/100)")
    if supersedes:
        warnings.append("supersedes is accepted but not acted on by the sandbox")
    scan_results = None
    if _true(scan):
        started = trigger_scan(state, principal.org_id, version_row)
        scan_results = {
            "status": started["status"],
            "scan_id": started["scan_id"],
            "vulnerabilities": {"critical": 0, "high": 0, "medium": 0, "low": 0},
        }
    status = cra_status(state, product_row, version_row)
    return {
        "artifact_id": row["id"],
        "artifact_type": "sbom",
        "component_count": row["component_count"],
        "quality_score": row["quality_score"],
        "sha256": row["sha256"],
        "message": f"SBOM uploaded to {product_row['slug']} {version_row['version_number']}",
        "warnings": warnings,
        "product": {
            "id": product_row["id"],
            "name": product_row["name"],
            "slug": product_row["slug"],
            "created": product_created,
        },
        "version": {
            "id": version_row["id"],
            "number": version_row["version_number"],
            "created": version_created,
            "cra_status": status["cra_status"],
            "release_state": version_row["release_state"],
            "environment": version_row["environment"],
        },
        "scan_results": scan_results,
        "cra_status": status["cra_status"],
        "cra_missing_items": status["cra_missing_items"],
    }


@router.get("/status")
def ci_status(
    product: str, version: str, principal: PrincipalDep, state: StateDep
) -> dict[str, Any]:
    principal.require("sbom:read")
    product_row, version_row = resolve(state, principal, product, version)
    return cra_status(state, product_row, version_row)


@router.post("/scan")
def ci_scan(
    product: Annotated[str, Form()],
    version: Annotated[str, Form()],
    principal: PrincipalDep,
    state: StateDep,
) -> dict[str, Any]:
    principal.require("version:write")
    _, version_row = resolve(state, principal, product, version)
    return {**trigger_scan(state, principal.org_id, version_row), "vulnerabilities": None}


@router.post("/release-state")
def ci_release_state(
    *,
    product: Annotated[str, Form()],
    version: Annotated[str, Form()],
    state_name: Annotated[str, Form(alias="state")],
    principal: PrincipalDep,
    state: StateDep,
    superseded_by: Annotated[str | None, Form()] = None,
    release_anyway: Annotated[str | None, Form()] = None,
    release_anyway_reason: Annotated[str | None, Form()] = None,
) -> dict[str, Any]:
    principal.require("version:write")
    product_row, version_row = resolve(state, principal, product, version)
    anyway = _true(release_anyway) or release_anyway_reason is not None
    row, recorded = set_release_state(
        state,
        principal.org_id,
        product_row,
        version_row,
        target=state_name,
        superseded_by=superseded_by,
        release_anyway=anyway,
        reason=release_anyway_reason,
    )
    return {**version_dict(state, row), "release_anyway_recorded": recorded}


@router.get("/compare")
def ci_compare(
    product: str, version_a: str, version_b: str, principal: PrincipalDep, state: StateDep
) -> dict[str, Any]:
    principal.require("sbom:read")
    product_row, base = resolve(state, principal, product, version_a)
    _, target = resolve(state, principal, product, version_b)
    return compare_versions(state, product_row, base, target)


@router.get("/export", response_class=Response)
def ci_export(
    product: str,
    version: str,
    principal: PrincipalDep,
    state: StateDep,
    format: str = "technical-file",
) -> Response:
    principal.require("export:read")
    product_row, version_row = resolve(state, principal, product, version)
    if format == "technical-file":
        return zip_response(*technical_file(state, product_row, version_row))
    sbom = latest_sbom_or_404(state, version_row)
    if format == "compliance-report":
        data, media_type = compliance_report(state, sbom, "pdf")
        return Response(data, media_type=media_type)
    if format == "sbom-data":
        return FileResponse(
            state.blobs.path_of(sbom["sha256"]),
            media_type=sbom["content_type"],
            filename=sbom["filename"],
        )
    raise invalid("format must be technical-file, compliance-report or sbom-data")
