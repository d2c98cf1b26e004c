"""The `/ci/*` surface of API-CONTRACT.md §3, keyed by product slug (or id) and version number."""

import sqlite3
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import FileResponse

from craflow.sandbox.auth import Principal
from craflow.sandbox.compare import compare_versions
from craflow.sandbox.cra import cra_status, version_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import ApiError, invalid, not_found
from craflow.sandbox.exports import compliance_report, latest_sbom_or_404, technical_file
from craflow.sandbox.ingest import prepare_sbom, refuse_closed_version, store_sbom
from craflow.sandbox.release import set_release_state
from craflow.sandbox.resources import (
    check_product,
    check_version,
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
from craflow.sandbox.vex_docs import read_vex, store_vex, vex_upload_answer

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


@dataclass(frozen=True)
class _UploadPlan:
    """What an upload will find or create, checked before anything is written."""

    product: sqlite3.Row | None  # None: create it
    product_ref: str
    category: str
    target_markets: tuple[str, ...]
    version: sqlite3.Row | None  # None: create it
    version_number: str
    release_state: str


def _plan_upload(
    state: SandboxState,
    principal: Principal,
    product_ref: str,
    version_ref: str,
    *,
    create_product: bool,
    create_version: bool,
    target_markets: str | None,
    category: str,
    release_state: str,
) -> _UploadPlan:
    """Resolve or validate product and version; 400/403/404/409 before any write."""
    markets: tuple[str, ...] = ()
    try:
        product_row: sqlite3.Row | None = find_product(state, principal.org_id, product_ref)
    except ApiError:
        if not create_product or is_uuid(product_ref):
            raise
        principal.require("product:write")
        if not (target_markets or "").strip():
            raise invalid("A new product needs target_markets") from None
        check_product(product_ref, category, slugify(product_ref))
        markets = tuple(parse_markets(target_markets))
        product_row = None
    version_row = (
        None if product_row is None else find_version_by_number(state, product_row, version_ref)
    )
    if version_row is None:
        if not create_version:
            raise not_found("Version", version_ref)
        principal.require("version:write")
        check_version(version_ref, release_state)
    else:
        refuse_closed_version(version_row)
    return _UploadPlan(
        product_row, product_ref, category, markets, version_row, version_ref, release_state
    )


def _carry_out(
    state: SandboxState, principal: Principal, plan: _UploadPlan, environment: str | None
) -> tuple[sqlite3.Row, sqlite3.Row]:
    """Create what the plan says is missing; a concurrent creator's row is taken as found."""
    product_row = plan.product
    if product_row is None:
        try:
            product_row = create_product(
                state,
                principal.org_id,
                plan.product_ref,
                plan.category,
                slugify(plan.product_ref),
                target_markets=plan.target_markets,
            )
        except ApiError as exc:
            if exc.status_code != 409:
                raise
            product_row = find_product(state, principal.org_id, plan.product_ref)
    version_row = plan.version
    if version_row is None:
        try:
            version_row = create_version(
                state,
                principal.org_id,
                product_row,
                number=plan.version_number,
                release_state=plan.release_state,
                environment=environment,
            )
        except ApiError as exc:
            found = find_version_by_number(state, product_row, plan.version_number)
            if exc.status_code != 409 or found is None:
                raise
            version_row = found
    return product_row, version_row


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
    plan = _plan_upload(
        state,
        principal,
        product,
        version,
        create_product=_true(create_product_flag),
        create_version=_true(create_version_flag),
        target_markets=target_markets,
        category=category or "default",
        release_state=release_state or "draft",
    )
    if artifact_type == "vex":
        return _upload_vex(state, principal, plan, file, environment)
    prepared = prepare_sbom(
        state,
        source=file.file,
        filename=file.filename or "sbom",
        content_type=file.content_type or "application/octet-stream",
    )
    try:
        product_row, version_row = _carry_out(state, principal, plan, environment)
        row = store_sbom(state, principal.org_id, version_row, prepared)
    except BaseException:
        state.blobs.discard(prepared.staged)
        raise
    parsed = prepared.parsed
    product_created, version_created = plan.product is None, plan.version is None
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


def _upload_vex(
    state: SandboxState,
    principal: Principal,
    plan: _UploadPlan,
    file: UploadFile,
    environment: str | None,
) -> dict[str, Any]:
    """Store a VEX document on the version (statuses are not changed by it)."""
    checked = read_vex(
        state,
        source=file.file,
        filename=file.filename or "vex.json",
        content_type=file.content_type or "application/json",
    )
    product_row, version_row = _carry_out(state, principal, plan, environment)
    vex = store_vex(state, principal.org_id, version_row, checked)
    status = cra_status(state, product_row, version_row)
    created = (plan.product is None, plan.version is None)
    return vex_upload_answer(vex, status, version_row, created)


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
