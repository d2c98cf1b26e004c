"""Version comparison (API-CONTRACT.md §4): components keyed by purl without version."""

import json
import sqlite3
from typing import Any

from craflow.sandbox.cra import cra_status_word, latest_sbom
from craflow.sandbox.sbom_parse import Component
from craflow.sandbox.scans import component_key
from craflow.sandbox.state import SandboxState


def _components(state: SandboxState, version_id: str) -> dict[str, Component]:
    sbom = latest_sbom(state, version_id)
    if sbom is None:
        return {}
    parts = [Component(**c) for c in json.loads(sbom["components"])]
    return {component_key(c): c for c in parts}


def _vuln_ids(state: SandboxState, version_id: str) -> set[str]:
    rows = state.db.all(
        "SELECT DISTINCT vuln_id FROM vulnerabilities WHERE version_id = ? AND active = 1",
        (version_id,),
    )
    return {r["vuln_id"] for r in rows}


def _brief(state: SandboxState, version: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": version["id"],
        "number": version["version_number"],
        "cra_status": cra_status_word(state, version),
        "release_state": version["release_state"],
    }


def _entry(component: Component) -> dict[str, Any]:
    return {"name": component.name, "version": component.version, "purl": component.purl}


def compare_versions(
    state: SandboxState, product: sqlite3.Row, base: sqlite3.Row, target: sqlite3.Row
) -> dict[str, Any]:
    a, b = _components(state, base["id"]), _components(state, target["id"])
    added = [_entry(b[k]) for k in sorted(b.keys() - a.keys())]
    removed = [_entry(a[k]) for k in sorted(a.keys() - b.keys())]
    modified = [
        {
            "name": b[k].name,
            "purl": b[k].purl,
            "old_version": a[k].version,
            "new_version": b[k].version,
        }
        for k in sorted(a.keys() & b.keys())
        if a[k].version != b[k].version
    ]
    unchanged = len(a.keys() & b.keys()) - len(modified)
    va, vb = _vuln_ids(state, base["id"]), _vuln_ids(state, target["id"])
    return {
        "product": {"id": product["id"], "name": product["name"], "slug": product["slug"]},
        "version_a": _brief(state, base),
        "version_b": _brief(state, target),
        "summary": {
            "added": len(added),
            "removed": len(removed),
            "modified": len(modified),
            "unchanged": unchanged,
        },
        "changes": {"added": added, "removed": removed, "modified": modified},
        "vulnerability_diff": {
            "new": len(vb - va),
            "fixed": len(va - vb),
            "new_ids": sorted(vb - va),
            "fixed_ids": sorted(va - vb),
        },
    }
