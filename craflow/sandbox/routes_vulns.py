"""`/vulnerabilities`: list with filters, read one, triage (status and notes)."""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from craflow.sandbox.cra import vulnerability_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import check_notes, invalid, not_found
from craflow.sandbox.resources import envelope, page_params

router = APIRouter(tags=["vulnerabilities"])

STATUSES = (
    "open",
    "in_progress",
    "fixed",
    "not_affected",
    "false_positive",
    "accepted_risk",
    "wont_fix",
)


class TriageBody(BaseModel):
    status: str | None = None
    notes: str | None = None


@router.get("/vulnerabilities")
def list_vulnerabilities(
    *,
    principal: PrincipalDep,
    state: StateDep,
    version_id: str | None = None,
    product_id: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    kev: bool | None = None,
    page: int | None = None,
    per_page: int | None = None,
) -> dict[str, Any]:
    principal.require("vuln:read")
    p, k = page_params(state, page, per_page)
    where = ["v.org_id = ?", "v.active = 1"]
    params: list[Any] = [principal.org_id]
    for column, value in (
        ("v.version_id", version_id),
        ("ver.product_id", product_id),
        ("v.severity", severity),
        ("v.status", status),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if kev is not None:
        where.append("v.kev = ?")
        params.append(int(kev))
    sql = "FROM vulnerabilities v JOIN versions ver ON ver.id = v.version_id WHERE " + " AND ".join(
        where
    )
    total_row = state.db.one(f"SELECT COUNT(*) AS n {sql}", params)
    rows = state.db.all(
        f"SELECT v.* {sql} ORDER BY v.vuln_id, v.id LIMIT ? OFFSET ?", [*params, k, (p - 1) * k]
    )
    total = total_row["n"] if total_row else 0
    return envelope([vulnerability_dict(r) for r in rows], total, p, k)


@router.get("/vulnerabilities/{vuln_id}")
def get_vulnerability(vuln_id: str, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("vuln:read")
    row = state.db.one(
        "SELECT * FROM vulnerabilities WHERE id = ? AND org_id = ?", (vuln_id, principal.org_id)
    )
    if row is None:
        raise not_found("Vulnerability", vuln_id)
    return vulnerability_dict(row)


@router.patch("/vulnerabilities/{vuln_id}")
def triage(
    vuln_id: str, body: TriageBody, principal: PrincipalDep, state: StateDep
) -> dict[str, Any]:
    principal.require("vuln:write")
    if body.status is not None and body.status not in STATUSES:
        raise invalid(f"status must be one of {', '.join(STATUSES)}")
    check_notes(state, body.notes)
    row = state.db.one(
        "SELECT * FROM vulnerabilities WHERE id = ? AND org_id = ?", (vuln_id, principal.org_id)
    )
    if row is None:
        raise not_found("Vulnerability", vuln_id)
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE vulnerabilities SET status = COALESCE(?, status), notes = COALESCE(?, notes),"
            " updated_at = ? WHERE id = ?",
            (body.status, body.notes, state.now_iso(), vuln_id),
        )
    updated = state.db.one("SELECT * FROM vulnerabilities WHERE id = ?", (vuln_id,))
    assert updated is not None
    return vulnerability_dict(updated)
