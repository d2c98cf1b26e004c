"""Recognise, parse and check an uploaded SBOM before anything is stored.

Accepted: CycloneDX JSON (spec 1.2-1.7), CycloneDX XML (any 1.x namespace), SPDX
JSON 2.2 or later. The format is recognised by content, never by file name.
XML is parsed with defusedxml with DTDs forbidden (no external entities, no
entity expansion); JSON nesting deeper than a configured limit is refused.

Quality score (0-100), the documented rule:
  20 points when the SBOM lists at least one component, then, as shares of its
  components: 20 x with a version, 25 x with a purl, 15 x with a licence,
  10 x with a hash; and 10 points when the document records when and by which
  tool (or author) it was made. Rounded to the nearest integer.
"""

import json
import re
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring

from craflow.sandbox.errors import invalid

CYCLONEDX_JSON_VERSIONS = frozenset({"1.2", "1.3", "1.4", "1.5", "1.6", "1.7"})
_CDX_NS = re.compile(r"^\{http://cyclonedx\.org/schema/bom/(1\.\d+)\}bom$")
_SPDX_VERSION = re.compile(r"^SPDX-2\.(\d+)$")


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    purl: str | None
    has_licence: bool = False
    has_hash: bool = False


@dataclass(frozen=True)
class ParsedSbom:
    format: str  # "cyclonedx" or "spdx"
    spec_version: str
    components: tuple[Component, ...]
    has_provenance: bool

    @property
    def quality_score(self) -> int:
        return quality_score(self.components, self.has_provenance)


def quality_score(components: tuple[Component, ...], has_provenance: bool) -> int:
    """The documented quality rule (see the module docstring)."""
    score = 10.0 if has_provenance else 0.0
    n = len(components)
    if n:
        score += 20
        score += 20 * sum(1 for c in components if c.version) / n
        score += 25 * sum(1 for c in components if c.purl) / n
        score += 15 * sum(1 for c in components if c.has_licence) / n
        score += 10 * sum(1 for c in components if c.has_hash) / n
    return round(score)


def parse_sbom(data: bytes, max_json_depth: int) -> ParsedSbom:
    """Parse *data*; raise a 400 VALIDATION_ERROR naming the problem when it is not an SBOM."""
    text_start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if text_start in (b"{", b"["):
        return _parse_json(data, max_json_depth)
    if text_start == b"<":
        return _parse_cyclonedx_xml(data)
    raise invalid("Not a recognised SBOM: expected CycloneDX JSON or XML, or SPDX JSON")


def _json_depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def load_json_object(data: bytes, max_depth: int, *, file: str, kind: str) -> dict[str, Any]:
    """An upload's JSON object, bounded in depth; 400 naming *file* / *kind* otherwise."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except RecursionError as exc:
        raise invalid(f"JSON is nested deeper than {max_depth} levels") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"{file} is not valid JSON: {exc}") from exc
    if _json_depth_exceeds(doc, max_depth):
        raise invalid(f"JSON is nested deeper than {max_depth} levels")
    if not isinstance(doc, dict):
        raise invalid(f"Not a recognised {kind}: the JSON document is not an object")
    return doc


def _parse_json(data: bytes, max_depth: int) -> ParsedSbom:
    doc = load_json_object(data, max_depth, file="File", kind="SBOM")
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx_json(doc)
    if "spdxVersion" in doc:
        return _spdx_json(doc)
    raise invalid("Not a recognised SBOM: JSON has neither bomFormat=CycloneDX nor spdxVersion")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _cyclonedx_json(doc: dict[str, Any]) -> ParsedSbom:
    spec = doc.get("specVersion")
    if spec not in CYCLONEDX_JSON_VERSIONS:
        raise invalid(f"Unsupported CycloneDX JSON specVersion {spec!r} (1.2 to 1.7 accepted)")
    found: list[Component] = []
    pending = [("components", doc.get("components", []))]
    meta = doc.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        pending.append(("metadata.component.components", meta["component"].get("components", [])))
    while pending:
        where, items = pending.pop()
        if not isinstance(items, list):
            raise invalid(f"CycloneDX '{where}' must be a list")
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not _text(item.get("name")):
                raise invalid(f"CycloneDX {where}[{index}] has no name")
            found.append(
                Component(
                    name=_text(item["name"]),
                    version=_text(item.get("version")),
                    purl=_text(item.get("purl")) or None,
                    has_licence=bool(item.get("licenses")),
                    has_hash=bool(item.get("hashes")),
                )
            )
            if "components" in item:
                pending.append((f"{where}[{index}].components", item["components"]))
    provenance = (
        isinstance(meta, dict)
        and bool(meta.get("timestamp"))
        and bool(meta.get("tools") or meta.get("authors"))
    )
    return ParsedSbom("cyclonedx", str(spec), tuple(found), provenance)


def _spdx_json(doc: dict[str, Any]) -> ParsedSbom:
    match = _SPDX_VERSION.match(str(doc.get("spdxVersion")))
    if not match or int(match.group(1)) < 2:
        raise invalid(f"Unsupported spdxVersion {doc.get('spdxVersion')!r} (SPDX-2.2+ accepted)")
    packages = doc.get("packages", [])
    if not isinstance(packages, list):
        raise invalid("SPDX 'packages' must be a list")
    found: list[Component] = []
    for index, pkg in enumerate(packages):
        if not isinstance(pkg, dict) or not _text(pkg.get("name")):
            raise invalid(f"SPDX packages[{index}] has no name")
        refs = pkg.get("externalRefs") or []
        purl = next(
            (
                _text(r.get("referenceLocator"))
                for r in refs
                if isinstance(r, dict) and r.get("referenceType") == "purl"
            ),
            "",
        )
        licence = _text(pkg.get("licenseConcluded")) or _text(pkg.get("licenseDeclared"))
        found.append(
            Component(
                name=_text(pkg["name"]),
                version=_text(pkg.get("versionInfo")),
                purl=purl or None,
                has_licence=licence not in ("", "NOASSERTION", "NONE"),
                has_hash=bool(pkg.get("checksums")),
            )
        )
    info = doc.get("creationInfo")
    provenance = isinstance(info, dict) and bool(info.get("created")) and bool(info.get("creators"))
    return ParsedSbom(
        "spdx", str(doc["spdxVersion"]).removeprefix("SPDX-"), tuple(found), provenance
    )


def _parse_cyclonedx_xml(data: bytes) -> ParsedSbom:
    try:
        root = xml_fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise invalid(
            f"XML refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from exc
    except ParseError as exc:
        raise invalid(f"File is not well-formed XML: {exc}") from exc
    match = _CDX_NS.match(root.tag)
    if not match:
        raise invalid(f"Not a recognised SBOM: XML root is {root.tag!r}, not a CycloneDX bom")
    spec = match.group(1)
    ns = "{http://cyclonedx.org/schema/bom/" + spec + "}"
    found: list[Component] = []
    stack: list[Element] = list(root.findall(f"{ns}components"))
    meta_component = root.find(f"{ns}metadata/{ns}component")
    if meta_component is not None:
        stack.extend(meta_component.findall(f"{ns}components"))
    while stack:
        for comp in stack.pop().findall(f"{ns}component"):
            name = (comp.findtext(f"{ns}name") or "").strip()
            if not name:
                raise invalid("CycloneDX XML component has no name")
            found.append(
                Component(
                    name=name,
                    version=(comp.findtext(f"{ns}version") or "").strip(),
                    purl=(comp.findtext(f"{ns}purl") or "").strip() or None,
                    has_licence=comp.find(f"{ns}licenses") is not None,
                    has_hash=comp.find(f"{ns}hashes") is not None,
                )
            )
            stack.extend(comp.findall(f"{ns}components"))
    meta = root.find(f"{ns}metadata")
    provenance = (
        meta is not None
        and bool(meta.findtext(f"{ns}timestamp"))
        and (meta.find(f"{ns}tools") is not None or meta.find(f"{ns}authors") is not None)
    )
    return ParsedSbom("cyclonedx", spec, tuple(found), provenance)
