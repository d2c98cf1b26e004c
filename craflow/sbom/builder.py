"""Turns what a source found (`SourceResult`) into a CycloneDX `Bom`, enriched for BSI/NTIA.

Serialising, validating and writing are a separate step (`craflow.sbom.writer`).
"""

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.license import License
from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle
from packageurl import PackageURL

from craflow import __version__
from craflow.sbom.licenses import spdx_expression
from craflow.sbom.model import Hash, PackageInfo, SourceResult

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
    """SHA-256 over the packages, independent of their order."""
    rows = sorted(json.dumps(asdict(p), sort_keys=True) for p in packages)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def serial_number(product: Product, digest: str) -> uuid.UUID:
    """A serial number that is the same for the same product, version and content."""
    return uuid.uuid5(_NAMESPACE, f"{product.name}\n{product.version}\n{digest}")


def _hashes(hashes: tuple[Hash, ...]) -> list[HashType]:
    out: list[HashType] = []
    for h in hashes:
        value = h.value.lower()
        if _HEX.match(value) and _HEX_LENGTHS.get(h.alg, len(value)) == len(value):
            out.append(HashType(alg=HashAlgorithm(h.alg), content=value))
    return out


def _ref(kind: str, url: str, **extra: object) -> ExternalReference | None:
    try:
        return ExternalReference(type=ExternalReferenceType(kind), url=XsUri(url), **extra)  # type: ignore[arg-type]
    except (InvalidUriException, ValueError):
        return None


def _licenses(package: PackageInfo, factory: LicenseFactory) -> list[License]:
    if package.license_expression:
        return [factory.make_from_string(package.license_expression)]
    return [
        factory.make_with_id(x) if " " not in x and _is_id(x) else factory.make_with_name(x)
        for x in package.licenses
    ]


def _is_id(text: str) -> bool:
    return spdx_expression(text) == text


def _bsi_properties(package: PackageInfo, *, installed: bool) -> list[Property]:
    props: list[Property] = []
    filename = package.filename
    if filename:
        props.append(Property(name="bsi:component:filename", value=filename))
        lower = filename.lower()
        is_archive = lower.endswith(_ARCHIVE_SUFFIXES)
        props.append(
            Property(name="bsi:component:archive", value="archive" if is_archive else "no archive")
        )
        if lower.endswith(".whl"):
            pure = lower.removesuffix(".whl").endswith("-none-any")
            props.append(
                Property(
                    name="bsi:component:executable",
                    value="non-executable" if pure else "executable",
                )
            )
        elif is_archive:
            props.append(Property(name="bsi:component:executable", value="non-executable"))
        props.append(Property(name="bsi:component:structured", value="structured"))
    else:
        # installed: an unpacked directory; from an index: a wheel or sdist, both archives
        archive = "no archive" if installed else "archive"
        props.append(Property(name="bsi:component:archive", value=archive))
        props.append(Property(name="bsi:component:structured", value="structured"))
    return props


def component_for(package: PackageInfo, *, installed: bool, factory: LicenseFactory) -> Component:
    """One package as a CycloneDX component, with every field the source knows."""
    bom_ref = package.purl or f"{package.key}=={package.version or 'unknown'}"
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
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version,
        bom_ref=bom_ref,
        purl=PackageURL.from_string(package.purl) if package.purl else None,
        description=package.description,
        licenses=_licenses(package, factory),
        supplier=OrganizationalEntity(name=party) if party else None,
        authors=[OrganizationalContact(name=package.author, email=email)]
        if package.author
        else None,
        hashes=_hashes(package.hashes),
        external_references=[r for r in refs if r is not None],
        properties=_bsi_properties(package, installed=installed),
    )


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
    factory = LicenseFactory()
    unique = {p.key: p for p in result.packages}
    packages = tuple(unique.values())
    components = {
        key: component_for(p, installed=installed, factory=factory) for key, p in unique.items()
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
    bom = Bom(
        serial_number=serial_number(product, content_digest(packages)),
        metadata=metadata,
        components=components.values(),
    )
    keys = list(components)
    bom.register_dependency(root, [components[k] for k in _root_dependencies(result, keys)])
    for key, package in unique.items():
        deps = [components[r] for r in package.requires if r in components and r != key]
        bom.register_dependency(components[key], deps)
    return bom
