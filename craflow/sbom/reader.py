"""`read_sbom`: detect the format of an SBOM file, read it safely, report what it holds.

CycloneDX JSON (1.2 to 1.7) and XML are read into views straight from the parsed document
(the library model is built only when `SbomDocument.bom` is used); SPDX 2.2+ JSON into
views. Problems (schema errors, missing versions, vulnerability data) are reported, not
raised; only unreadable input raises `SbomError`.
"""

import re
import warnings
from functools import partial
from pathlib import Path
from xml.etree.ElementTree import Element

from cyclonedx.model.bom import Bom

from craflow.sbom.document import DocumentFacts, SbomDocument
from craflow.sbom.errors import SbomFormatError
from craflow.sbom.loading import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, LoadedFile, load_file
from craflow.sbom.spdx import read_spdx
from craflow.sbom.validate import SUPPORTED_JSON_SPECS, json_errors, xml_errors
from craflow.sbom.views import json_facts, xml_facts

_XML_NS = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(\d\.\d)\}bom$")


def _raw_facts(loaded: LoadedFile) -> tuple[str | None, str | None, bool]:
    """(serialNumber, timestamp, has vulnerabilities) as written, not as the library defaults."""
    if loaded.json is not None:
        doc = loaded.json
        meta = doc.get("metadata") or {}
        return doc.get("serialNumber"), meta.get("timestamp"), bool(doc.get("vulnerabilities"))
    root = loaded.xml
    assert root is not None
    ns = root.tag.split("}")[0] + "}"
    stamp = root.find(f"{ns}metadata/{ns}timestamp")
    vulns = root.find(f"{ns}vulnerabilities")
    return (
        root.get("serialNumber"),
        stamp.text if stamp is not None else None,
        vulns is not None and len(vulns) > 0,
    )


def _deserialize(loaded: LoadedFile) -> Bom:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if loaded.json is not None:
                return Bom.from_json(loaded.json)  # type: ignore[attr-defined,no-any-return]
            return Bom.from_xml(loaded.xml)  # type: ignore[attr-defined,no-any-return]
    except Exception as exc:  # the library raises many kinds; all mean "cannot model this"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SbomFormatError(f"{loaded.path}: CycloneDX that cannot be read: {first}") from exc


def read_cyclonedx(loaded: LoadedFile, spec: str) -> SbomDocument:
    """A CycloneDX document (JSON or XML) as an `SbomDocument`; the library model on demand."""
    if loaded.json is not None:
        problems = json_errors(loaded.json, spec, strict=False)
        raw = json_facts(loaded.json)
    else:
        problems = xml_errors(loaded.text, spec)
        assert loaded.xml is not None
        raw = xml_facts(loaded.xml)
    components = raw.components
    serial, timestamp, has_vulns = _raw_facts(loaded)
    if has_vulns:
        problems.append("contains vulnerability data; BSI TR-03183-2 asks for a separate VEX")
    missing = sum(1 for c in components if not c.version)
    if missing:
        problems.append(f"{missing} component(s) without a version")
    if raw.invalid_purls:
        problems.append(f"{raw.invalid_purls} component(s) with an invalid purl")
    facts = DocumentFacts(
        timestamp=timestamp,
        serial_number=serial,
        creator_contact=raw.creator_contact,
        authors=raw.authors,
        tools=raw.tools,
        has_dependencies=bool(raw.graph_refs),
        has_vulnerabilities=has_vulns,
        root_name=raw.root_name,
        root_version=raw.root_version,
    )
    return SbomDocument(
        path=str(loaded.path),
        format="cyclonedx",
        encoding=loaded.encoding,
        spec_version=spec,
        component_count=len(components),
        problems=tuple(problems),
        sha256=loaded.sha256,
        size_bytes=loaded.size_bytes,
        components=components,
        facts=facts,
        load_bom=partial(_deserialize, loaded),
    )


def _cyclonedx_spec(loaded: LoadedFile) -> str | None:
    if loaded.json is not None:
        if not isinstance(loaded.json, dict) or loaded.json.get("bomFormat") != "CycloneDX":
            return None
        return str(loaded.json.get("specVersion", ""))
    root: Element | None = loaded.xml
    match = _XML_NS.match(root.tag) if root is not None else None
    if match is None:
        raise SbomFormatError(f"{loaded.path}: XML, but not a CycloneDX document")
    return match.group(1)


def read_sbom(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> SbomDocument:
    """Read CycloneDX (JSON/XML, 1.2 to 1.7) or SPDX (2.2+ JSON); raise `SbomError` if bad."""
    loaded = load_file(Path(path), max_bytes=max_bytes, max_depth=max_depth)
    spec = _cyclonedx_spec(loaded)
    if spec is not None:
        if spec not in SUPPORTED_JSON_SPECS:
            raise SbomFormatError(
                f"{path}: CycloneDX {spec or '(no specVersion)'} is not supported (1.2 to 1.7 are)"
            )
        return read_cyclonedx(loaded, spec)
    if isinstance(loaded.json, dict) and "spdxVersion" in loaded.json:
        return read_spdx(loaded)
    raise SbomFormatError(f"{path}: JSON, but neither CycloneDX nor SPDX; not an SBOM")
