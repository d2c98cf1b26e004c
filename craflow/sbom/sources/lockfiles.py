"""Locked packages with their artifact hashes: uv.lock, poetry.lock and PEP 751 pylock.toml.

Each package's artifacts (sdist, wheels) become distribution references with their digests;
the component's own hash and filename are those of its source archive (else its first wheel).
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from craflow.sbom.errors import SbomFormatError
from craflow.sbom.model import Artifact, Hash, PackageInfo, SourceResult
from craflow.sbom.purls import normalize_name, pypi_purl
from craflow.sbom.sources.files import read_toml_limited

_HASH_NAMES = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}


def parse_hash(text: str) -> tuple[Hash, ...]:
    """`sha256:abc…` as a Hash (nothing for algorithms CycloneDX does not name)."""
    alg, _, value = str(text).partition(":")
    return (Hash(_HASH_NAMES[alg], value.lower()),) if alg in _HASH_NAMES and value else ()


def _hash_table(table: Any) -> tuple[Hash, ...]:
    if not isinstance(table, dict):
        return ()
    return tuple(
        Hash(_HASH_NAMES[alg], str(v).lower()) for alg, v in table.items() if alg in _HASH_NAMES
    )


def _filename(url: str | None, name: str | None = None) -> str | None:
    if name:
        return name
    if not url:
        return None
    tail = unquote(urlparse(url).path).rsplit("/", 1)[-1]
    return tail.split("#", 1)[0] or None


def _primary(artifacts: list[Artifact], sdist: Artifact | None) -> Artifact | None:
    if sdist is not None:
        return sdist
    return min(artifacts, key=lambda a: a.filename or a.url) if artifacts else None


def _package(
    name: str,
    version: str | None,
    artifacts: list[Artifact],
    sdist: Artifact | None,
    requires: Iterable[str],
    *,
    purl: str | None = None,
    description: str | None = None,
) -> PackageInfo:
    everything = [*([sdist] if sdist else []), *artifacts]
    primary = _primary(artifacts, sdist)
    return PackageInfo(
        name=name,
        version=version,
        purl=purl if purl is not None else pypi_purl(name, version),
        description=description,
        hashes=primary.hashes if primary else (),
        filename=primary.filename if primary else None,
        artifacts=tuple(everything),
        requires=tuple(dict.fromkeys(normalize_name(r) for r in requires)),
    )


def _require_list(doc: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    entries = doc.get(key)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SbomFormatError(f"{path}: no [[{key}]] tables; is this the right kind of lockfile?")
    return entries


def read_uv_lock(path: Path, *, max_bytes: int) -> SourceResult:
    """Packages of a `uv.lock`; the editable/virtual root project becomes the product."""
    doc = read_toml_limited(path, max_bytes=max_bytes)
    packages: list[PackageInfo] = []
    direct: tuple[str, ...] | None = None
    product: tuple[str | None, str | None] = (None, None)
    for entry in _require_list(doc, "package", path):
        name, version = str(entry.get("name", "")), entry.get("version")
        source = entry.get("source") or {}
        deps = [str(d.get("name")) for d in entry.get("dependencies") or [] if d.get("name")]
        if ("editable" in source or "virtual" in source) and direct is None:
            direct = tuple(normalize_name(d) for d in deps)
            product = (name, version)
            continue
        sdist = None
        if isinstance(entry.get("sdist"), dict):
            raw = entry["sdist"]
            sdist = Artifact(
                url=str(raw.get("url") or raw.get("path") or ""),
                filename=_filename(raw.get("url") or raw.get("path")),
                hashes=parse_hash(raw.get("hash", "")),
            )
        wheels = [
            Artifact(
                url=str(w.get("url") or w.get("path") or ""),
                filename=_filename(w.get("url") or w.get("path")),
                hashes=parse_hash(w.get("hash", "")),
            )
            for w in entry.get("wheels") or []
            if isinstance(w, dict)
        ]
        purl = None
        if "git" in source:
            purl = pypi_purl(name, version, vcs_url=f"git+{source['git']}")
        elif "url" in source:
            purl = pypi_purl(name, version, download_url=str(source["url"]))
        packages.append(_package(name, version, wheels, sdist, deps, purl=purl))
    return SourceResult(
        packages=tuple(packages),
        graph=True,
        direct=direct,
        completeness="complete",
        product_name=product[0],
        product_version=product[1],
    )


def read_poetry_lock(path: Path, *, max_bytes: int) -> SourceResult:
    """Packages of a `poetry.lock` with the hashes of their files."""
    doc = read_toml_limited(path, max_bytes=max_bytes)
    packages: list[PackageInfo] = []
    for entry in _require_list(doc, "package", path):
        name, version = str(entry.get("name", "")), entry.get("version")
        source = entry.get("source") or {}
        index = str(source.get("url") or "https://pypi.org/simple").rstrip("/")
        files = [f for f in entry.get("files") or [] if isinstance(f, dict)]
        artifacts = [
            Artifact(
                url=f"{index}/{normalize_name(name)}/#{f.get('file')}",
                filename=str(f.get("file")),
                hashes=parse_hash(f.get("hash", "")),
            )
            for f in files
        ]
        sdists = [a for a in artifacts if a.filename and not a.filename.endswith(".whl")]
        wheels = [a for a in artifacts if a not in sdists]
        purl = None
        if source.get("type") == "git":
            commit = source.get("resolved_reference") or source.get("reference")
            purl = pypi_purl(name, version, vcs_url=f"git+{source.get('url')}@{commit}")
        elif source.get("type") == "url":
            purl = pypi_purl(name, version, download_url=str(source.get("url")))
        deps = list((entry.get("dependencies") or {}).keys())
        packages.append(
            _package(
                name,
                version,
                wheels,
                sdists[0] if sdists else None,
                deps,
                purl=purl,
                description=entry.get("description"),
            )
        )
    return SourceResult(packages=tuple(packages), graph=True, completeness="complete")


def read_pylock(path: Path, *, max_bytes: int) -> SourceResult:
    """Packages of a PEP 751 `pylock.toml` with the hashes of their artifacts."""
    doc = read_toml_limited(path, max_bytes=max_bytes)
    if "lock-version" not in doc:
        raise SbomFormatError(f"{path}: no lock-version; not a PEP 751 pylock.toml")
    packages: list[PackageInfo] = []
    graph = False
    for entry in _require_list(doc, "packages", path):
        name, version = str(entry.get("name", "")), entry.get("version")
        sdist = None
        if isinstance(entry.get("sdist"), dict):
            raw = entry["sdist"]
            sdist = Artifact(
                url=str(raw.get("url") or raw.get("path") or ""),
                filename=_filename(raw.get("url") or raw.get("path"), raw.get("name")),
                hashes=_hash_table(raw.get("hashes")),
            )
        wheels = [
            Artifact(
                url=str(w.get("url") or w.get("path") or ""),
                filename=_filename(w.get("url") or w.get("path"), w.get("name")),
                hashes=_hash_table(w.get("hashes")),
            )
            for w in entry.get("wheels") or []
            if isinstance(w, dict)
        ]
        if isinstance(entry.get("archive"), dict):
            raw = entry["archive"]
            wheels.append(
                Artifact(
                    url=str(raw.get("url") or raw.get("path") or ""),
                    filename=_filename(raw.get("url") or raw.get("path")),
                    hashes=_hash_table(raw.get("hashes")),
                )
            )
        purl = None
        vcs = entry.get("vcs")
        if isinstance(vcs, dict):
            purl = pypi_purl(
                name,
                version,
                vcs_url=f"{vcs.get('type', 'git')}+{vcs.get('url')}@{vcs.get('commit-id')}",
            )
        deps = [str(d.get("name")) for d in entry.get("dependencies") or [] if isinstance(d, dict)]
        graph = graph or "dependencies" in entry
        packages.append(_package(name, version, wheels, sdist, deps, purl=purl))
    return SourceResult(packages=tuple(packages), graph=graph, completeness="complete")
