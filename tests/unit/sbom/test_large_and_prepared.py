"""The builder's prepared JSON equals the library's own serialisation; large inputs stay linear."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from cyclonedx.model.dependency import Dependency

from craflow.sbom import SbomValidationError, generate_sbom, read_sbom, serialize, write_sbom
from craflow.sbom.builder import Creator, Product, build_bom
from craflow.sbom.model import Artifact, ExternalRef, Hash, PackageInfo, SourceResult
from craflow.sbom.prepared import PreparedBom, component_count

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
RICH = SourceResult(
    packages=(
        PackageInfo(
            name="Requests",
            version="2.32.3",
            purl="pkg:pypi/requests@2.32.3",
            description="HTTP for Humans",
            licenses=("Apache-2.0", "Some Custom Licence"),
            author="Kenneth Reitz",
            author_email="me@kennethreitz.org",
            hashes=(Hash("SHA-256", "A" * 64), Hash("SHA-512", "b" * 128), Hash("SHA-256", "z")),
            filename="requests-2.32.3-cp311-cp311-linux_x86_64.whl",
            artifacts=(
                Artifact(
                    "https://files.example/requests.whl", "r.whl", (Hash("SHA-256", "c" * 64),)
                ),
            ),
            external_refs=(
                ExternalRef("website", "https://requests.readthedocs.io"),
                ExternalRef("vcs", "https://github.com/psf/requests"),
                ExternalRef("website", "not a url with spaces[]"),
            ),
            requires=("idna", "missing-one"),
        ),
        PackageInfo(
            name="idna",
            version="3.10",
            purl="pkg:pypi/idna@3.10",
            license_expression="BSD-3-Clause OR MIT",
            supplier="Kim Davies",
            author="Kim Davies",
            author_email="not-an-email",
        ),
        PackageInfo(name="no-version", version=None, licenses=("MIT",)),
        PackageInfo(name="odd-licence", version="1", license_expression="Weird Licence 1.0"),
    ),
    graph=True,
    completeness="complete",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _rich_bom() -> Bom:
    creator = Creator("ACME", "sbom@acme.example", "https://acme.example")
    return build_bom(RICH, product=Product("shop", "1"), timestamp=NOW, creator=creator)


@pytest.mark.parametrize("spec", ["1.5", "1.6", "1.7"])
def test_prepared_json_equals_the_library_serialisation(spec: str) -> None:
    fast = _rich_bom()
    assert isinstance(fast, PreparedBom) and not fast.materialized
    ours = json.loads(serialize(fast, spec=spec))
    assert not fast.materialized
    modelled = _rich_bom()
    assert len(modelled.components) == 4  # builds the library model from the prepared data
    assert isinstance(modelled, PreparedBom) and modelled.materialized
    library = json.loads(serialize(modelled, spec=spec))
    assert _canonical(ours) == _canonical(library)
    assert ours["specVersion"] == spec and len(ours["dependencies"]) == 5


def test_changes_to_the_library_model_are_written(tmp_path: Path) -> None:
    bom = _rich_bom()
    bom.components.add(Component(name="added", version="9", bom_ref="added"))
    doc = json.loads(write_sbom(bom, tmp_path / "s.json").read_text())
    assert "added" in {c["name"] for c in doc["components"]}
    assert {"ref": "added"} in doc["dependencies"]  # every component gets a graph entry


def test_a_dependency_on_an_unknown_ref_is_refused(tmp_path: Path) -> None:
    bom = Bom(components=[Component(name="a", version="1", bom_ref="a")])
    bom.dependencies.add(Dependency(ref=bom.components[0].bom_ref, dependencies=[]))
    from cyclonedx.model.bom_ref import BomRef

    bom.dependencies.add(Dependency(ref=BomRef("ghost"), dependencies=[]))
    with pytest.raises(SbomValidationError, match="unknown bom-refs: ghost"):
        write_sbom(bom, tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()


def synthetic_uv_lock(path: Path, count: int) -> Path:
    """A uv.lock of `count` packages, each depending on the one before it."""
    blocks = ['version = 1\nrequires-python = ">=3.11"\n']
    for i in range(count):
        deps = f'dependencies = [{{ name = "pkg-{i - 1}" }}]\n' if i else ""
        blocks.append(
            f'[[package]]\nname = "pkg-{i}"\nversion = "1.{i}.0"\n'
            f'source = {{ registry = "https://pypi.org/simple" }}\n{deps}'
            f'sdist = {{ url = "https://files.example/pkg-{i}-1.{i}.0.tar.gz", '
            f'hash = "sha256:{i:064x}", size = 1 }}\n'
        )
    path.write_text("\n".join(blocks))
    return path


def test_a_2000_package_lockfile_builds_validates_and_serialises(tmp_path: Path) -> None:
    lock = synthetic_uv_lock(tmp_path / "uv.lock", 2000)
    bom = generate_sbom("uv-lock", str(lock), product="big", version="1", now=NOW)
    assert component_count(bom) == 2000
    out = write_sbom(bom, tmp_path / "big.json")  # strict schema validation happens here
    doc = json.loads(out.read_text())
    assert len(doc["components"]) == 2000
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert len(graph) == 2001  # every package and the product
    assert graph["pkg:pypi/pkg-1999@1.1999.0"] == ["pkg:pypi/pkg-1998@1.1998.0"]
    assert graph["pkg:pypi/pkg-0@1.0.0"] == []
    assert all(any(h["alg"] == "SHA-256" for h in c["hashes"]) for c in doc["components"])
    read = read_sbom(out)
    assert (read.component_count, read.problems) == (2000, ())
    assert all(c.in_dependency_graph for c in read.components)
