"""Hostile VEX input: refused with one clear line before anything could be applied."""

import json
from pathlib import Path

import pytest

from craflow.vex.errors import VexFileNotFoundError, VexFormatError, VexTooLargeError
from craflow.vex.model import VexDocument
from craflow.vex.reader import parse_vex, read_vex


def limits(**overrides: int) -> dict[str, int]:
    return {"max_bytes": 1 << 20, "max_depth": 64, "max_statements": 100, **overrides}


def parse(doc: object, **kw: int) -> VexDocument:
    return parse_vex(
        json.dumps(doc).encode(),
        max_depth=kw.get("max_depth", 64),
        max_statements=kw.get("max_statements", 100),
    )


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"\x00\x01binary", "not valid UTF-8 JSON"),
        (b"<?xml version='1.0'?><bom/>", "not valid UTF-8 JSON"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}', "not VEX"),
        (b'{"spdxVersion": "SPDX-2.3"}', "not a VEX document"),
        (b'{"document": {"category": "csaf_security_advisory"}}', "not csaf_vex"),
        (b"[1, 2, 3]", "not a VEX document"),
        (b"[" * 500 + b"]" * 500, "nested too deeply"),
    ],
)
def test_wrong_formats_are_refused_with_one_line(content: bytes, phrase: str) -> None:
    with pytest.raises(VexFormatError) as caught:
        parse_vex(content, max_depth=64, max_statements=100)
    assert phrase in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b'{"statements": [' + b'{"a": 1},' * 200_000 + b"{}]}")
    with pytest.raises(VexTooLargeError, match="over the limit"):
        read_vex(path, **limits(max_bytes=1 << 20))


def test_too_many_statements_are_refused() -> None:
    statements = [
        {
            "vulnerability": {"name": f"CVE-2024-{i:04d}"},
            "products": [{"@id": "pkg:pypi/x@1"}],
            "status": "fixed",
        }
        for i in range(50)
    ]
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "statements": statements}
    with pytest.raises(VexTooLargeError, match="50 statements"):
        parse(doc, max_statements=10)


def test_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(VexFileNotFoundError):
        read_vex(tmp_path / "nope.json", **limits())


def test_statuses_not_allowed_and_malformed_statements_are_skipped_with_reasons() -> None:
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "statements": [
            {
                "vulnerability": {"name": "CVE-1"},
                "products": [{"@id": "pkg:pypi/x@1"}],
                "status": "exploited",
            },
            {
                "vulnerability": {"name": "CVE-2"},
                "products": [{"@id": "pkg:pypi/x@1"}],
                "status": "not_affected",
                "impact_statement": "trust me",
            },
            {"vulnerability": "CVE-3", "status": "fixed"},
            "not an object",
            {"vulnerability": {"name": "CVE-4"}, "products": "pkg:pypi/x@1", "status": "fixed"},
        ],
    }
    parsed = parse(doc)
    assert parsed.statements == ()
    reasons = [s.reason for s in parsed.skipped]
    assert any("not an OpenVEX 0.2.0 status" in r for r in reasons)
    assert any("without a justification" in r for r in reasons)
    assert sum("without a vulnerability name" in r for r in reasons) == 2


def test_cyclonedx_with_garbage_fields_does_not_crash() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "components": "nope",
        "vulnerabilities": [
            {"id": "CVE-1", "analysis": "x", "affects": [{"ref": 5}, "y", {"ref": "pkg:pypi/a@1"}]},
            {"id": 7},
            None,
        ],
    }
    parsed = parse(doc)
    assert len(parsed.skipped) == 3


def test_csaf_with_deep_branches_and_unknown_product_ids() -> None:
    branch: dict[str, object] = {"product": {"product_id": "P", "name": "p"}}
    for _ in range(40):
        branch = {"branches": [branch]}
    doc = {
        "document": {"category": "csaf_vex"},
        "product_tree": {"branches": [branch]},
        "vulnerabilities": [
            {"cve": "CVE-2024-0001", "product_status": {"fixed": ["P", "UNKNOWN", 3]}},
            {"product_status": {"fixed": ["P"]}},
        ],
    }
    parsed = parse(doc, max_depth=200)
    assert [s.component_name for s in parsed.statements] == ["P", "UNKNOWN"]
    assert len(parsed.skipped) == 1
