"""Sandbox-only control endpoints under `/_sandbox` (full-access key of the organisation).

- `POST /_sandbox/osv`: add OSV records to the matcher at once.
- `POST /_sandbox/kev`: add CVE ids to the KEV catalogue at once (from the next scan on).
- `POST /_sandbox/scan-faults`: make a product's (or one version's) scans fail or hang.
- `POST /_sandbox/organisations`: a second tenant, for isolation tests.
- `GET /_sandbox/audit`: the recorded write events.
"""

import json
import re
from typing import Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from craflow.sandbox.deps import FullAccessDep, StateDep
from craflow.sandbox.errors import invalid
from craflow.sandbox.orgs import create_organisation
from craflow.sandbox.resources import find_product, find_version_by_number

router = APIRouter()


class ScanFaultBody(BaseModel):
    product: str
    version: str | None = None
    mode: Literal["fail", "hang", "off"]
    reason: str | None = None


_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,7}$")


class KevBody(BaseModel):
    cve_ids: list[str] = Field(min_length=1, max_length=1000)


class OrganisationBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.post("/osv")
def add_osv(
    principal: FullAccessDep,
    state: StateDep,
    records: dict[str, Any] | list[dict[str, Any]] = Body(),  # noqa: B008 - FastAPI idiom
) -> dict[str, int]:
    items = records if isinstance(records, list) else [records]
    for item in items:
        if not isinstance(item.get("id"), str) or not isinstance(item.get("affected"), list):
            raise invalid("Each OSV record needs an 'id' string and an 'affected' list")
    state.vulndb.wait_ready()
    return {"added": state.vulndb.add(items)}


@router.post("/kev")
def add_kev(body: KevBody, principal: FullAccessDep, state: StateDep) -> dict[str, int]:
    """List CVE ids in the KEV catalogue; findings carry the flag from their next scan."""
    bad = [c for c in body.cve_ids if not _CVE_ID.match(c)]
    if bad:
        raise invalid(f"Not a CVE id: {bad[0][:40]!r}")
    vulndb = state.vulndb
    vulndb.wait_ready()
    with vulndb._lock:  # the matcher has no public KEV writer; this endpoint is sandbox only
        before = len(vulndb._kev)
        vulndb._kev.update(body.cve_ids)
        added = len(vulndb._kev) - before
    return {"added": added}


@router.post("/scan-faults")
def set_scan_fault(
    body: ScanFaultBody, principal: FullAccessDep, state: StateDep
) -> dict[str, Any]:
    product = find_product(state, principal.org_id, body.product)
    number = "*"
    if body.version is not None:
        version = find_version_by_number(state, product, body.version)
        number = version["version_number"] if version is not None else body.version
    with state.db.tx() as conn:
        if body.mode == "off":
            conn.execute(
                "DELETE FROM scan_faults"
                " WHERE org_id = ? AND product_id = ? AND version_number = ?",
                (principal.org_id, product["id"], number),
            )
        else:
            conn.execute(
                "INSERT OR REPLACE INTO scan_faults (org_id, product_id, version_number, mode,"
                " reason) VALUES (?, ?, ?, ?, ?)",
                (principal.org_id, product["id"], number, body.mode, body.reason),
            )
    state.wake_scans()
    return {"product_id": product["id"], "version": body.version, "mode": body.mode}


@router.post("/organisations", status_code=201)
def new_organisation(
    body: OrganisationBody, principal: FullAccessDep, state: StateDep
) -> dict[str, str]:
    seeded = create_organisation(state, body.name)
    return {
        "organisation_id": seeded.organisation_id,
        "api_key": seeded.api_key,
        "owner_email": seeded.owner_email,
        "owner_password": seeded.owner_password,
    }


@router.get("/audit")
def audit(
    principal: FullAccessDep,
    state: StateDep,
    product: str | None = None,
    version: str | None = None,
) -> list[dict[str, Any]]:
    where, params = ["org_id = ?"], [principal.org_id]
    if product is not None:
        product_row = find_product(state, principal.org_id, product)
        where.append("product_id = ?")
        params.append(product_row["id"])
        if version is not None:
            version_row = find_version_by_number(state, product_row, version)
            where.append("version_id = ?")
            params.append(version_row["id"] if version_row is not None else "-")
    rows = state.db.all(
        f"SELECT * FROM audit WHERE {' AND '.join(where)} ORDER BY seq",  # noqa: S608
        params,
    )
    return [
        {
            "seq": r["seq"],
            "event": r["event"],
            "product_id": r["product_id"],
            "version_id": r["version_id"],
            "details": json.loads(r["details"]),
            "created_at": r["created_at"],
        }
        for r in rows
    ]
