"""What a source (environment, lockfile, requirements file) says about its packages.

Sources fill these frozen values; the builder turns them into a CycloneDX `Bom`.
"""

from dataclasses import dataclass, field
from typing import Literal

from craflow.sbom.purls import normalize_name

Completeness = Literal["complete", "incomplete", "unknown"]


@dataclass(frozen=True)
class Hash:
    """One digest of an artifact: `alg` is a CycloneDX name (`SHA-256`, `SHA-512`)."""

    alg: str
    value: str


@dataclass(frozen=True)
class Artifact:
    """A downloadable or local file of a package (wheel, sdist) with its digests."""

    url: str
    filename: str | None = None
    hashes: tuple[Hash, ...] = ()


@dataclass(frozen=True)
class ExternalRef:
    """A link from a component to somewhere: `type` is a CycloneDX reference type."""

    type: str
    url: str


@dataclass(frozen=True)
class PackageInfo:
    """One package as a source knows it. `key` is the normalised name, unique in a source.

    `purl` is canonical, as `PackageURL.to_string()` writes it (see `craflow.sbom.purls`).
    """

    name: str
    version: str | None
    purl: str | None = None
    description: str | None = None
    licenses: tuple[str, ...] = ()
    license_expression: str | None = None
    author: str | None = None
    author_email: str | None = None
    supplier: str | None = None
    hashes: tuple[Hash, ...] = ()
    filename: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    external_refs: tuple[ExternalRef, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return normalize_name(self.name)


@dataclass(frozen=True)
class SourceResult:
    """Everything a source found: packages, whether `requires` form a dependency graph, problems.

    `graph` is True when each package's `requires` lists its resolved dependencies (so the
    dependency graph is known); `direct` names the product's direct dependencies when known.
    """

    packages: tuple[PackageInfo, ...]
    graph: bool = False
    direct: tuple[str, ...] | None = None
    completeness: Completeness = "unknown"
    problems: tuple[str, ...] = field(default=())
    product_name: str | None = None
    product_version: str | None = None
