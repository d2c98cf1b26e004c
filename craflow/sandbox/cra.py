"""CRA status of a version, exactly as API-CONTRACT.md §4 decides.

Floor ready <=> an SBOM exists, the last scan completed, and no open KEV-listed
vulnerability. Release policy ready <=> floor ready and no open critical
vulnerability. `cra_status` is "ready" when both are, else "incomplete".
Only findings in `open` or `in_progress` count (summary, KEV count, blockers).
"""

import json
import sqlite3
from typing import Any

from craflow.sandbox.state import SandboxState

COUNTING_STATUSES = ("open", "in_progress")
SEVERITIES = ("critical", "high", "medium", "low")


def latest_sbom(state: SandboxState, version_id: str) -> sqlite3.Row | None:
    return state.db.one(
        "SELECT * FROM sboms WHERE version_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (version_id,),
    )


def latest_scan(state: SandboxState, version_id: str) -> sqlite3.Row | None:
    return state.db.one(
        "SELECT * FROM scans WHERE version_id = ? ORDER BY rowid DESC LIMIT 1", (version_id,)
    )


def counting_findings(state: SandboxState, version_id: str) -> list[sqlite3.Row]:
    return state.db.all(
        "SELECT * FROM vulnerabilities WHERE version_id = ? AND active = 1"
        " AND status IN ('open', 'in_progress') ORDER BY vuln_id",
        (version_id,),
    )


def vulnerability_summary(rows: list[sqlite3.Row]) -> dict[str, int]:
    summary = {s: sum(1 for r in rows if r["severity"] == s) for s in SEVERITIES}
    summary["total"] = len(rows)
    return summary


def evaluate(state: SandboxState, version: sqlite3.Row) -> dict[str, Any]:
    """The pieces of the CRA status that decisions (gates, release) need."""
    sbom = latest_sbom(state, version["id"])
    scan = latest_scan(state, version["id"])
    rows = counting_findings(state, version["id"])
    scan_completed = scan is not None and scan["status"] == "completed"
    kev_rows = [r for r in rows if r["kev"]] if scan_completed else []
    critical_rows = [r for r in rows if r["severity"] == "critical"] if scan_completed else []
    missing: list[str] = []
    if sbom is None:
        missing.append("sbom")
    if not scan_completed:
        missing.append("vulnerability_scan")
    if kev_rows:
        missing.append("open_kev_vulnerabilities")
    floor_ready = not missing
    policy_ready = floor_ready and not critical_rows
    blockers = [
        {"source": "cra_required", "vuln_id": r["vuln_id"], "reason": "listed in CISA KEV"}
        for r in kev_rows
    ] + [
        {"source": "default_policy", "vuln_id": r["vuln_id"], "reason": "critical severity"}
        for r in critical_rows
    ]
    return {
        "sbom": sbom,
        "scan": scan,
        "rows": rows if scan_completed else [],
        "floor_ready": floor_ready,
        "policy_ready": policy_ready,
        "missing": missing,
        "blockers": blockers,
    }


def cra_status_word(state: SandboxState, version: sqlite3.Row) -> str:
    facts = evaluate(state, version)
    return "ready" if facts["floor_ready"] and facts["policy_ready"] else "incomplete"


def version_dict(state: SandboxState, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "product_id": row["product_id"],
        "version_number": row["version_number"],
        "release_state": row["release_state"],
        "cra_status": cra_status_word(state, row),
        "superseded_by": row["superseded_by"],
        "environment": row["environment"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def cra_status(state: SandboxState, product: sqlite3.Row, version: sqlite3.Row) -> dict[str, Any]:
    facts = evaluate(state, version)
    ready = facts["floor_ready"] and facts["policy_ready"]
    word = "ready" if ready else "incomplete"
    sbom = facts["sbom"]
    scan = facts["scan"]
    rows = facts["rows"]
    return {
        "product": {"id": product["id"], "name": product["name"], "slug": product["slug"]},
        "version": {
            "id": version["id"],
            "number": version["version_number"],
            "cra_status": word,
            "release_state": version["release_state"],
        },
        "cra_status": word,
        "cra_floor_status": "ready" if facts["floor_ready"] else "incomplete",
        "release_policy_status": "ready" if facts["policy_ready"] else "incomplete",
        "release_state": version["release_state"],
        "scan_state": scan["status"] if scan is not None else "none",
        "scan_failure_reason": scan["reason"] if scan is not None else None,
        "sbom": None
        if sbom is None
        else {
            "format": sbom["format"],
            "component_count": sbom["component_count"],
            "quality_score": sbom["quality_score"],
        },
        "vulnerability_summary": vulnerability_summary(rows),
        "kev_count": sum(1 for r in rows if r["kev"]),
        "documents": {
            "sbom": sbom is not None,
            "vulnerability_report": bool(rows)
            or (scan is not None and scan["status"] == "completed"),
        },
        "cra_missing_items": facts["missing"],
        "vuln_blockers": facts["blockers"],
    }


def vulnerability_dict(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "version_id": row["version_id"],
        "vuln_id": row["vuln_id"],
        "aliases": json.loads(row["aliases"]),
        "summary": row["summary"],
        "severity": row["severity"],
        "cvss_score": row["cvss_score"],
        "kev": bool(row["kev"]),
        "component": {
            "name": row["comp_name"],
            "version": row["comp_version"],
            "purl": row["comp_purl"],
        },
        "fixed_versions": json.loads(row["fixed_versions"]),
        "status": row["status"],
        "notes": row["notes"],
        "justification": row["justification"],
        "status_changed_at": row["status_changed_at"],
        "first_seen_at": row["first_seen_at"],
        "updated_at": row["updated_at"],
    }
