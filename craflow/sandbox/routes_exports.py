"""Technical-file ZIP (both documented paths) and the compliance report of an SBOM."""

from fastapi import APIRouter, Response

from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import not_found
from craflow.sandbox.exports import compliance_report, technical_file
from craflow.sandbox.routes_sboms import version_with_product

router = APIRouter(tags=["exports"])


def zip_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/versions/{version_id}/export", response_class=Response)
def export_version(version_id: str, principal: PrincipalDep, state: StateDep) -> Response:
    principal.require("export:read")
    product, version = version_with_product(state, principal.org_id, version_id)
    return zip_response(*technical_file(state, product, version))


@router.get("/exports/versions/{version_id}/technical-file", response_class=Response)
def export_technical_file(version_id: str, principal: PrincipalDep, state: StateDep) -> Response:
    return export_version(version_id, principal, state)


@router.get("/exports/sboms/{sbom_id}/compliance-report", response_class=Response)
def export_report(
    sbom_id: str, principal: PrincipalDep, state: StateDep, format: str = "pdf"
) -> Response:
    principal.require("export:read")
    sbom = state.db.one(
        "SELECT * FROM sboms WHERE id = ? AND org_id = ?", (sbom_id, principal.org_id)
    )
    if sbom is None:
        raise not_found("Sbom", sbom_id)
    data, media_type = compliance_report(state, sbom, format)
    return Response(data, media_type=media_type)
