"""CycloneDX JSON/XML data of a `Bom`, in time that grows linearly with its size.

The library's outputters call `Bom.validate()`, which registers every component through
`Bom.register_dependency` (a linear scan of the dependency set per call), and its
`BomRefDiscriminator` checks uniqueness against a list: both grow with the square of the
component count (minutes for 10,000 components). Here the same safety is kept with sets:

- every component (and the described root, and every service) has a dependency entry;
- every `ref` and `dependsOn` of the graph names a known `bom-ref`, else `SbomValidationError`;
- a licence expression is never mixed with other licences on one element;
- missing or repeated `bom-ref` values get a unique value while serialising, then restored.

A `PreparedBom` (craflow's own builder) is written from its prepared data; the document
metadata still goes through the library's serialiser.
"""

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from random import random
from typing import Any
from xml.dom.minidom import parseString
from xml.etree.ElementTree import tostring

from cyclonedx.exception import CycloneDxException
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import LicenseExpression
from cyclonedx.schema import SchemaVersion
from cyclonedx.schema.schema import SCHEMA_VERSIONS

from craflow.sbom.errors import SbomValidationError
from craflow.sbom.prepared import JsonObject, PreparedBom

_SCHEMA_FILES = {"1.2": "bom-1.2b", "1.3": "bom-1.3a"}
# component fields that exist only from a spec version on (craflow's builder uses these)
_SINCE: dict[str, SchemaVersion] = {"authors": SchemaVersion.V1_6}
_MAX_LISTED = 5


def schema_uri(version: SchemaVersion) -> str:
    """The `$schema` the library writes for JSON at `version`."""
    name = version.to_version()
    return f"http://cyclonedx.org/schema/{_SCHEMA_FILES.get(name, f'bom-{name}')}.schema.json"


def ensure_dependency_entries(bom: Bom) -> None:
    """Give the root, every top-level component and every service a dependency entry."""
    known = {d.ref for d in bom.dependencies}
    root = bom.metadata.component
    for item in chain([root] if root else [], bom.components, bom.services):
        if item.bom_ref not in known:
            bom.dependencies.add(Dependency(ref=item.bom_ref))
            known.add(item.bom_ref)


def _inconsistent(what: str, refs: set[str]) -> SbomValidationError:
    shown = ", ".join(sorted(refs)[:_MAX_LISTED])
    more = f" (and {len(refs) - _MAX_LISTED} more)" if len(refs) > _MAX_LISTED else ""
    return SbomValidationError(f"the SBOM is inconsistent: {what}: {shown}{more}")


def check_references(bom: Bom) -> None:
    """Raise unless every dependency ref names a component or service of `bom`."""
    known: set[BomRef] = {c.bom_ref for c in bom._get_all_components()}
    known |= {s.bom_ref for s in bom.services}
    used = {d.ref for d in bom.dependencies}
    used |= {r for d in bom.dependencies for r in d.dependencies_as_bom_refs()}
    unknown = used - known
    if unknown:
        raise _inconsistent("dependencies name unknown bom-refs", {str(r) for r in unknown})


def check_licenses(bom: Bom) -> None:
    """Raise when an element mixes a licence expression with other licences."""
    elements: Any = chain([bom.metadata], bom._get_all_components(), bom.services)
    for element in elements:
        licenses = element.licenses
        if len(licenses) > 1 and any(isinstance(x, LicenseExpression) for x in licenses):
            name = getattr(element, "name", "metadata")
            raise SbomValidationError(
                f"the SBOM is inconsistent: {name} mixes a licence expression with other licences"
            )


@contextmanager
def distinct_refs(bom: Bom) -> Iterator[None]:
    """Give missing or repeated `bom-ref` values a unique value; restore them afterwards."""
    refs = [
        *(c.bom_ref for c in bom._get_all_components()),
        *(s.bom_ref for s in bom.services),
        *(v.bom_ref for v in bom.vulnerabilities),
    ]
    originals = [(ref, ref.value) for ref in refs]
    seen: set[str] = set()
    for ref in refs:
        value = ref.value
        if value is None or value in seen:
            value = f"BomRef{str(random())[1:]}{str(random())[1:]}"  # noqa: S311 - not secret
            ref.value = value
        seen.add(value)
    try:
        yield
    finally:
        for ref, value in originals:
            ref.value = value


def _flat_dependencies(bom: Bom) -> list[Dependency]:
    """The dependency graph merged per ref (one entry per ref, nested entries flattened)."""
    flat: dict[BomRef, list[BomRef]] = {}
    todo = list(bom.dependencies)
    while todo:
        entry = todo.pop()
        flat.setdefault(entry.ref, []).extend(d.ref for d in entry.dependencies)
        todo.extend(entry.dependencies)
    return [Dependency(ref, [Dependency(d) for d in deps]) for ref, deps in flat.items()]


def _prepare_library_bom(bom: Bom) -> None:
    ensure_dependency_entries(bom)
    check_references(bom)
    check_licenses(bom)


def library_json(bom: Bom, version: SchemaVersion) -> JsonObject:
    """`bom` as CycloneDX JSON data through the library's serialiser, without `validate()`."""
    if isinstance(bom, PreparedBom):
        bom = bom.library_bom()
    _prepare_library_bom(bom)
    original = bom._dependencies
    try:
        with warnings.catch_warnings(), distinct_refs(bom):
            warnings.simplefilter("ignore")
            bom.dependencies = _flat_dependencies(bom)
            text = bom.as_json(view_=SCHEMA_VERSIONS[version])  # type: ignore[attr-defined]
    except CycloneDxException as exc:
        raise SbomValidationError(f"the SBOM is inconsistent: {exc}") from exc
    finally:
        bom._dependencies = original
    core: JsonObject = {
        "$schema": schema_uri(version),
        "bomFormat": "CycloneDX",
        "specVersion": version.to_version(),
    }
    data: JsonObject = json.loads(text)
    return {**core, **data, **core}


def library_xml(bom: Bom, version: SchemaVersion) -> str:
    """`bom` as CycloneDX XML text (indented) through the library, without `validate()`."""
    if isinstance(bom, PreparedBom):
        bom = bom.library_bom()
    _prepare_library_bom(bom)
    namespace = f"http://cyclonedx.org/schema/bom/{version.to_version()}"
    try:
        with warnings.catch_warnings(), distinct_refs(bom):
            warnings.simplefilter("ignore")
            element = bom.as_xml(  # type: ignore[attr-defined]
                SCHEMA_VERSIONS[version], as_string=False, xmlns=namespace
            )
            body = tostring(element, method="xml", default_namespace=namespace, encoding="unicode")
    except CycloneDxException as exc:
        raise SbomValidationError(f"the SBOM is inconsistent: {exc}") from exc
    pretty: str = parseString('<?xml version="1.0" ?>\n' + body).toprettyxml(indent="  ")  # noqa: S318 - our own output
    return pretty


def _component_for_spec(data: JsonObject, version: SchemaVersion) -> JsonObject:
    dropped = [key for key, since in _SINCE.items() if key in data and version < since]
    if not dropped:
        return data
    return {k: v for k, v in data.items() if k not in dropped}


def prepared_json(bom: PreparedBom, version: SchemaVersion) -> JsonObject:
    """A `PreparedBom` as JSON data: metadata by the library, components and graph as prepared.

    Falls back to `library_json` when the prepared data is gone or the BOM carries parts
    the builder never makes (services, vulnerabilities).
    """
    components = bom.prepared_components
    dependencies = bom.prepared_dependencies
    if components is None or dependencies is None or bom.services or bom.vulnerabilities:
        return library_json(bom, version)
    shell = Bom(
        serial_number=bom.serial_number,
        version=bom.version,
        metadata=bom.metadata,
        external_references=bom.external_references,
        properties=bom.properties,
        definitions=bom.definitions,
    )
    data = library_json(shell, version)
    root = bom.metadata.component
    known = {c["bom-ref"] for c in components}
    if root is not None and root.bom_ref.value:
        known.add(root.bom_ref.value)
    used = {d["ref"] for d in dependencies} | {
        r for d in dependencies for r in d.get("dependsOn", ())
    }
    if used - known:
        raise _inconsistent("dependencies name unknown bom-refs", used - known)
    data.pop("dependencies", None)
    data["components"] = [_component_for_spec(c, version) for c in components]
    data["dependencies"] = dependencies
    return data
