"""Turns what a source found (`SourceResult`) into a CycloneDX `Bom`, enriched for BSI/NTIA.

Serialising, validating and writing are a separate step (`craflow.sbom.writer`).
"""

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    ExternalReferenceType,
    HashAlgorithm,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle

from craflow import __version__
from craflow.sbom.licenses import spdx_expression
from craflow.sbom.model import Hash, PackageInfo, SourceResult
from craflow.sbom.prepared import JsonObject, PreparedBom

COMPLETENESS_PROPERTY = "craflow:sbom:completeness"
_NAMESPACE = uuid.UUID("5f0c7c1e-2f43-4c52-9b8e-6a9f0c3d1e7a")
_HEX = re.compile(r"^[0-9a-f]+$")
_HEX_LENGTHS = {"SHA-1": 40, "SHA-256": 64, "SHA-384": 96, "SHA-512": 128, "MD5": 32}
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".egg")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Creator:
    """Who makes the SBOM (BSI: creator contact): at least a name with an e-mail or URL."""

    name: str | None = None
    email: str | None = None
    url: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.name or self.email or self.url)


@dataclass(frozen=True)
class Product:
    """The thing the SBOM describes: `metadata.component`."""

    name: str
    version: str


def content_digest(packages: tuple[PackageInfo, ...]) -> str:
    """SHA-256 over the packages, independent of their order (frozen values: stable `repr`)."""
    rows = sorted(repr(p) for p in packages)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def serial_number(product: Product, digest: str) -> uuid.UUID:
    """A serial number that is the same for the same product, version and content."""
    return uuid.uuid5(_NAMESPACE, f"{product.name}\n{product.version}\n{digest}")


def _hashes(hashes: tuple[Hash, ...]) -> list[JsonObject]:
    out: dict[tuple[str, str], JsonObject] = {}
    for h in hashes:
        value = h.value.lower()
        if _HEX.match(value) and _HEX_LENGTHS.get(h.alg, len(value)) == len(value):
            alg = HashAlgorithm(h.alg).value
            out[alg, value] = {"alg": alg, "content": value}
    return [out[k] for k in sorted(out)]


def _ref(kind: str, url: str, **extra: Any) -> JsonObject | None:
    try:
        ref: JsonObject = {"url": str(XsUri(url)), "type": ExternalReferenceType(kind).value}
    except (InvalidUriException, ValueError):
        return None
    if extra.get("comment"):
        ref["comment"] = extra["comment"]
    if extra.get("hashes"):
        ref["hashes"] = extra["hashes"]
    return ref


class _LicenseCache:
    """Licence JSON for a string, through the library's factory, computed once per string."""

    def __init__(self) -> None:
        self._factory = LicenseFactory()
        self._seen: dict[tuple[str, str], JsonObject] = {}

    def get(self, how: str, text: str) -> JsonObject:
        key = (how, text)
        found = self._seen.get(key)
        if found is None:
            if how == "string":
                lic = self._factory.make_from_string(text)
            elif how == "id":
                lic = self._factory.make_with_id(text)
            else:
                lic = self._factory.make_with_name(text)
            found = self._seen[key] = _license_json(lic)
        return found


def _license_json(lic: License) -> JsonObject:
    if isinstance(lic, LicenseExpression):
        return {"expression": lic.value}
    assert isinstance(lic, DisjunctiveLicense)
    return {"license": {"id": lic.id} if lic.id else {"name": lic.name}}


def _licenses(package: PackageInfo, cache: _LicenseCache) -> list[JsonObject]:
    if package.license_expression:
        return [cache.get("string", package.license_expression)]
    found = [
        cache.get("id", x) if " " not in x and _is_id(x) else cache.get("name", x)
        for x in package.licenses
    ]
    unique = {json.dumps(x, sort_keys=True): x for x in found}
    return [unique[k] for k in sorted(unique)]


def _is_id(text: str) -> bool:
    return spdx_expression(text) == text


def _property(name: str, value: str) -> JsonObject:
    return {"name": name, "value": value}


def _bsi_properties(package: PackageInfo, *, installed: bool) -> list[JsonObject]:
    props: list[JsonObject] = []
    filename = package.filename
    if filename:
        props.append(_property("bsi:component:filename", filename))
        lower = filename.lower()
        is_archive = lower.endswith(_ARCHIVE_SUFFIXES)
        props.append(_property("bsi:component:archive", "archive" if is_archive else "no archive"))
        if lower.endswith(".whl"):
            pure = lower.removesuffix(".whl").endswith("-none-any")
            executable = "non-executable" if pure else "executable"
            props.append(_property("bsi:component:executable", executable))
        elif is_archive:
            props.append(_property("bsi:component:executable", "non-executable"))
        props.append(_property("bsi:component:structured", "structured"))
    else:
        # installed: an unpacked directory; from an index: a wheel or sdist, both archives
        archive = "no archive" if installed else "archive"
        props.append(_property("bsi:component:archive", archive))
        props.append(_property("bsi:component:structured", "structured"))
    return sorted(props, key=lambda p: (p["name"], p["value"]))


def bom_ref_of(package: PackageInfo) -> str:
    """The `bom-ref` of a package: its purl, else `name==version`."""
    return package.purl or f"{package.key}=={package.version or 'unknown'}"


def component_data(package: PackageInfo, *, installed: bool, licenses: _LicenseCache) -> JsonObject:
    """One package as a CycloneDX (1.6) component object, with every field the source knows."""
    refs = [_ref(r.type, r.url) for r in package.external_refs]
    for artifact in package.artifacts:
        refs.append(
            _ref(
                "distribution",
                artifact.url,
                hashes=_hashes(artifact.hashes),
                comment=artifact.filename,
            )
        )
    party = package.supplier or package.author
    email = (
        package.author_email
        if package.author_email and _EMAIL.match(package.author_email)
        else None
    )
    data: JsonObject = {"type": "library", "bom-ref": bom_ref_of(package)}
    if party:
        data["supplier"] = {"name": party}
    if package.author:
        author: JsonObject = {"name": package.author}
        if email:
            author["email"] = email
        data["authors"] = [author]
    data["name"] = package.name
    if package.version is not None:
        data["version"] = package.version
    if package.description:
        data["description"] = package.description
    if hashes := _hashes(package.hashes):
        data["hashes"] = hashes
    if lics := _licenses(package, licenses):
        data["licenses"] = lics
    if package.purl:
        data["purl"] = package.purl  # canonical: sources build it with `PackageURL`
    unique_refs = {(r["type"], r["url"], r.get("comment") or ""): r for r in refs if r is not None}
    if unique_refs:
        data["externalReferences"] = [unique_refs[k] for k in sorted(unique_refs)]
    data["properties"] = _bsi_properties(package, installed=installed)
    return data


def _root_dependencies(result: SourceResult, keys: list[str]) -> list[str]:
    if result.direct is not None:
        return [k for k in result.direct if k in keys]
    if result.graph:
        required = {r for p in result.packages for r in p.requires}
        roots = [k for k in keys if k not in required]
        return roots or keys
    return keys


def build_bom(
    result: SourceResult,
    *,
    product: Product,
    timestamp: datetime,
    creator: Creator,
    lifecycle: str = "build",
    installed: bool = False,
) -> Bom:
    """A CycloneDX `Bom` for `product` made of the source's packages and its dependency graph."""
    cache = _LicenseCache()
    unique = {p.key: p for p in result.packages}
    packages = tuple(unique.values())
    components = {
        key: component_data(p, installed=installed, licenses=cache) for key, p in unique.items()
    }
    entity = None
    if creator.known:
        entity = OrganizationalEntity(
            name=creator.name,
            urls=[XsUri(creator.url)] if creator.url else None,
            contacts=[OrganizationalContact(name=creator.name, email=creator.email)]
            if creator.email
            else None,
        )
    root = Component(
        type=ComponentType.APPLICATION,
        name=product.name,
        version=product.version,
        bom_ref=f"{product.name}@{product.version}",
        supplier=entity,
        manufacturer=entity,
    )
    tool = Component(
        type=ComponentType.APPLICATION,
        name="craflow",
        version=__version__,
        bom_ref=f"craflow@{__version__}",
    )
    metadata = BomMetaData(
        timestamp=timestamp.astimezone(UTC),
        component=root,
        manufacturer=entity,
        authors=[OrganizationalContact(name=creator.name, email=creator.email)]
        if creator.email
        else None,
        lifecycles=[PredefinedLifecycle(LifecyclePhase(lifecycle))],
        properties=[Property(name=COMPLETENESS_PROPERTY, value=result.completeness)],
    )
    metadata.tools.components.add(tool)
    keys = list(components)
    root_ref = str(root.bom_ref.value)
    graph: dict[str, set[str]] = {root_ref: set()}
    graph[root_ref].update(components[k]["bom-ref"] for k in _root_dependencies(result, keys))
    for key, package in unique.items():
        deps = graph.setdefault(components[key]["bom-ref"], set())
        deps.update(
            components[r]["bom-ref"] for r in package.requires if r in components and r != key
        )
    dependencies = [
        {"ref": ref, "dependsOn": sorted(graph[ref])} if graph[ref] else {"ref": ref}
        for ref in sorted(graph)
    ]
    ordered = sorted(
        components.values(), key=lambda c: (c["name"], c.get("version") or "", c["bom-ref"])
    )
    return PreparedBom(
        serial_number=serial_number(product, content_digest(packages)),
        metadata=metadata,
        components=ordered,
        dependencies=dependencies,
    )
