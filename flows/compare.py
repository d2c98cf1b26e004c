"""Compare two versions of a product: components added, removed, changed; vulns new and fixed."""

from prefect import flow

from config.release import ReleaseSettings
from craflow.api.models import Comparison
from craflow.release.comparison import comparison_markdown, comparison_rows
from craflow.release.request import CompareRequest
from tasks.artifacts import artifact_key, publish_markdown, publish_table
from tasks.client import resolve_api_settings, run_client
from tasks.retry import with_retries
from tasks.sweep import locate_version_task
from tasks.vulnerabilities import compare_versions


@flow(name="compare", flow_run_name="compare-{product}-{base}-{target}")
def compare_flow(product: str, base: str, target: str) -> Comparison:
    """Ask the API for the comparison of *base* → *target* and publish it as artifacts."""
    request = CompareRequest.build(product=product, base=base, target=target)
    settings = ReleaseSettings()
    locate = with_retries(locate_version_task, settings)
    with run_client(resolve_api_settings(settings.secret_block_name)):
        a = locate(request.product, request.base)
        b = locate(request.product, request.target)
        comparison = with_retries(compare_versions, settings)(a.version_id, b.version_id)
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
