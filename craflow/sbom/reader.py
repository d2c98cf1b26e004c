"""`read_sbom`: detect the format of an SBOM file, read it safely, report what it holds.

CycloneDX JSON (1.2 to 1.7) and XML are read into the library model; SPDX 2.2+ JSON into
views only. Problems (schema errors, missing versions, vulnerability data) are reported,
not raised; only unreadable input raises `SbomError`.
"""

import re
import warnings
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

from craflow.sbom.document import ComponentView, DocumentFacts, SbomDocument
from craflow.sbom.errors import SbomFormatError
from craflow.sbom.loading import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, LoadedFile, load_file
from craflow.sbom.spdx import read_spdx
from craflow.sbom.validate import SUPPORTED_JSON_SPECS, json_errors, xml_errors

_XML_NS = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d\.\d)\}bom$")


def _licenses(component: Component) -> tuple[str, ...]:
    found: list[str] = []
    for lic in component.licenses:
        if isinstance(lic, LicenseExpression):
            found.append(lic.value)
        elif isinstance(lic, DisjunctiveLicense) and (lic.id or lic.name):
            found.append(str(lic.id or lic.name))
    return tuple(found)


def _creator(component: Component) -> str | None:
    if component.manufacturer is not None and component.manufacturer.name:
        return component.manufacturer.name
    for author in component.authors:
        if author.name or author.email:
            return str(author.name or author.email)
    legacy: str | None = getattr(component, "author", None)
    return legacy or None


def component_view(component: Component, graph_refs: set[str]) -> ComponentView:
    """The fields of a library component that the quality profiles look at."""
    algs = {h.alg.value for h in component.hashes}
    for ref in component.external_references:
        if ref.type.value == "distribution":
            algs |= {h.alg.value for h in ref.hashes}
    props = {p.name: p.value for p in component.properties}
    other = [component.cpe or "", component.swid.tag_id if component.swid else ""]
    other += [str(x.id) for x in component.omnibor_ids] + [str(x.id) for x in component.swhids]
    ref = component.bom_ref.value
    supplier = component.supplier.name if component.supplier else None
    return ComponentView(
        name=component.name,
        version=component.version,
        purl=component.purl.to_string() if component.purl else None,
        bom_ref=ref,
        supplier=supplier or component.publisher,
        creator=_creator(component),
        licenses=_licenses(component),
        hash_algorithms=frozenset(algs),
        filename=props.get("bsi:component:filename"),
        properties=frozenset(props),
        other_ids=tuple(x for x in other if x),
        in_dependency_graph=ref is not None and ref in graph_refs,
    )


def _all_components(components: Any) -> list[Component]:
    flat: list[Component] = []
    stack = list(components)
    while stack:
        component = stack.pop(0)
        flat.append(component)
        stack.extend(component.components)
    return flat


def _creator_contact(bom: Bom) -> str | None:
    meta = bom.metadata
    for author in meta.authors:
        if author.email or author.phone:
            return str(author.email or author.phone)
    for entity in (meta.manufacturer, meta.supplier):
        if entity is None:
            continue
        if entity.urls:
            return str(next(iter(entity.urls)))
        for contact in entity.contacts:
            if contact.email:
                return str(contact.email)
    return None


def _raw_facts(loaded: LoadedFile) -> tuple[str | None, str | None, bool]:
    """(serialNumber, timestamp, has vulnerabilities) as written, not as the library defaults."""
    if loaded.json is not None:
        doc = loaded.json
        meta = doc.get("metadata") or {}
        return doc.get("serialNumber"), meta.get("timestamp"), bool(doc.get("vulnerabilities"))
    root = loaded.xml
    assert root is not None
    ns = root.tag.split("}")[0] + "}"
    stamp = root.find(f"{ns}metadata/{ns}timestamp")
    vulns = root.find(f"{ns}vulnerabilities")
    return (
        root.get("serialNumber"),
        stamp.text if stamp is not None else None,
        vulns is not None and len(vulns) > 0,
    )


def _deserialize(loaded: LoadedFile) -> Bom:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if loaded.json is not None:
                return Bom.from_json(loaded.json)  # type: ignore[attr-defined,no-any-return]
            return Bom.from_xml(loaded.xml)  # type: ignore[attr-defined,no-any-return]
    except Exception as exc:  # the library raises many kinds; all mean "cannot model this"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SbomFormatError(f"{loaded.path}: CycloneDX that cannot be read: {first}") from exc


def read_cyclonedx(loaded: LoadedFile, spec: str) -> SbomDocument:
    """A CycloneDX document (JSON or XML) as an `SbomDocument` holding the library model."""
    if loaded.json is not None:
        problems = json_errors(loaded.json, spec, strict=False)
    else:
        problems = xml_errors(loaded.text, spec)
    bom = _deserialize(loaded)
    graph_refs = {str(d.ref.value) for d in bom.dependencies if d.ref.value}
    components = tuple(component_view(c, graph_refs) for c in _all_components(bom.components))
    serial, timestamp, has_vulns = _raw_facts(loaded)
    if has_vulns:
        problems.append("contains vulnerability data; BSI TR-03183-2 asks for a separate VEX")
    missing = sum(1 for c in components if not c.version)
    if missing:
        problems.append(f"{missing} component(s) without a version")
    root = bom.metadata.component
    facts = DocumentFacts(
        timestamp=timestamp,
        serial_number=serial,
        creator_contact=_creator_contact(bom),
        authors=tuple(a.name or a.email or "" for a in bom.metadata.authors),
        tools=tuple(t.name for t in bom.metadata.tools.components if t.name)
        + tuple(t.name for t in bom.metadata.tools.tools if t.name),
        has_dependencies=bool(graph_refs),
        has_vulnerabilities=has_vulns,
        root_name=root.name if root else None,
        root_version=root.version if root else None,
    )
    return SbomDocument(
        path=str(loaded.path),
        format="cyclonedx",
        encoding=loaded.encoding,
        spec_version=spec,
        component_count=len(components),
        problems=tuple(problems),
        sha256=loaded.sha256,
        size_bytes=loaded.size_bytes,
        components=components,
        facts=facts,
        bom=bom,
    )


def _cyclonedx_spec(loaded: LoadedFile) -> str | None:
    if loaded.json is not None:
        if not isinstance(loaded.json, dict) or loaded.json.get("bomFormat") != "CycloneDX":
            return None
        return str(loaded.json.get("specVersion", ""))
    root: Element | None = loaded.xml
    match = _XML_NS.match(root.tag) if root is not None else None
    if match is None:
        raise SbomFormatError(f"{loaded.path}: XML, but not a CycloneDX document")
    return match.group(1)


def read_sbom(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> SbomDocument:
    """Read CycloneDX (JSON/XML, 1.2 to 1.7) or SPDX (2.2+ JSON); raise `SbomError` if bad."""
    loaded = load_file(Path(path), max_bytes=max_bytes, max_depth=max_depth)
    spec = _cyclonedx_spec(loaded)
    if spec is not None:
        if spec not in SUPPORTED_JSON_SPECS:
            raise SbomFormatError(
                f"{path}: CycloneDX {spec or '(no specVersion)'} is not supported (1.2 to 1.7 are)"
            )
        return read_cyclonedx(loaded, spec)
    if isinstance(loaded.json, dict) and "spdxVersion" in loaded.json:
        return read_spdx(loaded)
    raise SbomFormatError(f"{path}: JSON, but neither CycloneDX nor SPDX; not an SBOM")
