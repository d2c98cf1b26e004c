"""Release-state transitions (API-CONTRACT.md §4, decided).

Forward moves along draft -> pending_review -> approved -> released -> deprecated
-> end_of_life are allowed, plus pending_review -> draft; other backward moves are
409 CONFLICT; the current state again is a 200 no-op. `released` needs the
release policy to be ready, else 409 RELEASE_BLOCKED, unless `release_anyway`
comes with a reason of the configured length, which is recorded.
"""

import json
import sqlite3

from craflow.sandbox.cra import evaluate
from craflow.sandbox.errors import ApiError, conflict, invalid, not_found
from craflow.sandbox.resources import RELEASE_STATES, find_version_by_number
from craflow.sandbox.state import SandboxState, new_id

_SUPERSEDABLE = ("deprecated", "end_of_life")


def _allowed(current: str, target: str) -> bool:
    order = RELEASE_STATES
    return order.index(target) > order.index(current) or (
        current == "pending_review" and target == "draft"
    )


def set_release_state(
    state: SandboxState,
    org_id: str,
    product: sqlite3.Row,
    version: sqlite3.Row,
    *,
    target: str,
    superseded_by: str | None = None,
    release_anyway: bool = False,
    reason: str | None = None,
) -> tuple[sqlite3.Row, bool]:
    """Apply the move; return the version row and whether a release-anyway was recorded."""
    if target not in RELEASE_STATES:
        raise invalid(f"state must be one of {', '.join(RELEASE_STATES)}")
    current = version["release_state"]
    successor_id: str | None = None
    if superseded_by:
        if target not in _SUPERSEDABLE:
            raise invalid("superseded_by is only allowed with deprecated or end_of_life")
        successor = find_version_by_number(state, product, superseded_by)
        if successor is None:
            raise not_found("Version", superseded_by)
        successor_id = successor["id"]
    audit_ids = {"product_id": product["id"], "version_id": version["id"]}
    if target == current:
        state.audit(
            org_id,
            "release_state.changed",
            {"from": current, "to": target, "noop": True},
            **audit_ids,
        )
        return version, False
    if not _allowed(current, target):
        raise conflict(f"Cannot move release state from {current} back to {target}")
    recorded = False
    if target == "released":
        facts = evaluate(state, version)
        if not facts["policy_ready"]:
            if not release_anyway:
                raise ApiError(
                    409,
                    "RELEASE_BLOCKED",
                    "Release policy not met: "
                    + ", ".join(facts["missing"] + [b["vuln_id"] for b in facts["blockers"]]),
                    {"blockers": facts["blockers"], "cra_missing_items": facts["missing"]},
                )
            low, high = (
                state.settings.release_anyway_min_chars,
                state.settings.release_anyway_max_chars,
            )
            if not reason or not low <= len(reason.strip()) <= high:
                raise invalid(f"release_anyway_reason must be {low} to {high} characters")
            with state.db.tx() as conn:
                conn.execute(
                    "INSERT INTO release_overrides (id, version_id, reason, blockers, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        new_id(),
                        version["id"],
                        reason.strip(),
                        json.dumps(facts["blockers"]),
                        state.now_iso(),
                    ),
                )
            recorded = True
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE versions SET release_state = ?, superseded_by = COALESCE(?, superseded_by),"
            " updated_at = ? WHERE id = ?",
            (target, successor_id, state.now_iso(), version["id"]),
        )
    state.audit(
        org_id,
        "release_state.changed",
        {"from": current, "to": target, "noop": False, "release_anyway": recorded},
        **audit_ids,
    )
    row = state.db.one("SELECT * FROM versions WHERE id = ?", (version["id"],))
    assert row is not None
    return row, recorded
