"""Tasks that read a version's vulnerabilities and compare two versions."""

from craflow.api import Comparison, Vulnerability
from tasks.client import current_client
from tasks.retry import api_task


@api_task(name="list-vulnerabilities")
def list_vulnerabilities(version_id: str, page_size: int = 100) -> list[Vulnerability]:
    """Every vulnerability recorded on the version (any status; the gate filters)."""
    return list(current_client().list_vulnerabilities(version_id=version_id, per_page=page_size))


@api_task(name="compare-versions")
def compare_versions(base_version_id: str, target_version_id: str) -> Comparison:
    """The component and vulnerability diff from *base* to *target*."""
    return current_client().compare_versions(base_version_id, target_version_id)
