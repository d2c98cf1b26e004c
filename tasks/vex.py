"""Thin tasks of the VEX layer in a release run: carry triage forward, write and upload VEX.

The work is `craflow.vex` (no Prefect); these tasks only fetch the run's client and
hand it over, so the release flow and the commands run the same code.
"""

import json
from pathlib import Path

from prefect import get_run_logger

from craflow.api import ApiError
from craflow.boundary import one_line
from craflow.vex.carry import CarryResult, compute_carry
from craflow.vex.model import Subject
from craflow.vex.platform import apply_carry, load_findings, upload_vex
from craflow.vex.writer import render_vex
from tasks.client import current_client
from tasks.retry import api_task

VEX_FILE_NAME = "vex.cdx.json"
#: what a server answers to `artifact_type=vex` when it does not take VEX documents
_NOT_ACCEPTED = frozenset({400, 404, 405})


@api_task(name="carry-triage")
def carry_triage(previous_version_id: str, version_id: str, from_version: str) -> CarryResult:
    """Carry the triage of *from_version* to unchanged components of the version; apply it.

    Safe to repeat: a finding carried once is triaged, so a retry leaves it untouched.
    """
    client = current_client()
    previous = load_findings(client, previous_version_id)
    current = load_findings(client, version_id)
    result = compute_carry(previous, current, from_version=from_version)
    apply_carry(client, result)
    return result


@api_task(name="write-vex")
def write_version_vex(version_id: str, subject: Subject, folder: Path) -> Path:
    """The version's triage as a CycloneDX 1.6 VEX document (schema-validated) in *folder*."""
    data = render_vex(load_findings(current_client(), version_id), subject, "cyclonedx")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / VEX_FILE_NAME
    target.write_bytes(data)
    return target


@api_task(name="upload-vex")
def upload_version_vex(product: str, version_number: str, path: Path) -> str | None:
    """Store the VEX document on the version as a `vex` artifact; None (and a warning)
    when the server does not accept one (400/404/405). A document without statements (a
    version with no findings) says nothing a server could take: archived, not uploaded."""
    if not json.loads(path.read_bytes()).get("vulnerabilities"):
        get_run_logger().info("VEX not uploaded: no vulnerability to state (archived only)")
        return None
    try:
        upload = upload_vex(current_client(), product, version_number, path)
    except ApiError as exc:
        if exc.status not in _NOT_ACCEPTED:
            raise
        get_run_logger().warning(
            "VEX not uploaded: the server does not accept artifact_type=vex (%s)", one_line(exc)
        )
        return None
    return upload.artifact_id or "uploaded"


__all__ = ["VEX_FILE_NAME", "carry_triage", "upload_version_vex", "write_version_vex"]
