"""Background scans: `pending -> running -> completed` after `scan_seconds`, or `failed`.

One daemon thread moves scans along. Scan faults (set through `/_sandbox/scan-faults`)
make a product's (or one version's) scans fail with a reason, or hang in `running`.
Findings keep their triage status across rescans: a finding is keyed by
(version, vulnerability id, component without version) and only marked inactive
when a later scan no longer sees it.
"""

import json
import sqlite3
import threading
from typing import Any

from craflow.sandbox.errors import invalid
from craflow.sandbox.matching import Finding
from craflow.sandbox.sbom_parse import Component
from craflow.sandbox.state import SandboxState, new_id

_NEVER = 1e18


def component_key(component: Component) -> str:
    if component.purl:
        return component.purl.split("?")[0].split("#")[0].rsplit("@", 1)[0]
    return component.name


def trigger_scan(state: SandboxState, org_id: str, version: sqlite3.Row) -> dict[str, Any]:
    sbom = state.db.one(
        "SELECT id FROM sboms WHERE version_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        (version["id"],),
    )
    if sbom is None:
        raise invalid(f"Version {version['version_number']} has no SBOM to scan")
    scan_id = new_id()
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO scans (id, org_id, version_id, sbom_id, status, due_at, created_at)"
            " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            (
                scan_id,
                org_id,
                version["id"],
                sbom["id"],
                state.clock() + state.settings.scan_seconds,
                state.now_iso(),
            ),
        )
    state.vulndb.load_in_background()  # overlaps the first load with the scan's delay
    state.audit(
        org_id,
        "scan.triggered",
        {"scan_id": scan_id},
        product_id=version["product_id"],
        version_id=version["id"],
    )
    state.wake_scans()
    return {"scan_id": scan_id, "status": "pending"}


def _fault_for(state: SandboxState, scan: sqlite3.Row) -> sqlite3.Row | None:
    version = state.db.one("SELECT * FROM versions WHERE id = ?", (scan["version_id"],))
    if version is None:
        return None
    return state.db.one(
        "SELECT * FROM scan_faults WHERE org_id = ? AND product_id = ?"
        " AND version_number IN (?, '*') ORDER BY version_number = '*' LIMIT 1",
        (scan["org_id"], version["product_id"], version["version_number"]),
    )


def _store_findings(state: SandboxState, scan: sqlite3.Row, findings: list[Finding]) -> None:
    now = state.now_iso()
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE vulnerabilities SET active = 0 WHERE version_id = ?", (scan["version_id"],)
        )
        for f in findings:
            key = component_key(f.component)
            values = (
                json.dumps(list(f.aliases)),
                f.summary,
                f.severity,
                f.cvss_score,
                int(f.kev),
                f.component.name,
                f.component.version,
                f.component.purl,
                json.dumps(list(f.fixed_versions)),
                now,
            )
            updated = conn.execute(
                "UPDATE vulnerabilities SET aliases = ?, summary = ?, severity = ?,"
                " cvss_score = ?, kev = ?, comp_name = ?, comp_version = ?, comp_purl = ?,"
                " fixed_versions = ?, updated_at = ?, active = 1"
                " WHERE version_id = ? AND vuln_id = ? AND component_key = ?",
                (*values, scan["version_id"], f.vuln_id, key),
            ).rowcount
            if not updated:
                conn.execute(
                    "INSERT INTO vulnerabilities (aliases, summary, severity, cvss_score, kev,"
                    " comp_name, comp_version, comp_purl, fixed_versions, updated_at, id, org_id,"
                    " version_id, vuln_id, component_key, status, active, first_seen_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 1, ?)",
                    (*values, new_id(), scan["org_id"], scan["version_id"], f.vuln_id, key, now),
                )
        conn.execute(
            "UPDATE scans SET status = 'completed', finished_at = ? WHERE id = ?",
            (now, scan["id"]),
        )


def run_scan(state: SandboxState, scan: sqlite3.Row) -> None:
    """Finish one due scan: fail, hang or match, according to the faults in force."""
    fault = _fault_for(state, scan)
    if fault is not None and fault["mode"] == "hang":
        with state.db.tx() as conn:
            conn.execute("UPDATE scans SET due_at = ? WHERE id = ?", (_NEVER, scan["id"]))
        return
    if fault is not None and fault["mode"] == "fail":
        _finish_failed(state, scan, fault["reason"] or "scan failed (injected fault)")
        return
    sbom = state.db.one("SELECT components FROM sboms WHERE id = ?", (scan["sbom_id"],))
    if sbom is None:
        _finish_failed(state, scan, "the SBOM of this scan no longer exists")
        return
    components = [Component(**c) for c in json.loads(sbom["components"])]
    try:
        findings = state.vulndb.match(components)
    except RuntimeError as exc:
        _finish_failed(state, scan, str(exc))
        return
    _store_findings(state, scan, findings)


def _finish_failed(state: SandboxState, scan: sqlite3.Row, reason: str) -> None:
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE scans SET status = 'failed', reason = ?, finished_at = ? WHERE id = ?",
            (reason, state.now_iso(), scan["id"]),
        )


class ScanEngine:
    """The daemon thread that moves scans through their states."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._cond = threading.Condition()
        self._stopping = False
        self._woken = False
        self._thread = threading.Thread(target=self._loop, name="sandbox-scans", daemon=True)
        state.wake_scans = self.wake

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify()

    def stop(self, timeout: float) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def step(self) -> float | None:
        """Advance every scan once; return seconds until the next one is due (None: idle)."""
        db = self._state.db
        with db.tx() as conn:
            conn.execute("UPDATE scans SET status = 'running' WHERE status = 'pending'")
        now = self._state.clock()
        for scan in db.all("SELECT * FROM scans WHERE status = 'running' AND due_at <= ?", (now,)):
            run_scan(self._state, scan)
        nxt = db.one("SELECT MIN(due_at) AS due FROM scans WHERE status = 'running'")
        if nxt is None or nxt["due"] is None or nxt["due"] >= _NEVER:
            return None
        return max(float(nxt["due"]) - self._state.clock(), 0.0)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._woken = False
            try:
                wait = self.step()
            except sqlite3.ProgrammingError:
                return  # the database was closed under us: the server is stopping
            with self._cond:
                if self._stopping:
                    return
                if not self._woken:
                    self._cond.wait(None if wait is None else max(wait, 0.001))
