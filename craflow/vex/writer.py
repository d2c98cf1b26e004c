"""Build a VEX document of a version's triage, validate it against its official schema, write it.

Nothing is written when the document is not valid; the file appears whole or not at all
(written beside the target, then renamed).
"""

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from craflow.vex.csaf import build_csaf
from craflow.vex.cyclonedx import build_cyclonedx
from craflow.vex.errors import VexInputError
from craflow.vex.model import Finding, Subject, VexFormat
from craflow.vex.openvex import build_openvex
from craflow.vex.validate import check_schema

_BUILDERS: dict[str, Callable[[Iterable[Finding], Subject], dict[str, Any]]] = {
    "cyclonedx": build_cyclonedx,
    "openvex": build_openvex,
    "csaf": build_csaf,
}
#: OpenVEX needs at least one statement, CSAF VEX at least one vulnerability
_NEEDS_FINDINGS = ("openvex", "csaf")


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def render_vex(findings: Sequence[Finding], subject: Subject, fmt: VexFormat) -> bytes:
    """The validated document as UTF-8 JSON bytes; `VexSchemaError` when it is not valid."""
    if not findings and fmt in _NEEDS_FINDINGS:
        raise VexInputError(
            f"{subject.product} {subject.version} has no findings: {fmt} cannot express that "
            "(CycloneDX can)"
        )
    if not subject.timestamp:
        subject = Subject(subject.product, subject.version, subject.author, now_iso())
    document = _BUILDERS[fmt](findings, subject)
    check_schema(document, fmt)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_vex(findings: Sequence[Finding], subject: Subject, fmt: VexFormat, path: Path) -> int:
    """Write the validated document to *path* atomically; return its size in bytes."""
    data = render_vex(findings, subject, fmt)
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)
