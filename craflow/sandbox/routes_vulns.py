"""`/vulnerabilities`: list with filters, read one, triage (status, justification, notes)."""

import sqlite3
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from craflow.sandbox.cra import vulnerability_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import ApiError, check_notes, invalid, not_found
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

#: The OpenVEX justification set (API-CONTRACT.md section 7)
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
MAX_NOTES_CHARS = 10_000
_JUSTIFIED = ("not_affected", "false_positive")


class TriageBody(BaseModel):
    status: str | None = None
    notes: str | None = None
    justification: str | None = None


def _unprocessable(detail: str) -> ApiError:
    return ApiError(422, "VALIDATION_ERROR", detail)


def _check_triage(body: TriageBody, row: sqlite3.Row) -> None:
    """422 for a body that would leave the finding in a state section 7 forbids."""
    if body.justification is not None and body.justification not in JUSTIFICATIONS:
        raise _unprocessable(f"justification must be one of {', '.join(JUSTIFICATIONS)}")
    if body.notes is not None and len(body.notes) > MAX_NOTES_CHARS:
        raise _unprocessable(f"notes must be at most {MAX_NOTES_CHARS} characters")
    status = body.status if body.status is not None else row["status"]
    justification = body.justification if body.justification is not None else row["justification"]
    if status == "not_affected" and not justification:
        raise _unprocessable("not_affected needs a justification")


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
    _check_triage(body, row)
    now = state.now_iso()
    status = body.status if body.status is not None else row["status"]
    justification = body.justification if body.justification is not None else row["justification"]
    if status not in _JUSTIFIED:
        justification = None  # a justification explains "not affected" only
    changed_at = now if status != row["status"] else row["status_changed_at"]
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE vulnerabilities SET status = ?, notes = COALESCE(?, notes),"
            " justification = ?, updated_at = ?, status_changed_at = ? WHERE id = ?",
            (status, body.notes, justification, now, changed_at, vuln_id),
        )
    updated = state.db.one("SELECT * FROM vulnerabilities WHERE id = ?", (vuln_id,))
    assert updated is not None
    return vulnerability_dict(updated)
