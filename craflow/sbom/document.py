"""What craflow knows about an SBOM it has read: frozen views, the same for every format."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom

SbomFormat = Literal["cyclonedx", "spdx"]


@dataclass(frozen=True)
class ComponentView:
    """One component, reduced to the fields the quality profiles look at."""

    name: str
    version: str | None
    purl: str | None
    bom_ref: str | None = None
    supplier: str | None = None
    creator: str | None = None
    licenses: tuple[str, ...] = ()
    hash_algorithms: frozenset[str] = frozenset()
    filename: str | None = None
    properties: frozenset[str] = frozenset()
    other_ids: tuple[str, ...] = ()
    in_dependency_graph: bool = False


@dataclass(frozen=True)
class DocumentFacts:
    """Document-level facts: who made it, when, its unique URI, what it contains."""

    timestamp: str | None = None
    serial_number: str | None = None
    creator_contact: str | None = None
    authors: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    has_dependencies: bool = False
    has_vulnerabilities: bool = False
    root_name: str | None = None
    root_version: str | None = None


@dataclass(frozen=True)
class SbomDocument:
    """An SBOM as read from a file. `bom` is the library model (CycloneDX only).

    The views are read from the parsed document; the library model is built on first use
    of `bom` (it costs about a second per few hundred components), and raises `SbomError`
    when the library cannot model the document.
    """

    path: str
    format: SbomFormat
    encoding: Literal["json", "xml"]
    spec_version: str
    component_count: int
    problems: tuple[str, ...]
    sha256: str
    size_bytes: int
    components: tuple[ComponentView, ...]
    facts: DocumentFacts
    load_bom: "Callable[[], Bom] | None" = field(default=None, repr=False, compare=False)

    @cached_property
    def bom(self) -> "Bom | None":
        """The library model of a CycloneDX document (None for SPDX), built once, on demand."""
        return self.load_bom() if self.load_bom is not None else None

    @property
    def purls(self) -> frozenset[str]:
        return frozenset(c.purl for c in self.components if c.purl)

    def summary(self) -> str:
        """One line: format, spec, component count, problem count."""
        kind = "CycloneDX" if self.format == "cyclonedx" else "SPDX"
        issues = f", {len(self.problems)} problem(s)" if self.problems else ""
        return (
            f"{kind} {self.spec_version} {self.encoding.upper()}, "
            f"{self.component_count} components{issues}"
        )
