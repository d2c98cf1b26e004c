"""Compare two versions of a product: components added, removed, changed; vulns new and fixed."""

from prefect import flow

from config.release import ReleaseSettings
from craflow.api.models import Comparison
from craflow.sweep.comparison import comparison_markdown, comparison_rows
from tasks.artifacts import artifact_key, publish_markdown, publish_table
from tasks.client import resolve_api_settings, run_client
from tasks.sweep import locate_version_task
from tasks.vulnerabilities import compare_versions


@flow(name="compare", flow_run_name="compare-{product}-{base}-{target}")
def compare_flow(product: str, base: str, target: str) -> Comparison:
    """Ask the API for the comparison of *base* → *target* and publish it as artifacts."""
    with run_client(resolve_api_settings(ReleaseSettings().secret_block_name)):
        a = locate_version_task(product, base)
        b = locate_version_task(product, target)
        comparison = compare_versions(a.version_id, b.version_id)
    key = artifact_key("compare", product, base, target)
    title = f"{product}: {base} → {target}"
    rows: list[dict[str, object]] = [dict(row) for row in comparison_rows(comparison)]
    publish_table(key, rows, title)
    publish_markdown(
        f"{key}-summary",
        comparison_markdown(comparison, product=product, base=base, target=target),
        title,
    )
    return comparison
