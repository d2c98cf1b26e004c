"""Component views and document facts straight from parsed CycloneDX JSON or XML.

Reading through the library model costs about a second per few hundred components; these
views only need a handful of fields, so they are taken from the parsed document directly.
The same fields, with the same meaning, as the library model would give (a unit test
compares both on every real SBOM).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from craflow.sbom.document import ComponentView
from craflow.sbom.purls import canonical_purl


@dataclass(frozen=True)
class RawFacts:
    """Document facts the reader needs besides timestamp, serial and vulnerabilities."""

    components: tuple[ComponentView, ...]
    invalid_purls: int
    graph_refs: frozenset[str]
    creator_contact: str | None
    authors: tuple[str, ...]
    tools: tuple[str, ...]
    root_name: str | None
    root_version: str | None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _name(value: Any) -> str | None:
    return _text(value.get("name")) if isinstance(value, dict) else None


def _json_creator(c: dict[str, Any]) -> str | None:
    if name := _name(c.get("manufacturer")):
        return name
    for author in _dicts(c.get("authors")):
        if found := _text(author.get("name")) or _text(author.get("email")):
            return found
    return _text(c.get("author"))


def _json_licenses(c: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for entry in _dicts(c.get("licenses")):
        if expression := _text(entry.get("expression")):
            found.append(expression)
        elif isinstance(lic := entry.get("license"), dict) and (
            value := _text(lic.get("id")) or _text(lic.get("name"))
        ):
            found.append(value)
    return tuple(sorted(found))


def _json_component(c: dict[str, Any], graph: frozenset[str]) -> tuple[ComponentView, bool]:
    algs = {str(h.get("alg")) for h in _dicts(c.get("hashes"))}
    for link in _dicts(c.get("externalReferences")):
        if link.get("type") == "distribution":
            algs |= {str(h.get("alg")) for h in _dicts(link.get("hashes"))}
    props = {str(p.get("name")): p.get("value") for p in _dicts(c.get("properties"))}
    swid = c.get("swid")
    other = [_text(c.get("cpe")), _text(swid.get("tagId")) if isinstance(swid, dict) else None]
    for key in ("omniborId", "swhid"):
        values = c.get(key)
        other += [_text(v) for v in values] if isinstance(values, list) else []
    raw_purl = _text(c.get("purl"))
    purl = canonical_purl(raw_purl)
    ref = _text(c.get("bom-ref"))
    filename = props.get("bsi:component:filename")
    view = ComponentView(
        name=str(c.get("name", "")),
        version=_text(c.get("version")),
        purl=purl,
        bom_ref=ref,
        supplier=_name(c.get("supplier")) or _text(c.get("publisher")),
        creator=_json_creator(c),
        licenses=_json_licenses(c),
        hash_algorithms=frozenset(algs),
        filename=str(filename) if filename else None,
        properties=frozenset(props),
        other_ids=tuple(x for x in other if x),
        in_dependency_graph=ref is not None and ref in graph,
    )
    return view, raw_purl is not None and purl is None


def _walk_json(components: Any) -> Iterator[dict[str, Any]]:
    queue = _dicts(components)
    while queue:
        component = queue.pop(0)
        yield component
        queue.extend(_dicts(component.get("components")))


def _json_contact(meta: dict[str, Any]) -> str | None:
    for author in _dicts(meta.get("authors")):
        if found := _text(author.get("email")) or _text(author.get("phone")):
            return found
    for key in ("manufacturer", "supplier"):
        entity = meta.get(key)
        if not isinstance(entity, dict):
            continue
        urls = [str(u) for u in entity.get("url") or [] if u]
        if urls:
            return min(urls)
        for contact in _dicts(entity.get("contact")):
            if email := _text(contact.get("email")):
                return email
    return None


def _json_tools(meta: dict[str, Any]) -> tuple[str, ...]:
    tools = meta.get("tools")
    if isinstance(tools, dict):
        names = [_name(t) for t in _dicts(tools.get("components"))]
    else:
        names = [_name(t) for t in _dicts(tools)]
    return tuple(sorted(n for n in names if n))


def json_facts(doc: dict[str, Any]) -> RawFacts:
    """The views and facts of a parsed CycloneDX JSON document."""
    graph = frozenset(str(d["ref"]) for d in _dicts(doc.get("dependencies")) if d.get("ref"))
    views = [_json_component(c, graph) for c in _walk_json(doc.get("components"))]
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    root = meta.get("component") if isinstance(meta.get("component"), dict) else None
    return RawFacts(
        components=tuple(v for v, _ in views),
        invalid_purls=sum(1 for _, bad in views if bad),
        graph_refs=graph,
        creator_contact=_json_contact(meta),
        authors=tuple(
            sorted(
                _text(a.get("name")) or _text(a.get("email")) or ""
                for a in _dicts(meta.get("authors"))
            )
        ),
        tools=_json_tools(meta),
        root_name=_text(root.get("name")) if root else None,
        root_version=_text(root.get("version")) if root else None,
    )


def _xml_to_json_like(element: Element, ns: str) -> Any:  # noqa: PLR0912 - one branch per shape
    """A CycloneDX XML element in the shape of its JSON counterpart (only what views read)."""
    local = {child.tag.removeprefix(ns): child for child in element}
    out: dict[str, Any] = dict(element.attrib)
    for tag, child in local.items():
        out[tag] = (child.text or "").strip()
    for list_tag, item_tag in (
        ("hashes", "hash"),
        ("licenses", None),
        ("externalReferences", "reference"),
        ("properties", "property"),
        ("authors", "author"),
        ("components", "component"),
    ):
        holder = local.get(list_tag)
        if holder is None:
            continue
        items: list[dict[str, Any]] = []
        for item in holder:
            tag = item.tag.removeprefix(ns)
            if item_tag is not None and tag != item_tag:
                continue
            if list_tag == "hashes":
                items.append({"alg": item.get("alg"), "content": (item.text or "").strip()})
            elif list_tag == "licenses":
                if tag == "expression":
                    items.append({"expression": (item.text or "").strip()})
                else:
                    items.append({"license": _xml_to_json_like(item, ns)})
            elif list_tag == "properties":
                items.append({"name": item.get("name"), "value": (item.text or "").strip()})
            else:
                items.append(_xml_to_json_like(item, ns))
        out[list_tag] = items
    for entity in ("supplier", "manufacturer"):
        if entity in local:
            out[entity] = _xml_to_json_like(local[entity], ns)
    if "swid" in local:
        out["swid"] = dict(local["swid"].attrib)
    for repeated in ("omniborId", "swhid"):
        out[repeated] = [
            (x.text or "").strip() for x in element if x.tag.removeprefix(ns) == repeated
        ]
    out["url"] = [(x.text or "").strip() for x in element if x.tag.removeprefix(ns) == "url"]
    out["contact"] = [
        _xml_to_json_like(x, ns) for x in element if x.tag.removeprefix(ns) == "contact"
    ]
    return out


def xml_facts(root: Element) -> RawFacts:
    """The views and facts of a parsed CycloneDX XML document."""
    ns = root.tag.split("}")[0] + "}"
    doc: dict[str, Any] = {}
    components = root.find(f"{ns}components")
    if components is not None:
        doc["components"] = [
            _xml_to_json_like(c, ns) for c in components if c.tag == f"{ns}component"
        ]
    deps = root.find(f"{ns}dependencies")
    if deps is not None:
        doc["dependencies"] = [{"ref": d.get("ref")} for d in deps]
    meta = root.find(f"{ns}metadata")
    if meta is not None:
        data = _xml_to_json_like(meta, ns)
        component = meta.find(f"{ns}component")
        data["component"] = _xml_to_json_like(component, ns) if component is not None else None
        tools = meta.find(f"{ns}tools")
        if tools is not None:
            nested = tools.find(f"{ns}components")
            holder = nested if nested is not None else tools
            data["tools"] = [_xml_to_json_like(t, ns) for t in holder]
        doc["metadata"] = data
    return json_facts(doc)
