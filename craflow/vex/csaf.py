"""CSAF 2.0, profile `csaf_vex`: build it from findings (validated by the official schema), read it.

Written: `product_tree.full_product_names` holds one product per affected component
(`product_identification_helper.purl`); one `vulnerabilities[]` entry per vulnerability
id with `cve` (when a CVE id is known), `ids`, a note, `product_status`, and the
statements the profile asks for: `flags` (the justification) and an `impact` threat for
known_not_affected, a `no_fix_planned` remediation for known_affected (and a `vendor_fix`
remediation carrying the note of a fixed finding).
Read: the same fields; product ids resolve through full_product_names, branches
(bounded depth) and relationships.
"""

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from craflow.vex.mapping import CSAF_STATUS, from_csaf, hint_text, strip_hint
from craflow.vex.model import Finding, Skipped, Statement, Subject, collect

_CVE = re.compile(r"^CVE-[0-9]{4}-[0-9]{4,}$")
_MAX_BRANCH_DEPTH = 30
_PRODUCT_STATUS_KEYS = (
    "fixed",
    "first_fixed",
    "known_affected",
    "first_affected",
    "last_affected",
    "known_not_affected",
    "under_investigation",
)


def _system(vuln_id: str) -> str:
    return {"GHSA": "GitHub Security Advisories", "PYSEC": "PyPI Advisory Database"}.get(
        vuln_id.split("-", 1)[0].upper(), "OSV"
    )


def _products(findings: list[Finding]) -> dict[str, dict[str, Any]]:
    """Product id by component key (purl or name@version), in first-seen order."""
    products: dict[str, dict[str, Any]] = {}
    for finding in findings:
        key = finding.purl or f"{finding.component_name}@{finding.component_version}"
        if key in products:
            continue
        product: dict[str, Any] = {
            "name": f"{finding.component_name} {finding.component_version}".strip() or key,
            "product_id": f"CSAFPID-{len(products) + 1:04d}",
        }
        if finding.purl:
            product["product_identification_helper"] = {"purl": finding.purl}
        products[key] = product
    return products


def _vulnerability(vuln_id: str, group: list[tuple[Finding, str]]) -> dict[str, Any]:
    ids = list(dict.fromkeys([vuln_id, *(a for f, _ in group for a in f.aliases)]))
    cve = next((i for i in ids if _CVE.match(i)), None)
    entry: dict[str, Any] = {}
    if cve is not None:
        entry["cve"] = cve
    others = [i for i in ids if i != cve]
    if others:
        entry["ids"] = [{"system_name": _system(i), "text": i} for i in others]
    entry["notes"] = [{"category": "description", "text": f"Triage of {vuln_id} by craflow."}]
    status: dict[str, list[str]] = {}
    flags: dict[str, list[str]] = {}
    threats: list[dict[str, Any]] = []
    remediations: list[dict[str, Any]] = []
    for finding, pid in group:
        status.setdefault(CSAF_STATUS[finding.status], []).append(pid)
        if finding.justification and finding.status in ("not_affected", "false_positive"):
            flags.setdefault(finding.justification, []).append(pid)
        details = hint_text(finding.status, finding.notes)
        if finding.status in ("not_affected", "false_positive"):
            threats.append({"category": "impact", "details": details, "product_ids": [pid]})
        remedy = {"accepted_risk": "no_fix_planned", "wont_fix": "no_fix_planned"}.get(
            finding.status, "vendor_fix" if finding.status == "fixed" else None
        )
        if remedy is not None:
            remediations.append({"category": remedy, "details": details, "product_ids": [pid]})
    entry["product_status"] = status
    if flags:
        entry["flags"] = [{"label": j, "product_ids": p} for j, p in flags.items()]
    if threats:
        entry["threats"] = threats
    if remediations:
        entry["remediations"] = remediations
    return entry


def build_csaf(findings: Iterable[Finding], subject: Subject) -> dict[str, Any]:
    """The CSAF 2.0 `csaf_vex` document of *findings*, as parsed JSON."""
    findings = list(findings)
    products = _products(findings)
    groups: dict[str, list[tuple[Finding, str]]] = {}
    for finding in findings:
        key = finding.purl or f"{finding.component_name}@{finding.component_version}"
        groups.setdefault(finding.vuln_id, []).append((finding, products[key]["product_id"]))
    ts = subject.timestamp
    tracking_id = re.sub(
        r"[^A-Za-z0-9._-]+", "-", f"craflow-vex-{subject.product}-{subject.version}"
    )
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": subject.author, "namespace": "urn:craflow"},
            "title": f"VEX for {subject.product} {subject.version}",
            "tracking": {
                "current_release_date": ts,
                "generator": {"engine": {"name": "craflow"}},
                "id": tracking_id,
                "initial_release_date": ts,
                "revision_history": [{"date": ts, "number": "1", "summary": "Written by craflow"}],
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": {"full_product_names": list(products.values())},
        "vulnerabilities": [_vulnerability(v, g) for v, g in groups.items()],
    }


def _walk_branches(branches: object, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    if depth > _MAX_BRANCH_DEPTH or not isinstance(branches, list):
        return
    for branch in branches:
        if not isinstance(branch, dict):
            continue
        if isinstance(branch.get("product"), dict):
            yield branch["product"]
        yield from _walk_branches(branch.get("branches"), depth + 1)


def _product_index(tree: object) -> dict[str, tuple[str | None, str]]:
    """(purl, name) by product id, from every place CSAF puts a full product name."""
    if not isinstance(tree, dict):
        return {}
    names = list(tree.get("full_product_names") or []) + list(_walk_branches(tree.get("branches")))
    names += [
        r.get("full_product_name") for r in tree.get("relationships") or [] if isinstance(r, dict)
    ]
    index: dict[str, tuple[str | None, str]] = {}
    for product in names:
        if not isinstance(product, dict) or not isinstance(product.get("product_id"), str):
            continue
        helper = product.get("product_identification_helper")
        purl = helper.get("purl") if isinstance(helper, dict) else None
        index[product["product_id"]] = (
            purl if isinstance(purl, str) else None,
            str(product.get("name") or product["product_id"]),
        )
    return index


def _per_product(items: object, key: str, wanted: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or (wanted and item.get("category") != wanted):
            continue
        for pid in item.get("product_ids") or []:
            if isinstance(pid, str):
                found.setdefault(pid, item.get(key))
    return found


def _ids(vuln: Mapping[str, Any]) -> list[str]:
    ids = [vuln["cve"]] if isinstance(vuln.get("cve"), str) else []
    ids += [
        i["text"]
        for i in vuln.get("ids") or []
        if isinstance(i, dict) and isinstance(i.get("text"), str)
    ]
    return ids


def _details(
    key: str,
    pid: str,
    threats: dict[str, object],
    no_fix: dict[str, object],
    fixes: dict[str, object],
) -> object:
    """The free text that goes with *pid*'s status (impact, no-fix or fix details)."""
    if "not_affected" in key:
        return threats.get(pid)
    if "fixed" in key:
        return fixes.get(pid)
    return no_fix.get(pid) if "affected" in key else None


def read_csaf(doc: Mapping[str, Any]) -> tuple[list[Statement], list[Skipped]]:
    """Statements of a parsed CSAF VEX document (one per vulnerability and product)."""
    index = _product_index(doc.get("product_tree"))
    statements: list[Statement] = []
    skipped: list[Skipped] = []
    for vuln in doc.get("vulnerabilities") or []:
        ids = _ids(vuln) if isinstance(vuln, dict) else []
        if not ids:
            skipped.append(Skipped("?", "?", "a vulnerability without cve or ids"))
            continue
        flags = _per_product(vuln.get("flags"), "label")
        threats = _per_product(vuln.get("threats"), "details", "impact")
        no_fix = _per_product(vuln.get("remediations"), "details", "no_fix_planned")
        fixes = _per_product(vuln.get("remediations"), "details", "vendor_fix")
        product_status = vuln.get("product_status")
        for key in _PRODUCT_STATUS_KEYS:
            pids = product_status.get(key) if isinstance(product_status, dict) else None
            for pid in pids if isinstance(pids, list) else []:
                if not isinstance(pid, str):
                    continue
                purl, name = index.get(pid, (None, str(pid)))
                details = _details(key, pid, threats, no_fix, fixes)
                mapped = from_csaf(key, flags.get(pid), details)
                collect(
                    (statements, skipped),
                    (mapped.status, mapped.justification, mapped.reason),
                    vuln_id=ids[0],
                    purl=purl,
                    label=name,
                    aliases=tuple(ids[1:]),
                    note=strip_hint(details),
                )
    return statements, skipped
