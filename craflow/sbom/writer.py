"""Serialise a `Bom`, validate it strictly against the official schema, write it atomically.

An invalid result is an error, never a file: the document is checked in memory and only
then written to a temporary file beside the target and renamed into place.
"""

import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import quoteattr

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion

from craflow.sbom.builder import COMPLETENESS_PROPERTY
from craflow.sbom.errors import SbomError, SbomValidationError
from craflow.sbom.prepared import JsonObject, PreparedBom
from craflow.sbom.serializing import library_json, library_xml, prepared_json
from craflow.sbom.validate import json_errors, xml_errors

Format = Literal["json", "xml"]
WRITABLE_SPECS = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")


def schema_version(spec: str) -> SchemaVersion:
    """The library's `SchemaVersion` for `spec`, with a clear error when it is not there."""
    if spec not in WRITABLE_SPECS:
        raise SbomError(
            f"CycloneDX {spec} cannot be written; choose one of {', '.join(WRITABLE_SPECS)}"
        )
    try:
        return SchemaVersion.from_version(spec)
    except ValueError as exc:
        raise SbomError(
            f"the installed cyclonedx-python-lib {version('cyclonedx-python-lib')} "
            f"cannot write CycloneDX {spec}; upgrade it or choose another --spec"
        ) from exc


def compositions_for(bom: Bom) -> list[dict[str, Any]]:
    """A `compositions` entry from the completeness the builder recorded (else none)."""
    aggregate = next(
        (p.value for p in bom.metadata.properties if p.name == COMPLETENESS_PROPERTY), None
    )
    root = bom.metadata.component
    if aggregate is None or root is None or root.bom_ref.value is None:
        return []
    ref = root.bom_ref.value
    return [{"aggregate": aggregate, "assemblies": [ref], "dependencies": [ref]}]


def _xml_compositions(compositions: list[dict[str, Any]]) -> str:
    parts = ["<compositions>"]
    for comp in compositions:
        parts.append(f"<composition><aggregate>{comp['aggregate']}</aggregate>")
        if comp.get("assemblies"):
            refs = "".join(f"<assembly ref={quoteattr(r)}/>" for r in comp["assemblies"])
            parts.append(f"<assemblies>{refs}</assemblies>")
        if comp.get("dependencies"):
            refs = "".join(f"<dependency ref={quoteattr(r)}/>" for r in comp["dependencies"])
            parts.append(f"<dependencies>{refs}</dependencies>")
        parts.append("</composition>")
    parts.append("</compositions>")
    return "".join(parts)


def _json_data(bom: Bom, version: SchemaVersion, comps: list[dict[str, Any]]) -> JsonObject:
    if isinstance(bom, PreparedBom) and version >= SchemaVersion.V1_5:
        data = prepared_json(bom, version)
    else:
        data = library_json(bom, version)
    if comps:
        data["compositions"] = comps
    return data


def _text(data: JsonObject) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def serialize(
    bom: Bom,
    *,
    spec: str = "1.6",
    fmt: Format = "json",
    compositions: list[dict[str, Any]] | None = None,
) -> str:
    """The document text of `bom` at `spec`, with `compositions` added (≥ 1.3)."""
    version = schema_version(spec)
    comps = compositions_for(bom) if compositions is None else compositions
    comps = comps if version >= SchemaVersion.V1_3 else []
    if fmt == "json":
        return _text(_json_data(bom, version, comps))
    text = library_xml(bom, version)
    if not comps:
        return text
    marker = "</dependencies>\n"
    cut = text.rfind(marker)
    if cut < 0:
        return text
    cut += len(marker)
    return text[:cut] + _xml_compositions(comps) + "\n" + text[cut:]


def _raise_errors(errors: list[str], spec: str) -> None:
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise SbomValidationError(f"result is not valid CycloneDX {spec}: {errors[0]}{more}")


def check_text(text: str, *, spec: str, fmt: Format) -> None:
    """Raise `SbomValidationError` unless `text` is valid against the strict official schema."""
    if fmt == "json":
        _raise_errors(json_errors(json.loads(text), spec, strict=True), spec)
    else:
        _raise_errors(xml_errors(text, spec), spec)


def write_text_atomically(text: str, path: Path) -> Path:
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or removed
        "w",
        encoding="utf-8",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
    )
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(handle.name).replace(path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return path


def write_sbom(
    bom: Bom,
    path: Path,
    *,
    spec: str = "1.6",
    fmt: Format = "json",
    compositions: list[dict[str, Any]] | None = None,
) -> Path:
    """Serialise, validate strictly and atomically write `bom`; an invalid result writes nothing."""
    if fmt != "json":
        text = serialize(bom, spec=spec, fmt=fmt, compositions=compositions)
        check_text(text, spec=spec, fmt=fmt)
        return write_text_atomically(text, Path(path))
    version = schema_version(spec)
    comps = compositions_for(bom) if compositions is None else compositions
    data = _json_data(bom, version, comps if version >= SchemaVersion.V1_3 else [])
    _raise_errors(json_errors(data, spec, strict=True), spec)
    return write_text_atomically(_text(data), Path(path))
