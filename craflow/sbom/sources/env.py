"""Packages installed in a Python environment, inspected through that environment's interpreter.

The interpreter runs `_inspect_env.py` (standard library only) and answers JSON, so craflow
never reads its own environment by accident.
"""

import json
import os
import subprocess
import sys
from email.utils import getaddresses
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from craflow.sbom.errors import SbomSourceError
from craflow.sbom.licenses import licenses_from_metadata
from craflow.sbom.model import ExternalRef, Hash, PackageInfo, SourceResult
from craflow.sbom.purls import normalize_name, pypi_purl

_URL_LABELS = {
    "homepage": "website",
    "home": "website",
    "documentation": "documentation",
    "docs": "documentation",
    "source": "vcs",
    "source code": "vcs",
    "repository": "vcs",
    "code": "vcs",
    "issues": "issue-tracker",
    "bug tracker": "issue-tracker",
    "tracker": "issue-tracker",
    "changelog": "release-notes",
    "release notes": "release-notes",
}
_HASH_NAMES = {"sha256": "SHA-256", "sha512": "SHA-512", "sha384": "SHA-384", "sha1": "SHA-1"}


def resolve_interpreter(python: str | None) -> Path:
    """The interpreter to inspect: a file, or a venv directory; default the current one."""
    if python is None:
        return Path(sys.executable)
    path = Path(python)
    if path.is_dir():
        for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if candidate.exists():
                return candidate
        raise SbomSourceError(
            f"{python}: a directory, but not a virtual environment (no bin/python)"
        )
    if not path.exists():
        raise SbomSourceError(f"{python}: no such Python interpreter")
    return path


def inspect_environment(python: str | None, *, timeout: float) -> dict[str, Any]:
    """Run the inspection script with the environment's own interpreter; return its JSON."""
    interpreter = resolve_interpreter(python)
    script = resources.files("craflow.sbom.sources").joinpath("_inspect_env.py").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        done = subprocess.run(  # noqa: S603 - a fixed script run by a chosen interpreter
            [str(interpreter), "-I", "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise SbomSourceError(f"{interpreter}: inspection took over {timeout:g} s") from exc
    except OSError as exc:
        raise SbomSourceError(f"{interpreter}: cannot run ({exc.strerror})") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SbomSourceError(f"{interpreter}: inspection failed: {last}")
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise SbomSourceError(
            f"{interpreter}: inspection answered something that is not JSON"
        ) from exc
    return answer


def _external_refs(dist: dict[str, Any]) -> tuple[ExternalRef, ...]:
    refs: list[ExternalRef] = []
    if dist.get("home_page"):
        refs.append(ExternalRef("website", str(dist["home_page"]).strip()))
    if dist.get("download_url"):
        refs.append(ExternalRef("distribution", str(dist["download_url"]).strip()))
    for entry in dist.get("project_urls") or []:
        label, _, url = str(entry).partition(",")
        if url.strip():
            kind = _URL_LABELS.get(label.strip().lower(), "other")
            refs.append(ExternalRef(kind, url.strip()))
    return tuple(dict.fromkeys(refs))


def _source(dist: dict[str, Any]) -> tuple[str | None, tuple[Hash, ...], bool]:
    """(purl-or-None, archive hashes, is_local) from PEP 610 `direct_url.json`."""
    name, version = str(dist["name"]), dist.get("version")
    direct = dist.get("direct_url")
    if not isinstance(direct, dict) or not isinstance(direct.get("url"), str):
        return pypi_purl(name, version), (), False
    url: str = direct["url"]
    subpath = direct.get("subdirectory")
    if url.startswith("file://"):
        return None, (), True
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        vcs_url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
        return pypi_purl(name, version, vcs_url=vcs_url, subpath=subpath), (), False
    hashes: list[Hash] = []
    archive = direct.get("archive_info")
    if isinstance(archive, dict):
        for alg, value in (archive.get("hashes") or {}).items():
            if alg in _HASH_NAMES:
                hashes.append(Hash(_HASH_NAMES[alg], str(value)))
    purl = pypi_purl(name, version, download_url=url, subpath=subpath)
    return purl, tuple(hashes), False


def _parsed(raw: list[str]) -> list[Requirement]:
    parsed: list[Requirement] = []
    for line in raw:
        try:
            parsed.append(Requirement(line))
        except InvalidRequirement:
            continue
    return parsed


def _applies(req: Requirement, marker_env: dict[str, str], extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**marker_env, "extra": e}) for e in ("", *sorted(extras)))


def resolve_requires(
    requires: dict[str, list[str]], marker_env: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    """Installed dependencies of each package, honouring markers and the extras requested.

    An extra's dependencies count only when some installed package asks for that extra.
    """
    parsed = {key: _parsed(raw) for key, raw in requires.items()}
    extras: dict[str, set[str]] = {key: set() for key in parsed}
    changed = True
    while changed:
        changed = False
        for key, reqs in parsed.items():
            for req in reqs:
                dep = normalize_name(req.name)
                wanted = {normalize_name(e) for e in req.extras}
                applies = dep in extras and _applies(req, marker_env, extras[key])
                if applies and not wanted <= extras[dep]:
                    extras[dep] |= wanted
                    changed = True
    return {
        key: tuple(
            dict.fromkeys(
                normalize_name(r.name)
                for r in reqs
                if normalize_name(r.name) in parsed
                and normalize_name(r.name) != key
                and _applies(r, marker_env, extras[key])
            )
        )
        for key, reqs in parsed.items()
    }


def package_from_dist(dist: dict[str, Any], requires: tuple[str, ...]) -> PackageInfo:
    """One installed distribution as a `PackageInfo`."""
    expression, licenses = licenses_from_metadata(
        dist.get("license_expression"), dist.get("license"), list(dist.get("classifiers") or [])
    )
    purl, hashes, _local = _source(dist)
    author = dist.get("author") or dist.get("maintainer")
    raw_email = dist.get("author_email") or dist.get("maintainer_email")
    addresses = getaddresses([str(raw_email)]) if raw_email else []
    email_name, email = addresses[0] if addresses else ("", "")
    creator = (str(author).strip() if author else "") or email_name.strip() or None
    return PackageInfo(
        name=str(dist["name"]),
        version=dist.get("version"),
        purl=purl,
        description=dist.get("summary"),
        licenses=licenses,
        license_expression=expression,
        author=creator,
        author_email=email if "@" in email and " " not in email else None,
        supplier=creator,
        hashes=hashes,
        external_refs=_external_refs(dist),
        requires=requires,
    )


def read_environment(python: str | None, *, timeout: float) -> SourceResult:
    """Every distribution installed in the environment of `python` (default: this one)."""
    answer = inspect_environment(python, timeout=timeout)
    dists = [d for d in answer.get("distributions", []) if d.get("name")]
    seen: dict[str, dict[str, Any]] = {}
    for dist in dists:
        seen.setdefault(normalize_name(str(dist["name"])), dist)
    marker_env = {str(k): str(v) for k, v in (answer.get("marker_env") or {}).items()}
    graph = resolve_requires(
        {key: [str(r) for r in d.get("requires") or []] for key, d in seen.items()}, marker_env
    )
    packages = tuple(package_from_dist(d, graph[key]) for key, d in seen.items())
    return SourceResult(packages=packages, graph=True, completeness="complete")
