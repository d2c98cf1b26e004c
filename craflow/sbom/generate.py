"""`generate_sbom` and `convert_sbom`: the entry points that tie sources, builder and writer.

Numbers and contacts come in as arguments (the CLI and flows read them from
`config.sbom.SbomSettings`); nothing here reads settings itself.
"""

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle

from craflow import __version__
from craflow.sbom.builder import Creator, Product, build_bom, serial_number
from craflow.sbom.errors import SbomError, SbomFormatError
from craflow.sbom.loading import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, load_file
from craflow.sbom.model import SourceResult
from craflow.sbom.reader import read_sbom
from craflow.sbom.sources.command import run_generator
from craflow.sbom.sources.env import read_environment
from craflow.sbom.sources.files import read_toml_limited
from craflow.sbom.sources.lockfiles import read_poetry_lock, read_pylock, read_uv_lock
from craflow.sbom.sources.requirements import read_requirements
from craflow.sbom.spdx import spdx_packages
from craflow.sbom.writer import Format, schema_version, write_sbom

Source = Literal["env", "requirements", "uv-lock", "poetry-lock", "pylock", "command", "file"]
SOURCES: tuple[str, ...] = (
    "env",
    "requirements",
    "uv-lock",
    "poetry-lock",
    "pylock",
    "command",
    "file",
)
_DEFAULT_TIMEOUT = 600.0
_DEFAULT_CHUNK = 1024 * 1024


def reproducible_timestamp(default_epoch: int = 0) -> datetime:
    """`SOURCE_DATE_EPOCH` when set and valid, else `default_epoch`, as a UTC datetime."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "")
    epoch = int(raw) if raw.isdigit() else default_epoch
    return datetime.fromtimestamp(epoch, tz=UTC)


def product_from_pyproject(*folders: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Product | None:
    """`[project]` name and version of the first pyproject.toml found in `folders`."""
    for folder in folders:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            project = read_toml_limited(candidate, max_bytes=max_bytes).get("project") or {}
            if project.get("name") and project.get("version"):
                return Product(str(project["name"]), str(project["version"]))
    return None


def _product(
    name: str | None, version: str | None, result: SourceResult | None, target: str | None
) -> Product:
    if name and version:
        return Product(name, version)
    folders = [Path(target).parent] if target else []
    found = product_from_pyproject(*folders, Path.cwd())
    hint_name = result.product_name if result else None
    hint_version = result.product_version if result else None
    final_name = name or hint_name or (found.name if found else None)
    final_version = version or hint_version or (found.version if found else None)
    if not final_name or not final_version:
        raise SbomError("name the product: --product NAME --version V (no pyproject.toml found)")
    return Product(final_name, final_version)


def read_source(
    source: str,
    target: str | None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    inspect_timeout: float = _DEFAULT_TIMEOUT,
    chunk_bytes: int = _DEFAULT_CHUNK,
) -> SourceResult:
    """The packages of a package source: env, requirements, uv-lock, poetry-lock or pylock."""
    if source == "env":
        return read_environment(target, timeout=inspect_timeout)
    if target is None:
        raise SbomError(f"--from {source} needs a file")
    path = Path(target)
    if source == "requirements":
        return read_requirements(path, max_bytes=max_bytes, chunk_bytes=chunk_bytes)
    if source == "uv-lock":
        return read_uv_lock(path, max_bytes=max_bytes)
    if source == "poetry-lock":
        return read_poetry_lock(path, max_bytes=max_bytes)
    if source == "pylock":
        return read_pylock(path, max_bytes=max_bytes)
    raise SbomError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")


def _enrich_existing(
    bom: Bom, product: Product | None, timestamp: datetime, lifecycle: str, content_sha256: str
) -> Bom:
    """Add craflow's metadata to a CycloneDX `Bom` read from a file or a generator."""
    meta = bom.metadata
    meta.timestamp = timestamp
    meta.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name="craflow",
            version=__version__,
            bom_ref=f"craflow@{__version__}",
        )
    )
    if not meta.lifecycles:
        meta.lifecycles.add(PredefinedLifecycle(LifecyclePhase(lifecycle)))
    if meta.component is None and product is not None:
        meta.component = Component(
            type=ComponentType.APPLICATION,
            name=product.name,
            version=product.version,
            bom_ref=f"{product.name}@{product.version}",
        )
    root = meta.component
    name = product or Product(root.name if root else "", (root.version or "") if root else "")
    bom.serial_number = serial_number(name, content_sha256)
    meta.properties.add(Property(name="craflow:sbom:source-sha256", value=content_sha256))
    return bom


def generate_sbom(
    source: str,
    target: str | None,
    *,
    product: str | None,
    version: str | None,
    spec: str = "1.6",
    reproducible: bool = False,
    creator: Creator | None = None,
    lifecycle: str = "build",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    command_timeout: float = _DEFAULT_TIMEOUT,
    inspect_timeout: float = _DEFAULT_TIMEOUT,
    chunk_bytes: int = _DEFAULT_CHUNK,
    reproducible_epoch: int = 0,
    now: datetime | None = None,
) -> Bom:
    """Build a CycloneDX `Bom` from `source` (see `SOURCES`).

    `target` is the source's file, interpreter/venv (env, None = current) or command.

    `spec` is checked for availability here and used by `write_sbom`.
    """
    schema_version(spec)
    stamp = (
        reproducible_timestamp(reproducible_epoch) if reproducible else (now or datetime.now(UTC))
    )
    if source in ("command", "file"):
        if not target:
            raise SbomError(
                f"--from {source} needs " + ("a command" if source == "command" else "a file")
            )
        with tempfile.TemporaryDirectory(prefix="craflow-sbom-") as tmp:
            path = (
                Path(target)
                if source == "file"
                else run_generator(target, Path(tmp) / "generated.sbom", timeout=command_timeout)
            )
            doc = read_sbom(path, max_bytes=max_bytes, max_depth=max_depth)
            if doc.format == "spdx":
                loaded = load_file(path, max_bytes=max_bytes, max_depth=max_depth)
                result = SourceResult(packages=spdx_packages(loaded.json))
                return build_bom(
                    result,
                    product=_product(product, version, None, None),
                    timestamp=stamp,
                    creator=creator or Creator(),
                    lifecycle=lifecycle,
                )
        if doc.bom is None:
            raise SbomFormatError(f"{target}: could not be modelled as CycloneDX")
        given = Product(product, version) if product and version else None
        return _enrich_existing(doc.bom, given, stamp, lifecycle, doc.sha256)
    result = read_source(
        source,
        target,
        max_bytes=max_bytes,
        inspect_timeout=inspect_timeout,
        chunk_bytes=chunk_bytes,
    )
    return build_bom(
        result,
        product=_product(product, version, result, target if source != "env" else None),
        timestamp=stamp,
        creator=creator or Creator(),
        lifecycle=lifecycle,
        installed=source == "env",
    )


_SUFFIX_FORMATS: dict[str, Format] = {".json": "json", ".xml": "xml"}


def format_from_name(path: Path) -> Format | None:
    """The encoding a file name asks for (`bom.cdx.json` -> json, `bom.xml` -> xml), as
    cyclonedx-cli infers it; None when the suffix says nothing."""
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower())


def output_format(out: Path, fmt: Format | None) -> Format | None:
    """The requested encoding, else the one *out*'s name implies; a contradiction is refused."""
    implied = format_from_name(out)
    if fmt is not None and implied is not None and fmt != implied:
        raise SbomFormatError(f"--format {fmt} contradicts the output name {Path(out).name}")
    return fmt or implied


def convert_sbom(
    path: Path,
    out: Path,
    *,
    spec: str = "1.6",
    fmt: Format | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Path:
    """Rewrite a CycloneDX file at another spec version (and/or format), keeping every component."""
    doc = read_sbom(Path(path), max_bytes=max_bytes, max_depth=max_depth)
    if doc.format != "cyclonedx" or doc.bom is None:
        raise SbomFormatError(f"{path}: only CycloneDX can be converted (this is SPDX)")
    encoding: Format = output_format(out, fmt) or doc.encoding
    compositions = None
    if doc.encoding == "json" and spec != "1.2":
        raw = load_file(Path(path), max_bytes=max_bytes, max_depth=max_depth).json
        found = raw.get("compositions") if isinstance(raw, dict) else None
        compositions = found if isinstance(found, list) else None
    return write_sbom(doc.bom, Path(out), spec=spec, fmt=encoding, compositions=compositions or [])
