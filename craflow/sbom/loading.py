"""Loading untrusted SBOM bytes safely: size limit, nesting limit, no XML entities or DTDs.

Everything that goes wrong becomes one `SbomError` line; nothing here raises anything else.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from craflow.sbom.errors import SbomFileNotFoundError, SbomFormatError, SbomTooLargeError

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
_PROBE_BYTES = 4096


@dataclass(frozen=True)
class LoadedFile:
    """A parsed input: `json` holds the document for JSON, `xml` the root element for XML."""

    path: Path
    encoding: Literal["json", "xml"]
    text: str
    sha256: str
    size_bytes: int
    json: Any = None
    xml: Element | None = None


def read_bytes_limited(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes; refuses missing files, directories and anything over `max_bytes`."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise SbomFileNotFoundError(f"{path}: no such file") from exc
    except OSError as exc:
        raise SbomFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if path.is_dir():
        raise SbomFormatError(f"{path}: is a directory, not a file")
    if size > max_bytes:
        raise SbomTooLargeError(f"{path}: {size} bytes is over the limit of {max_bytes} bytes")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SbomFormatError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(data) > max_bytes:
        raise SbomTooLargeError(f"{path}: over the limit of {max_bytes} bytes")
    return data


def json_depth_exceeds(document: Any, limit: int) -> bool:
    """True when arrays/objects in `document` nest deeper than `limit` (iterative walk)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _parse_json(path: Path, text: str, max_depth: int) -> Any:
    try:
        document = json.loads(text)
    except RecursionError as exc:
        raise SbomFormatError(f"{path}: JSON nested too deeply (limit {max_depth})") from exc
    except ValueError as exc:
        raise SbomFormatError(f"{path}: not valid JSON ({exc})") from exc
    if json_depth_exceeds(document, max_depth):
        raise SbomFormatError(f"{path}: JSON nested too deeply (limit {max_depth})")
    return document


def _parse_xml(path: Path, text: str) -> Element:
    try:
        root: Element = SafeET.fromstring(
            text, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise SbomFormatError(
            f"{path}: XML with a DTD or entity declarations is refused ({type(exc).__name__})"
        ) from exc
    except ParseError as exc:
        raise SbomFormatError(f"{path}: not well-formed XML ({exc})") from exc
    return root


def load_file(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> LoadedFile:
    """Read and parse `path` as JSON or XML, safely; raise `SbomError` on anything bad."""
    path = Path(path)
    data = read_bytes_limited(path, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SbomFormatError(f"{path}: not UTF-8 text (byte {exc.start}); not an SBOM") from exc
    digest = hashlib.sha256(data).hexdigest()
    head = text[:_PROBE_BYTES].lstrip()
    if not head:
        raise SbomFormatError(f"{path}: empty file")
    if head.startswith(("{", "[")):
        document = _parse_json(path, text, max_depth)
        return LoadedFile(path, "json", text, digest, len(data), json=document)
    if head.startswith("<"):
        return LoadedFile(path, "xml", text, digest, len(data), xml=_parse_xml(path, text))
    if head.startswith(("SPDXVersion:", "##")) or "\nSPDXVersion:" in head:
        raise SbomFormatError(
            f"{path}: SPDX tag-value is not supported; use SPDX JSON or CycloneDX"
        )
    raise SbomFormatError(f"{path}: neither JSON nor XML; not an SBOM")
