import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from craflow.cli import app
from craflow.sbom import SbomDocument, SbomError, convert_sbom, read_sbom
from craflow.sbom.loading import json_depth_exceeds
from tests.unit.sbom.conftest import REAL_SBOMS

runner = CliRunner()

EXPECTED = {
    "dropwizard-1.3.15__bom.json": ("1.2", 167),
    "dropwizard-1.3.15__bom.xml": ("1.2", 167),
    "laravel-7.12.0__bom.1.2.json": ("1.2", 62),
    "laravel-7.12.0__bom.1.3.xml": ("1.3", 62),
    "laravel-7.12.0__bom.1.4.json": ("1.4", 62),
}


def _identities(doc: SbomDocument) -> set[tuple[str, str | None, str | None]]:
    return {(c.name, c.version, c.purl) for c in doc.components}


@pytest.mark.parametrize("path", REAL_SBOMS, ids=lambda p: p.name)
def test_real_sboms_read_and_upgrade_to_16_with_the_same_components(
    path: Path, tmp_path: Path
) -> None:
    doc = read_sbom(path)
    assert doc.format == "cyclonedx"
    assert (doc.spec_version, doc.component_count) == EXPECTED[path.name]
    assert doc.problems == ()
    assert len(doc.sha256) == 64
    assert doc.size_bytes == path.stat().st_size
    # each file upgrades in its own format and in the other one
    fmt = "xml" if doc.encoding == "json" else "json"
    out = convert_sbom(path, tmp_path / f"up.{fmt}", spec="1.6", fmt=fmt)
    upgraded = read_sbom(out)
    assert (upgraded.spec_version, upgraded.encoding) == ("1.6", fmt)
    assert _identities(upgraded) == _identities(doc)


def _bad_files(tmp: Path) -> dict[str, Path]:
    real = (REAL_SBOMS[0]).read_text()
    files = {
        "truncated.json": real[: len(real) // 2],
        "not-an-sbom.json": json.dumps({"name": "package.json", "version": "1.0.0"}),
        "tag-value.spdx": "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n",
        "xxe.xml": (
            '<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>&xxe;</components></bom>'
        ),
        "laughs.xml": (
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(
                f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                for i in range(1, 10)
            )
            + ']>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.4">&lol9;</bom>'
        ),
        "deep.json": "[" * 10_000 + "]" * 10_000,
        "not-cyclonedx.xml": "<project><name>x</name></project>",
        "empty.json": "",
        "old-spdx.json": json.dumps({"spdxVersion": "SPDX-2.1", "packages": []}),
        "binary.bin": "",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp / name
        paths[name].write_text(text)
    paths["binary.bin"].write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    huge = tmp / "huge.json"
    with huge.open("wb") as handle:  # sparse: 2 GB apparent size, nothing written
        handle.truncate(2 * 1024**3)
    paths["huge.json"] = huge
    return paths


def test_bad_files_each_give_one_clear_line_and_nonzero_exit(tmp_path: Path) -> None:
    for name, path in _bad_files(tmp_path).items():
        with pytest.raises(SbomError) as caught:
            read_sbom(path)
        assert "\n" not in str(caught.value), name
        result = runner.invoke(app, ["sbom", "check", str(path)])
        assert result.exit_code == 4, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, result.output)
        assert "Traceback" not in result.output


def test_missing_file_exits_5() -> None:
    result = runner.invoke(app, ["sbom", "check", "/nonexistent/sbom.json"])
    assert result.exit_code == 5
    assert "no such file" in result.output


def test_configured_size_limit_is_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRAFLOW_SBOM_MAX_INPUT_BYTES", "2048")
    result = runner.invoke(app, ["sbom", "check", str(REAL_SBOMS[0])])
    assert result.exit_code == 4
    assert "over the limit of 2048 bytes" in result.output


def test_depth_check_is_exact() -> None:
    assert not json_depth_exceeds({"a": [{"b": 1}]}, 3)
    assert json_depth_exceeds({"a": [{"b": []}]}, 3)


def test_spdx_json_is_read(tmp_path: Path) -> None:
    spdx = {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "demo",
        "documentNamespace": "https://example.com/demo-1",
        "creationInfo": {
            "created": "2024-01-01T00:00:00Z",
            "creators": ["Organization: ACME (sbom@acme.example)", "Tool: x"],
        },
        "packages": [
            {
                "SPDXID": "SPDXRef-a",
                "name": "a",
                "versionInfo": "1.0",
                "supplier": "Organization: ACME",
                "licenseConcluded": "MIT",
                "checksums": [{"algorithm": "SHA512", "checksumValue": "ab"}],
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:pypi/a@1.0",
                    }
                ],
            }
        ],
        "relationships": [
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": "SPDXRef-a",
            }
        ],
    }
    path = tmp_path / "demo.spdx.json"
    path.write_text(json.dumps(spdx))
    doc = read_sbom(path)
    assert (doc.format, doc.spec_version, doc.component_count) == ("spdx", "2.3", 1)
    assert doc.purls == {"pkg:pypi/a@1.0"}
    assert doc.facts.creator_contact == "sbom@acme.example"
    assert doc.components[0].hash_algorithms == {"SHA-512"}
    with pytest.raises(SbomError, match="only CycloneDX"):
        convert_sbom(path, tmp_path / "out.json")
