"""SPDX 2.2+ JSON documents as `SbomDocument` views (read and scored; not converted)."""

import re
from typing import Any

from craflow.sbom.document import ComponentView, DocumentFacts, SbomDocument
from craflow.sbom.errors import SbomFormatError
from craflow.sbom.loading import LoadedFile
from craflow.sbom.model import Hash, PackageInfo
from craflow.sbom.purls import canonical_purl

_VERSION = re.compile(r"^SPDX-(\d+)\.(\d+)$")
_ALGS = {
    "SHA1": "SHA-1",
    "SHA256": "SHA-256",
    "SHA384": "SHA-384",
    "SHA512": "SHA-512",
    "MD5": "MD5",
    "SHA3-256": "SHA3-256",
    "SHA3-512": "SHA3-512",
}
_NONE = {"", "NOASSERTION", "NONE"}
_DEPENDENCY_KINDS = {"DEPENDS_ON", "DEPENDENCY_OF", "CONTAINS", "CONTAINED_BY"}
_EMAIL = re.compile(r"\(([^()]*@[^()]*)\)")


def _known(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in _NONE else text


def _party(value: Any) -> str | None:
    text = _known(value)
    if text is None:
        return None
    return text.split(":", 1)[1].strip() if ":" in text else text


def _package_view(pkg: dict[str, Any], graph: set[str]) -> ComponentView:
    refs = [r for r in pkg.get("externalRefs") or [] if isinstance(r, dict)]
    purl = next(
        (str(r.get("referenceLocator")) for r in refs if r.get("referenceType") == "purl"), None
    )
    other = tuple(
        str(r.get("referenceLocator"))
        for r in refs
        if r.get("referenceType") in ("cpe22Type", "cpe23Type", "swid", "swh", "gitoid")
    )
    algs = frozenset(
        _ALGS.get(str(c.get("algorithm")), str(c.get("algorithm")))
        for c in pkg.get("checksums") or []
        if isinstance(c, dict)
    )
    licenses = tuple(
        x for x in (_known(pkg.get("licenseConcluded")), _known(pkg.get("licenseDeclared"))) if x
    )
    spdx_id = str(pkg.get("SPDXID", ""))
    return ComponentView(
        name=str(pkg.get("name", "")),
        version=_known(pkg.get("versionInfo")),
        purl=purl,
        bom_ref=spdx_id or None,
        supplier=_party(pkg.get("supplier")),
        creator=_party(pkg.get("originator")) or _party(pkg.get("supplier")),
        licenses=licenses,
        hash_algorithms=algs,
        filename=_known(pkg.get("packageFileName")),
        other_ids=other,
        in_dependency_graph=spdx_id in graph,
    )


def read_spdx(loaded: LoadedFile) -> SbomDocument:
    """An SPDX JSON document as an `SbomDocument`; SPDX before 2.2 is refused."""
    doc: dict[str, Any] = loaded.json
    version = str(doc.get("spdxVersion", ""))
    match = _VERSION.match(version)
    if match is None or (int(match.group(1)), int(match.group(2))) < (2, 2):
        raise SbomFormatError(f"{loaded.path}: SPDX version {version!r} is not supported (2.2+)")
    problems: list[str] = []
    packages = doc.get("packages")
    if not isinstance(packages, list):
        problems.append("no packages array")
        packages = []
    rels = [r for r in doc.get("relationships") or [] if isinstance(r, dict)]
    graph: set[str] = set()
    for rel in rels:
        if rel.get("relationshipType") in _DEPENDENCY_KINDS:
            graph |= {str(rel.get("spdxElementId")), str(rel.get("relatedSpdxElement"))}
    views = tuple(_package_view(p, graph) for p in packages if isinstance(p, dict))
    info = doc.get("creationInfo") or {}
    creators = [str(c) for c in info.get("creators") or []]
    contact = next((m.group(1) for c in creators if (m := _EMAIL.search(c))), None)
    if not info.get("created"):
        problems.append("creationInfo.created is missing")
    missing = sum(1 for c in views if not c.version)
    if missing:
        problems.append(f"{missing} package(s) without a version")
    described = {
        str(r.get("relatedSpdxElement")) for r in rels if r.get("relationshipType") == "DESCRIBES"
    }
    root = next((v for v in views if v.bom_ref in described), None)
    facts = DocumentFacts(
        timestamp=info.get("created"),
        serial_number=doc.get("documentNamespace"),
        creator_contact=contact,
        authors=tuple(
            c.split(":", 1)[1].strip()
            for c in creators
            if c.startswith(("Person:", "Organization:"))
        ),
        tools=tuple(c.split(":", 1)[1].strip() for c in creators if c.startswith("Tool:")),
        has_dependencies=bool(graph),
        root_name=root.name if root else doc.get("name"),
        root_version=root.version if root else None,
    )
    return SbomDocument(
        path=str(loaded.path),
        format="spdx",
        encoding="json",
        spec_version=version.removeprefix("SPDX-"),
        component_count=len(views),
        problems=tuple(problems),
        sha256=loaded.sha256,
        size_bytes=loaded.size_bytes,
        components=views,
        facts=facts,
    )


def spdx_packages(doc: dict[str, Any]) -> tuple[PackageInfo, ...]:
    """The packages of an SPDX JSON document as `PackageInfo`, for building CycloneDX from it."""
    packages: list[PackageInfo] = []
    for pkg in doc.get("packages") or []:
        if not isinstance(pkg, dict) or not pkg.get("name"):
            continue
        refs = [r for r in pkg.get("externalRefs") or [] if isinstance(r, dict)]
        purl = next(
            (str(r.get("referenceLocator")) for r in refs if r.get("referenceType") == "purl"), None
        )
        hashes = tuple(
            Hash(_ALGS[str(c.get("algorithm"))], str(c.get("checksumValue")).lower())
            for c in pkg.get("checksums") or []
            if isinstance(c, dict) and str(c.get("algorithm")) in _ALGS
        )
        expression = _known(pkg.get("licenseConcluded")) or _known(pkg.get("licenseDeclared"))
        packages.append(
            PackageInfo(
                name=str(pkg["name"]),
                version=_known(pkg.get("versionInfo")),
                purl=canonical_purl(purl),
                license_expression=expression,
                supplier=_party(pkg.get("supplier")),
                author=_party(pkg.get("originator")),
                hashes=hashes,
                filename=_known(pkg.get("packageFileName")),
            )
        )
    return tuple(packages)
