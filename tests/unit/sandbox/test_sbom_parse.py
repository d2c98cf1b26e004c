import json
from pathlib import Path

import pytest

from craflow.sandbox.errors import ApiError
from craflow.sandbox.sbom_parse import Component, parse_sbom, quality_score

DATA = Path(__file__).resolve().parents[2] / "data" / "sboms"


@pytest.mark.parametrize(
    ("name", "spec", "count"),
    [
        ("dropwizard-1.3.15__bom.json", "1.2", 167),
        ("dropwizard-1.3.15__bom.xml", "1.2", 167),
        ("laravel-7.12.0__bom.1.2.json", "1.2", 62),
        ("laravel-7.12.0__bom.1.3.xml", "1.3", 62),
        ("laravel-7.12.0__bom.1.4.json", "1.4", 62),
    ],
)
def test_real_cyclonedx_sboms_parse(name: str, spec: str, count: int) -> None:
    parsed = parse_sbom((DATA / name).read_bytes(), 64)
    assert (parsed.format, parsed.spec_version, len(parsed.components)) == (
        "cyclonedx",
        spec,
        count,
    )
    assert 0 <= parsed.quality_score <= 100


def test_spdx_json_packages_become_components() -> None:
    doc = {
        "spdxVersion": "SPDX-2.3",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: x"]},
        "packages": [
            {
                "name": "requests",
                "versionInfo": "2.19.0",
                "licenseConcluded": "Apache-2.0",
                "externalRefs": [
                    {"referenceType": "purl", "referenceLocator": "pkg:pypi/requests@2.19.0"}
                ],
            }
        ],
    }
    parsed = parse_sbom(json.dumps(doc).encode(), 64)
    assert parsed.format == "spdx"
    assert parsed.spec_version == "2.3"
    assert parsed.components[0].purl == "pkg:pypi/requests@2.19.0"


def test_quality_rule_is_the_documented_one() -> None:
    full = Component("a", "1", "pkg:pypi/a@1", has_licence=True, has_hash=True)
    bare = Component("b", "", None)
    assert quality_score((full,), True) == 100
    assert quality_score((), False) == 0
    assert quality_score((bare,), False) == 20
    assert quality_score((full, bare), False) == 20 + 10 + 12.5 + 7.5 + 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "Not a recognised SBOM"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"foo": 1}', "neither bomFormat"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.1"}', "specVersion"),
        (
            b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"version": "1"}]}',
            "has no name",
        ),
        (b'{"spdxVersion": "SPDX-2.1", "packages": []}', "SPDX-2.2+"),
        (b"<bom><unclosed></bom>", "not well-formed XML"),
        (b"<html/>", "not a CycloneDX bom"),
    ],
)
def test_invalid_input_is_a_400_naming_the_problem(content: bytes, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_sbom(content, 64)
    assert caught.value.status_code == 400
    assert caught.value.code == "VALIDATION_ERROR"
    assert message in str(caught.value.detail)


def test_entity_expansion_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4">&lol2;</bom>'
    )
    with pytest.raises(ApiError, match="DTDs and entities"):
        parse_sbom(bomb, 64)


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components><component>'
        b"<name>&x;</name></component></components></bom>"
    )
    with pytest.raises(ApiError, match="DTDs and entities"):
        parse_sbom(xxe, 64)


@pytest.mark.parametrize("depth", [100, 100_000])
def test_absurd_json_nesting_is_refused_cleanly(depth: int) -> None:
    nested = b'{"bomFormat": "CycloneDX", "x": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(ApiError, match="nested deeper"):
        parse_sbom(nested, 64)
