"""Hostile SBOM files, written on demand into a folder (never checked in).

Each maker takes a folder and returns the path it wrote. Nothing here reads the
network; the 1 GB file is sparse (no disk blocks), the gzip bomb is ~1 MB that
inflates to 1 GiB.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

REAL_SBOM_DIR = Path(__file__).resolve().parents[1] / "data" / "sboms"


def minimal_cyclonedx(components: list[dict[str, object]] | None = None) -> dict[str, object]:
    """A small, valid CycloneDX 1.5 JSON document."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "hostile-app", "version": "1"}},
        "components": components
        if components is not None
        else [
            {
                "type": "library",
                "name": "requests",
                "version": "2.31.0",
                "purl": "pkg:pypi/requests@2.31.0",
                "bom-ref": "pkg:pypi/requests@2.31.0",
            }
        ],
    }


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def malformed_json(folder: Path) -> Path:
    return _write(folder, "malformed.json", b'{"bomFormat": "CycloneDX", "specVersion": 1.5,,}')


def truncated_json(folder: Path) -> Path:
    whole = json.dumps(minimal_cyclonedx()).encode()
    return _write(folder, "truncated.json", whole[: len(whole) // 2])


def empty_file(folder: Path) -> Path:
    return _write(folder, "empty.json", b"")


def json_not_an_object(folder: Path) -> Path:
    return _write(folder, "array.json", b"[1, 2, 3]")


def json_not_an_sbom(folder: Path) -> Path:
    return _write(folder, "not-sbom.json", b'{"hello": "world"}')


def json_deeply_nested(folder: Path) -> Path:
    depth = 10_000
    doc = minimal_cyclonedx()
    head = json.dumps(doc)[:-1]
    nested = '{"a":' * depth + "1" + "}" * depth
    return _write(folder, "deep.json", f'{head}, "properties_x": {nested}}}'.encode())


def json_non_utf8(folder: Path) -> Path:
    text = json.dumps(minimal_cyclonedx()).encode()
    return _write(folder, "latin1.json", text.replace(b"requests", b"r\xe9qu\xeas\xff\xfe"))


def binary_garbage(folder: Path) -> Path:
    return _write(folder, "garbage.json", bytes(range(256)) * 16)


def invalid_purl(folder: Path) -> Path:
    doc = minimal_cyclonedx(
        [{"type": "library", "name": "x", "version": "1", "purl": "pkg:::not a purl@@"}]
    )
    return _write(folder, "bad-purl.json", json.dumps(doc).encode())


def unsupported_spec_version(folder: Path) -> Path:
    doc = minimal_cyclonedx()
    doc["specVersion"] = "9.9"
    return _write(folder, "spec99.json", json.dumps(doc).encode())


def unsupported_format_spdx_tag_value(folder: Path) -> Path:
    return _write(
        folder,
        "sbom.spdx",
        b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n",
    )


def wrong_bom_format(folder: Path) -> Path:
    doc = minimal_cyclonedx()
    doc["bomFormat"] = "NotCycloneDX"
    return _write(folder, "wrong-format.json", json.dumps(doc).encode())


def malformed_xml(folder: Path) -> Path:
    return _write(
        folder,
        "malformed.xml",
        b'<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>',
    )


def truncated_xml(folder: Path) -> Path:
    whole = (REAL_SBOM_DIR / "dropwizard-1.3.15__bom.xml").read_bytes()
    return _write(folder, "truncated.xml", whole[: len(whole) // 2])


def xml_external_entity(folder: Path) -> Path:
    return _write(
        folder,
        "xxe.xml",
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components>'
        b'<component type="library"><name>&xxe;</name><version>1</version></component>'
        b"</components></bom>",
    )


def xml_billion_laughs(folder: Path) -> Path:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = "<!DOCTYPE bom [" + "".join(entities) + "]>"
    return _write(
        folder,
        "laughs.xml",
        (
            '<?xml version="1.0"?>\n'
            + doctype
            + '<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components>'
            '<component type="library"><name>&lol9;</name><version>1</version></component>'
            "</components></bom>"
        ).encode(),
    )


def xml_external_dtd(folder: Path) -> Path:
    return _write(
        folder,
        "external-dtd.xml",
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"/>',
    )


def sparse_one_gigabyte(folder: Path) -> Path:
    path = folder / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(2**30)
    return path


def gzip_bomb(folder: Path) -> Path:
    """~1 MB on disk, 1 GiB of zeros when inflated (1024 gzip members of 1 MiB each)."""
    member = gzip.compress(bytes(2**20), compresslevel=9)
    return _write(folder, "bomb.json.gz", member * 1024)


def gzip_bomb_as_json(folder: Path) -> Path:
    """The same bomb under a plain `.json` name."""
    source = gzip_bomb(folder)
    return _write(folder, "bomb-plain.json", source.read_bytes())


def component_name_with_path_separators(folder: Path) -> Path:
    doc = minimal_cyclonedx([{"type": "library", "name": "../../../etc/passwd", "version": "1"}])
    return _write(folder, "path-name.json", json.dumps(doc).encode())


def component_name_with_control_characters(folder: Path) -> Path:
    doc = minimal_cyclonedx(
        [{"type": "library", "name": "evil\x1b[2J\x1b[31mred\x00\r\nFAKE LINE", "version": "1"}]
    )
    return _write(folder, "control-name.json", json.dumps(doc).encode())


def a_directory(folder: Path) -> Path:
    path = folder / "a-directory.json"
    path.mkdir()
    return path


def missing_file(folder: Path) -> Path:
    return folder / "does-not-exist.json"


SBOM_FILE_MAKERS: dict[str, Callable[[Path], Path]] = {
    fn.__name__: fn
    for fn in (
        malformed_json,
        truncated_json,
        empty_file,
        json_not_an_object,
        json_not_an_sbom,
        json_deeply_nested,
        json_non_utf8,
        binary_garbage,
        invalid_purl,
        unsupported_spec_version,
        unsupported_format_spdx_tag_value,
        wrong_bom_format,
        malformed_xml,
        truncated_xml,
        xml_external_entity,
        xml_billion_laughs,
        xml_external_dtd,
        sparse_one_gigabyte,
        gzip_bomb,
        gzip_bomb_as_json,
        component_name_with_path_separators,
        component_name_with_control_characters,
        a_directory,
        missing_file,
    )
}
