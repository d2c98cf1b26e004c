"""The views `read_sbom` takes from the parsed document equal those of the library model."""

from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

from craflow.sbom import read_sbom, write_sbom
from craflow.sbom.builder import Creator, Product, build_bom
from craflow.sbom.document import ComponentView
from tests.unit.sbom.conftest import REAL_SBOMS
from tests.unit.sbom.test_large_and_prepared import NOW, RICH


def _library_view(component: Component, graph_refs: set[str]) -> ComponentView:
    """The view as the previous reader computed it from the library model (the oracle)."""
    algs = {h.alg.value for h in component.hashes}
    for ref in component.external_references:
        if ref.type.value == "distribution":
            algs |= {h.alg.value for h in ref.hashes}
    props = {p.name: p.value for p in component.properties}
    other = [component.cpe or "", component.swid.tag_id if component.swid else ""]
    other += [str(x.id) for x in component.omnibor_ids] + [str(x.id) for x in component.swhids]
    licenses = sorted(
        lic.value if isinstance(lic, LicenseExpression) else str(lic.id or lic.name)
        for lic in component.licenses
        if isinstance(lic, LicenseExpression)
        or (isinstance(lic, DisjunctiveLicense) and (lic.id or lic.name))
    )
    creator = component.manufacturer.name if component.manufacturer else None
    creator = creator or next(
        (str(a.name or a.email) for a in component.authors if a.name or a.email), None
    )
    ref = component.bom_ref.value
    return ComponentView(
        name=component.name,
        version=component.version,
        purl=component.purl.to_string() if component.purl else None,
        bom_ref=ref,
        supplier=(component.supplier.name if component.supplier else None) or component.publisher,
        creator=creator or getattr(component, "author", None) or None,
        licenses=tuple(licenses),
        hash_algorithms=frozenset(algs),
        filename=props.get("bsi:component:filename"),
        properties=frozenset(props),
        other_ids=tuple(x for x in other if x),
        in_dependency_graph=ref is not None and ref in graph_refs,
    )


def _library_views(bom: Bom) -> set[ComponentView]:
    graph = {str(d.ref.value) for d in bom.dependencies if d.ref.value}
    return {
        _library_view(c, graph)
        for c in bom._get_all_components()
        if c is not bom.metadata.component
    }


def _generated(tmp_path: Path) -> list[Path]:
    creator = Creator("ACME", "sbom@acme.example", "https://acme.example")
    out = []
    for spec, fmt in (("1.6", "json"), ("1.5", "xml"), ("1.6", "xml")):
        bom = build_bom(RICH, product=Product("shop", "1"), timestamp=NOW, creator=creator)
        path = tmp_path / f"rich-{spec}.{fmt}"
        out.append(write_sbom(bom, path, spec=spec, fmt="xml" if fmt == "xml" else "json"))
    return out


@pytest.mark.parametrize("which", [*(p.name for p in REAL_SBOMS), "generated"])
def test_views_from_the_document_equal_views_from_the_library_model(
    which: str, tmp_path: Path
) -> None:
    paths = (
        _generated(tmp_path) if which == "generated" else [p for p in REAL_SBOMS if p.name == which]
    )
    for path in paths:
        doc = read_sbom(path)
        assert doc.bom is not None
        assert set(doc.components) == _library_views(doc.bom), path.name
        assert len(doc.components) == doc.component_count
        root = doc.bom.metadata.component
        assert (doc.facts.root_name, doc.facts.root_version) == (
            (root.name, root.version) if root else (None, None)
        )
        if which == "generated":
            assert doc.facts.creator_contact == "sbom@acme.example"
        assert bool(doc.facts.tools) == bool(
            doc.bom.metadata.tools.components or doc.bom.metadata.tools.tools
        )
