"""jsonschema-rs with the bundled schemas agrees with cyclonedx-python-lib's own validator."""

import copy
import json
from typing import Any

import pytest

from craflow.sbom import generate_sbom, serialize
from craflow.sbom.validate import json_errors
from tests.unit.sbom.conftest import DATA, PYLOCK

# importing the library's JSON validator alone costs about 3 s (rfc3987_syntax)
pytestmark = pytest.mark.slow

VALID_16: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {
        "timestamp": "2025-01-02T03:04:05Z",
        "authors": [{"name": "ACME", "email": "sbom@acme.example"}],
        "component": {"type": "application", "name": "shop", "version": "1", "bom-ref": "shop"},
    },
    "components": [
        {
            "type": "library",
            "name": "idna",
            "version": "3.10",
            "bom-ref": "pkg:pypi/idna@3.10",
            "purl": "pkg:pypi/idna@3.10",
            "licenses": [{"license": {"id": "BSD-3-Clause"}}],
            "hashes": [{"alg": "SHA-256", "content": "a" * 64}],
        }
    ],
    "dependencies": [
        {"ref": "shop", "dependsOn": ["pkg:pypi/idna@3.10"]},
        {"ref": "pkg:pypi/idna@3.10"},
    ],
}


def _mutants() -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []

    def mutate(name: str, change: Any) -> None:
        doc = copy.deepcopy(VALID_16)
        change(doc)
        cases.append((name, doc))

    mutate("unknown top-level property", lambda d: d.update(extra=1))
    mutate("bad email format", lambda d: d["metadata"]["authors"][0].update(email="not mail"))
    mutate("bad timestamp format", lambda d: d["metadata"].update(timestamp="yesterday"))
    mutate("bad serial", lambda d: d.update(serialNumber="123"))
    mutate(
        "unknown licence id",
        lambda d: d["components"][0]["licenses"][0]["license"].update(id="Not-A-Licence"),
    )
    mutate("short hash", lambda d: d["components"][0]["hashes"][0].update(content="abc"))
    mutate("bad component type", lambda d: d["components"][0].update(type="gizmo"))
    mutate("missing name", lambda d: d["components"][0].pop("name"))
    mutate("wrong type", lambda d: d.update(version="one"))
    mutate("unknown component property", lambda d: d["components"][0].update(colour="red"))
    return cases


def _documents() -> list[tuple[str, str, dict[str, Any]]]:
    docs = [("valid 1.6", "1.6", VALID_16)]
    docs += [(name, "1.6", doc) for name, doc in _mutants()]
    # a real document, trimmed: the library's Python format checks take about a second per
    # URL-heavy component (about 60 s for the whole file), which is why craflow avoids them
    real = json.loads((DATA / "laravel-7.12.0__bom.1.4.json").read_text())
    real["components"] = real["components"][:1]
    real["dependencies"] = []
    docs.append(("real laravel 1.4, 1 component", "1.4", real))
    broken = copy.deepcopy(real)
    broken["components"][0]["hashes"] = [{"alg": "SHA-256", "content": "xyz"}]
    docs.append(("real laravel 1.4, bad hash", "1.4", broken))
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, dict[str, Any]]]:
    """The documents, with craflow's own output of a small lockfile, built once."""
    lock = tmp_path_factory.mktemp("agreement") / "pylock.toml"
    lock.write_text(PYLOCK)
    generated = generate_sbom("pylock", str(lock), product="shop", version="1")
    return [*_documents(), ("craflow output", "1.6", json.loads(serialize(generated)))]


@pytest.fixture(scope="module")
def library_validators() -> dict[tuple[bool, str], Any]:
    """The library's own validators (≈3 s to import), created once for the module."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator, JsonValidator

    return {
        (strict, spec): (JsonStrictValidator if strict else JsonValidator)(
            SchemaVersion.from_version(spec)
        )
        for strict in (True, False)
        for spec in ("1.4", "1.6")
    }


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_fast_validator_agrees_with_the_library(
    strict: bool,
    corpus: list[tuple[str, str, dict[str, Any]]],
    library_validators: dict[tuple[bool, str], Any],
) -> None:
    verdicts = []
    for name, spec, doc in corpus:
        library = library_validators[strict, spec].validate_str(json.dumps(doc))
        ours = json_errors(doc, spec, strict=strict)
        verdicts.append((name, library is None, not ours))
    disagreements = [v for v in verdicts if v[1] != v[2]]
    assert disagreements == []
    # the corpus really contains both outcomes
    assert {v[1] for v in verdicts} == {True, False}
    assert sum(1 for v in verdicts if not v[1]) >= 9
