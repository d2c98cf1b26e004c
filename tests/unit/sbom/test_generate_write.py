import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.component import Component
from typer.testing import CliRunner

from craflow.cli import app
from craflow.sbom import (
    Creator,
    SbomValidationError,
    check_quality,
    generate_sbom,
    read_sbom,
    write_sbom,
)

runner = CliRunner()
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
CREATOR = Creator("ACME GmbH", "sbom@acme.example", "https://acme.example")


@pytest.mark.parametrize("kind", ["uv-lock", "poetry-lock", "pylock"])
def test_lockfile_sbom_has_sha256_everywhere_graph_and_compositions(
    kind: str, lockfiles: dict[str, Path], tmp_path: Path
) -> None:
    bom = generate_sbom(
        kind, str(lockfiles[kind]), product="shop", version="1.0", now=NOW, creator=CREATOR
    )
    assert all(any(h.alg is HashAlgorithm.SHA_256 for h in c.hashes) for c in bom.components)
    out = write_sbom(bom, tmp_path / "sbom.json")
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.6"
    assert "vulnerabilities" not in doc
    assert doc["compositions"] == [
        {"aggregate": "complete", "assemblies": ["shop@1.0"], "dependencies": ["shop@1.0"]}
    ]
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["pkg:pypi/requests@2.32.3"] == ["pkg:pypi/idna@3.10"]
    assert deps["shop@1.0"] == ["pkg:pypi/requests@2.32.3"]
    assert doc["metadata"]["component"]["name"] == "shop"
    assert doc["metadata"]["tools"]["components"][0]["name"] == "craflow"
    assert doc["metadata"]["lifecycles"] == [{"phase": "build"}]
    assert doc["metadata"]["manufacturer"]["url"] == ["https://acme.example"]
    props = {p["name"]: p["value"] for p in doc["components"][0]["properties"]}
    assert props["bsi:component:archive"] == "archive"


def test_uv_lock_names_the_product_itself(lockfiles: dict[str, Path]) -> None:
    bom = generate_sbom("uv-lock", str(lockfiles["uv-lock"]), product=None, version=None, now=NOW)
    assert bom.metadata.component is not None
    assert (bom.metadata.component.name, bom.metadata.component.version) == ("demo-app", "0.3.0")


def test_reproducible_output_is_byte_identical(
    lockfiles: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    digests = set()
    for i in range(2):
        bom = generate_sbom(
            "pylock", str(lockfiles["pylock"]), product="shop", version="1.0", reproducible=True
        )
        out = write_sbom(bom, tmp_path / f"s{i}.json")
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
        assert json.loads(out.read_text())["metadata"]["timestamp"].startswith(
            "2023-11-14T22:13:20"
        )
    assert len(digests) == 1
    other = generate_sbom(
        "pylock", str(lockfiles["pylock"]), product="shop", version="1.1", reproducible=True
    )
    assert other.serial_number != bom.serial_number


@pytest.mark.parametrize(("spec", "fmt"), [("1.5", "json"), ("1.7", "json"), ("1.6", "xml")])
def test_other_specs_and_xml_are_valid(
    spec: str, fmt: str, lockfiles: dict[str, Path], tmp_path: Path
) -> None:
    bom = generate_sbom("uv-lock", str(lockfiles["uv-lock"]), product=None, version=None, now=NOW)
    out = write_sbom(
        bom, tmp_path / f"sbom.{fmt}", spec=spec, fmt="xml" if fmt == "xml" else "json"
    )
    doc = read_sbom(out)
    assert (doc.spec_version, doc.encoding, doc.component_count) == (spec, fmt, 2)
    assert doc.problems == ()


def test_an_invalid_result_is_an_error_not_a_file(
    lockfiles: dict[str, Path], tmp_path: Path
) -> None:
    bom = generate_sbom("uv-lock", str(lockfiles["uv-lock"]), product=None, version=None, now=NOW)
    bad = Component(name="broken", version="1", bom_ref="broken")
    bad.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content="not-hex"))
    bom.components.add(bad)
    target = tmp_path / "out" / "sbom.json"
    with pytest.raises(SbomValidationError, match=r"not valid CycloneDX 1\.6"):
        write_sbom(bom, target)
    assert not target.parent.exists() or list(target.parent.iterdir()) == []


def test_cli_generate_then_check_with_quality_gate(
    lockfiles: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRAFLOW_SBOM_CREATOR_EMAIL", "sbom@acme.example")
    out = tmp_path / "sbom.json"
    result = runner.invoke(
        app, ["sbom", "generate", "--from", "uv-lock", str(lockfiles["uv-lock"]), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 components" in result.output
    result = runner.invoke(app, ["sbom", "check", str(out), "--json"])
    report = json.loads(result.output)
    assert report["profile"] == "bsi"
    by_key = {e["key"]: e for e in report["elements"]}
    assert by_key["creator_contact"]["covered"] == 1
    assert by_key["filename"]["percent"] == 100.0
    assert by_key["sha512"]["percent"] == 0.0
    assert result.exit_code == 0
    low = runner.invoke(app, ["sbom", "check", str(out), "--fail-under", "100"])
    assert low.exit_code == 14
    ntia = check_quality(out, "ntia")
    supplier = next(e for e in ntia.elements if e.key == "supplier")
    assert (supplier.covered, supplier.total) == (0, 2)  # lockfiles do not name suppliers
    assert ntia.score == round(100 * 6 / 7)
    assert "Supplier name" in ntia.to_markdown()


def test_cli_unknown_product_and_bad_spec_are_one_line(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("idna==3.10\n")
    result = runner.invoke(
        app,
        [
            "sbom",
            "generate",
            "--from",
            "requirements",
            str(req),
            "-o",
            str(tmp_path / "o.json"),
            "--spec",
            "1.4",
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: --spec")
