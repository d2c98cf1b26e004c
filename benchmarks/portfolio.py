"""A benchmark portfolio: N approved versions, `per_product` per product, one small SBOM each."""

import tempfile
from pathlib import Path

from craflow.api import CraEvidenceClient


def write_bom(path: Path, name: str, version: str) -> Path:
    path.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": ['
        f'{{"type": "library", "name": "{name}-lib", "version": "{version}",'
        f' "purl": "pkg:pypi/{name}-lib@{version}"}}]}}',
        encoding="utf-8",
    )
    return path


def build_versions(
    client: CraEvidenceClient, versions: int, per_product: int, *, prefix: str = "bench"
) -> list[tuple[str, str]]:
    """Create the products and approved versions (idempotent per slug); their (slug, number)."""
    work = Path(tempfile.mkdtemp(prefix="craflow-bench-boms-"))
    made: list[tuple[str, str]] = []
    for index in range(versions):
        slug = f"{prefix}-{index // per_product:03d}"
        product = client.find_or_create_product(slug, name=slug)
        number = f"1.{index % per_product}.0"
        version = client.create_version(product.id, number)  # created as draft, then moved
        client.set_release_state(version.id, "approved")
        bom = write_bom(work / f"{slug}-{number}.json", slug, number)
        client.ingest_sbom(version.id, bom, auto_scan=False)
        made.append((slug, number))
    return made
