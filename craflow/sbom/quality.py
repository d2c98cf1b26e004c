"""`check_quality`: which minimum elements an SBOM has, and for what share of its components.

Profiles: NTIA minimum elements (2021) and BSI TR-03183-2 v2.1. Document elements score
0 or 1; component elements score the share of components that have them. The score is the
mean over the profile's elements, 0 to 100.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from craflow.sbom.document import ComponentView, DocumentFacts, SbomDocument
from craflow.sbom.loading import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH
from craflow.sbom.reader import read_sbom

Profile = Literal["ntia", "bsi"]


@dataclass(frozen=True)
class ElementCoverage:
    """One minimum element: present in `covered` of `total` places (1 of 1 for documents)."""

    key: str
    label: str
    scope: Literal["document", "component"]
    covered: int
    total: int

    @property
    def share(self) -> float:
        return (
            1.0
            if self.total == 0 and self.scope == "component"
            else (self.covered / self.total if self.total else 0.0)
        )


@dataclass(frozen=True)
class QualityReport:
    """The quality of one SBOM against one profile."""

    path: str
    profile: Profile
    score: int
    component_count: int
    elements: tuple[ElementCoverage, ...]
    problems: tuple[str, ...] = ()

    def missing(self) -> list[str]:
        """Labels of elements that are not fully covered."""
        return [e.label for e in self.elements if e.share < 1.0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "profile": self.profile,
            "score": self.score,
            "component_count": self.component_count,
            "elements": [
                {
                    "key": e.key,
                    "label": e.label,
                    "scope": e.scope,
                    "covered": e.covered,
                    "total": e.total,
                    "percent": round(e.share * 100, 1),
                }
                for e in self.elements
            ],
            "problems": list(self.problems),
        }

    def to_markdown(self) -> str:
        title = "NTIA minimum elements" if self.profile == "ntia" else "BSI TR-03183-2 v2.1"
        lines = [
            f"### SBOM quality: {self.score}/100 ({title})",
            "",
            f"`{Path(self.path).name}`, {self.component_count} components",
            "",
            "| element | scope | coverage |",
            "|---|---|---|",
        ]
        for e in self.elements:
            cover = (
                f"{e.covered}/{e.total} ({e.share:.0%})"
                if e.scope == "component"
                else ("yes" if e.covered else "no")
            )
            lines.append(f"| {e.label} | {e.scope} | {cover} |")
        lines += [f"- {p}" for p in self.problems]
        return "\n".join(lines) + "\n"


DocCheck = Callable[[DocumentFacts], bool]
CompCheck = Callable[[ComponentView], bool]


def _has_other_id(c: ComponentView) -> bool:
    return bool(c.purl or c.other_ids)


_NTIA_DOC: list[tuple[str, str, DocCheck]] = [
    ("author", "SBOM author", lambda f: bool(f.authors or f.tools or f.creator_contact)),
    ("timestamp", "Timestamp", lambda f: bool(f.timestamp)),
    ("dependencies", "Dependency relationships", lambda f: f.has_dependencies),
]
_NTIA_COMP: list[tuple[str, str, CompCheck]] = [
    ("supplier", "Supplier name", lambda c: bool(c.supplier)),
    ("name", "Component name", lambda c: bool(c.name)),
    ("version", "Component version", lambda c: bool(c.version)),
    ("unique_id", "Unique identifier", lambda c: bool(c.purl or c.other_ids)),
]
_BSI_DOC: list[tuple[str, str, DocCheck]] = [
    ("creator_contact", "SBOM creator contact (e-mail or URL)", lambda f: bool(f.creator_contact)),
    ("timestamp", "Timestamp", lambda f: bool(f.timestamp)),
    ("sbom_uri", "SBOM URI (serial number)", lambda f: bool(f.serial_number)),
    ("no_vulnerabilities", "No vulnerability data inside", lambda f: not f.has_vulnerabilities),
]
_BSI_COMP: list[tuple[str, str, CompCheck]] = [
    ("component_creator", "Component creator", lambda c: bool(c.creator)),
    ("name", "Component name", lambda c: bool(c.name)),
    ("version", "Component version", lambda c: bool(c.version)),
    ("filename", "Filename", lambda c: bool(c.filename)),
    ("dependencies", "Dependencies", lambda c: c.in_dependency_graph),
    ("licences", "Licences", lambda c: bool(c.licenses)),
    ("sha512", "SHA-512 hash", lambda c: "SHA-512" in c.hash_algorithms),
    ("executable", "Executable property", lambda c: "bsi:component:executable" in c.properties),
    ("archive", "Archive property", lambda c: "bsi:component:archive" in c.properties),
    ("structured", "Structured property", lambda c: "bsi:component:structured" in c.properties),
    ("other_id", "Other unique identifier (purl, CPE, SWID…)", _has_other_id),
]


def score_document(doc: SbomDocument, profile: Profile = "bsi") -> QualityReport:
    """Score an already-read SBOM against `profile`."""
    doc_checks, comp_checks = (
        (_NTIA_DOC, _NTIA_COMP) if profile == "ntia" else (_BSI_DOC, _BSI_COMP)
    )
    elements = [
        ElementCoverage(key, label, "document", int(check(doc.facts)), 1)
        for key, label, check in doc_checks
    ]
    total = len(doc.components)
    elements += [
        ElementCoverage(key, label, "component", sum(1 for c in doc.components if check(c)), total)
        for key, label, check in comp_checks
    ]
    score = round(100 * sum(e.share for e in elements) / len(elements))
    return QualityReport(
        path=doc.path,
        profile=profile,
        score=score,
        component_count=doc.component_count,
        elements=tuple(elements),
        problems=doc.problems,
    )


def check_quality(
    path: Path,
    profile: Profile = "bsi",
    *,
    max_bytes: int | None = None,
    max_depth: int | None = None,
) -> QualityReport:
    """Read the SBOM at `path` and score it; raises `SbomError` when it cannot be read."""
    doc = read_sbom(
        Path(path),
        max_bytes=max_bytes or DEFAULT_MAX_BYTES,
        max_depth=max_depth or DEFAULT_MAX_DEPTH,
    )
    return score_document(doc, profile)
