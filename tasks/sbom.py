"""The task that obtains the SBOM to release (read a file or URI, or generate one) and scores it."""

from pathlib import Path
from urllib.parse import unquote, urlparse

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from craflow.evidence import fetch_to_path
from craflow.release.errors import ReleaseInputError
from craflow.sbom import generate_sbom, read_sbom, score_document, write_sbom

#: generator kinds the flow refuses: parameters can come from an event, never run its command
UNSAFE_SOURCES = frozenset({"command"})


class SbomFile(BaseModel):
    """A local SBOM file ready to upload, with what the SBOM layer read from it."""

    model_config = ConfigDict(frozen=True)

    path: str
    sha256: str
    size_bytes: int
    format: str
    spec_version: str | None = None
    component_count: int = 0
    generated: bool = False
    origin: str
    quality_score: float


def _local_path(sbom: str, work_dir: Path) -> Path:
    if sbom.startswith("s3://"):
        name = sbom.rstrip("/").rsplit("/", 1)[-1] or "sbom.json"
        return fetch_to_path(sbom, work_dir / "input" / name)
    if sbom.startswith("file://"):
        return Path(unquote(urlparse(sbom).path))
    return Path(sbom)


def _generate(sbom_source: str, work_dir: Path, product: str, version: str) -> Path:
    kind, sep, target = sbom_source.partition(":")
    if not sep or not kind or not target:
        raise ReleaseInputError(
            f"SBOM source must look like KIND:TARGET, e.g. requirements:requirements.txt "
            f"(got {sbom_source!r})"
        )
    if kind in UNSAFE_SOURCES:
        raise ReleaseInputError(
            f"SBOM source {kind!r} runs a command; the release flow (which events can start) "
            "does not allow it: generate the SBOM first and pass it with --sbom"
        )
    bom = generate_sbom(kind, target, product=product, version=version, reproducible=True)
    return write_sbom(bom, work_dir / "generated" / f"{product}-{version}.cdx.json")


@task(name="obtain-sbom", cache_policy=NO_CACHE)
def obtain_sbom(
    sbom: str | None, sbom_source: str | None, product: str, version: str, work_dir: Path
) -> SbomFile:
    """Read *sbom* (path, file:// or s3:// URI) or generate one from *sbom_source*.

    The SBOM is also scored against the BSI TR-03183 profile (informational; no gate).
    """
    if (sbom is None) == (sbom_source is None):
        raise ReleaseInputError("give exactly one of an SBOM file (--sbom) or a source (--from)")
    if sbom is not None:
        path, origin = _local_path(sbom, work_dir), sbom
    else:
        assert sbom_source is not None
        path, origin = _generate(sbom_source, work_dir, product, version), sbom_source
    document = read_sbom(path)
    return SbomFile(
        path=str(path),
        sha256=document.sha256,
        size_bytes=document.size_bytes,
        format=document.format,
        spec_version=document.spec_version,
        component_count=document.component_count,
        generated=sbom is None,
        origin=origin,
        quality_score=float(score_document(document, "bsi").score),
    )
