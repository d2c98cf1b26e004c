"""Release-state transitions (API-CONTRACT.md §4 and §7, decided).

Forward moves along draft -> pending_review -> approved -> released -> deprecated
-> end_of_life are allowed, plus pending_review -> draft; other backward moves are
409 CONFLICT; the current state again is a 200 no-op. `released` needs the
release policy to be ready, else 409 RELEASE_BLOCKED, unless `release_anyway`
comes with a reason of the configured length, which is recorded.

A move is a compare-and-set: the state is read, checked and written in one
write transaction, so of concurrent identical moves exactly one transition
(and at most one override) is recorded and the others answer as if sent after
it (the 200 no-op, or 409 when their move is no longer allowed).
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


def _successor_id(
    state: SandboxState,
    product: sqlite3.Row,
    version: sqlite3.Row,
    target: str,
    superseded_by: str | None,
) -> str | None:
    if not superseded_by:
        return None
    if target not in _SUPERSEDABLE:
        raise invalid("superseded_by is only allowed with deprecated or end_of_life")
    successor = find_version_by_number(state, product, superseded_by)
    if successor is None:
        raise not_found("Version", superseded_by)
    if successor["id"] == version["id"]:
        raise invalid("A version cannot be superseded by itself")
    successor_id: str = successor["id"]
    return successor_id


def _override(
    state: SandboxState,
    conn: sqlite3.Connection,
    version: sqlite3.Row,
    *,
    release_anyway: bool,
    reason: str | None,
) -> bool:
    """Check the release policy; record a release-anyway when it is needed and allowed."""
    facts = evaluate(state, version)
    if facts["policy_ready"]:
        return False
    if not release_anyway:
        raise ApiError(
            409,
            "RELEASE_BLOCKED",
            "Release policy not met: "
            + ", ".join(facts["missing"] + [b["vuln_id"] for b in facts["blockers"]]),
            {"blockers": facts["blockers"], "cra_missing_items": facts["missing"]},
        )
    low, high = state.settings.release_anyway_min_chars, state.settings.release_anyway_max_chars
    if not reason or not low <= len(reason.strip()) <= high:
        raise invalid(f"release_anyway_reason must be {low} to {high} characters")
    conn.execute(
        "INSERT INTO release_overrides (id, version_id, reason, blockers, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (new_id(), version["id"], reason.strip(), json.dumps(facts["blockers"]), state.now_iso()),
    )
    return True


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
    """Apply the move atomically; return the version row and whether an override was recorded."""
    if target not in RELEASE_STATES:
        raise invalid(f"state must be one of {', '.join(RELEASE_STATES)}")
    successor_id = _successor_id(state, product, version, target, superseded_by)
    ids = {"product_id": product["id"], "version_id": version["id"]}
    with state.db.tx() as conn:
        fresh = conn.execute("SELECT * FROM versions WHERE id = ?", (version["id"],)).fetchone()
        if fresh is None:
            raise not_found("Version", version["id"])
        current = fresh["release_state"]
        if target == current:
            details = {"from": current, "to": target, "noop": True}
            state.audit_in(conn, org_id, "release_state.changed", details, **ids)
            return fresh, False
        if not _allowed(current, target):
            raise conflict(f"Cannot move release state from {current} back to {target}")
        recorded = target == "released" and _override(
            state, conn, fresh, release_anyway=release_anyway, reason=reason
        )
        changed = conn.execute(
            "UPDATE versions SET release_state = ?, superseded_by = COALESCE(?, superseded_by),"
            " updated_at = ? WHERE id = ? AND release_state = ?",
            (target, successor_id, state.now_iso(), version["id"], current),
        ).rowcount
        if changed != 1:
            raise conflict("The release state changed meanwhile; read it and retry")
        details = {"from": current, "to": target, "noop": False, "release_anyway": recorded}
        state.audit_in(conn, org_id, "release_state.changed", details, **ids)
        row = conn.execute("SELECT * FROM versions WHERE id = ?", (version["id"],)).fetchone()
    assert row is not None
    return row, recorded
