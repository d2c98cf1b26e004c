"""Read a VEX document of any of the three formats, recognised by content.

Bounded and hostile-input safe: the file is refused above a size limit before it is
parsed, JSON nesting is capped, only JSON is accepted (no XML, so no entity tricks),
the number of statements is capped, and every field is type-checked as it is read:
a malformed statement is reported as skipped, never half-applied.
"""

import json
from pathlib import Path
from typing import Any

from craflow.sbom.errors import SbomError, SbomFileNotFoundError, SbomTooLargeError
from craflow.sbom.loading import json_depth_exceeds, read_bytes_limited
from craflow.vex.csaf import read_csaf
from craflow.vex.cyclonedx import read_cyclonedx
from craflow.vex.errors import VexFileNotFoundError, VexFormatError, VexTooLargeError
from craflow.vex.model import VexDocument, VexFormat
from craflow.vex.openvex import read_openvex


def detect_format(doc: Any) -> VexFormat:
    """Which VEX format a parsed JSON document is; `VexFormatError` when none."""
    if isinstance(doc, dict):
        if doc.get("bomFormat") == "CycloneDX":
            if not isinstance(doc.get("vulnerabilities"), list):
                raise VexFormatError("a CycloneDX document without vulnerabilities is not VEX")
            return "cyclonedx"
        context = doc.get("@context")
        if isinstance(context, str) and "openvex" in context:
            return "openvex"
        document = doc.get("document")
        if isinstance(document, dict) and isinstance(document.get("category"), str):
            if document["category"] != "csaf_vex":
                raise VexFormatError(
                    f"a CSAF document of category {document['category']!r} is not csaf_vex"
                )
            return "csaf"
    raise VexFormatError("not a VEX document: expected CycloneDX 1.x, OpenVEX or CSAF csaf_vex")


def parse_vex(data: bytes, *, max_depth: int, max_statements: int) -> VexDocument:
    """The statements of VEX *data* (JSON) in the platform's vocabulary."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise VexFormatError(f"JSON nested too deeply (limit {max_depth})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise VexFormatError(f"not a VEX document: not valid UTF-8 JSON ({exc})") from None
    if json_depth_exceeds(doc, max_depth):
        raise VexFormatError(f"JSON nested too deeply (limit {max_depth})")
    fmt = detect_format(doc)
    reader = {"cyclonedx": read_cyclonedx, "openvex": read_openvex, "csaf": read_csaf}[fmt]
    statements, skipped = reader(doc)
    if len(statements) + len(skipped) > max_statements:
        raise VexTooLargeError(
            f"{len(statements) + len(skipped)} statements is over the limit of {max_statements}"
        )
    return VexDocument(format=fmt, statements=tuple(statements), skipped=tuple(skipped))


def read_vex(path: Path, *, max_bytes: int, max_depth: int, max_statements: int) -> VexDocument:
    """Read and parse the VEX file at *path* within the given limits."""
    try:
        data = read_bytes_limited(Path(path), max_bytes=max_bytes)
    except SbomFileNotFoundError as exc:
        raise VexFileNotFoundError(str(exc)) from None
    except SbomTooLargeError as exc:
        raise VexTooLargeError(str(exc)) from None
    except SbomError as exc:
        raise VexFormatError(str(exc)) from None
    try:
        return parse_vex(data, max_depth=max_depth, max_statements=max_statements)
    except VexFormatError as exc:
        raise type(exc)(f"{path}: {exc}") from None
