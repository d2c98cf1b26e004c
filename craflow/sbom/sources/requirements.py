"""Pinned requirement lines (`pip freeze` / `pip-compile --generate-hashes` output).

Unpinned requirements are kept as components without a version and reported as problems;
editable and unparseable lines are reported, never silently dropped.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

from craflow.sbom.hashing import file_hashes
from craflow.sbom.model import Artifact, Hash, PackageInfo, SourceResult
from craflow.sbom.purls import normalize_name, pypi_purl
from craflow.sbom.sources.files import read_text_limited

_HASH_NAMES = {"sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}
_MAX_INCLUDE_DEPTH = 10
_INDEX = "https://pypi.org/simple"


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) with continuations joined and comments removed."""
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def split_hashes(line: str) -> tuple[str, tuple[Hash, ...], list[str]]:
    """(requirement text, hashes, other options) of one logical line."""
    words = line.split()
    requirement: list[str] = []
    hashes: list[Hash] = []
    options: list[str] = []
    for word in words:
        if word.startswith("--hash="):
            alg, _, value = word.removeprefix("--hash=").partition(":")
            if alg in _HASH_NAMES and value:
                hashes.append(Hash(_HASH_NAMES[alg], value.lower()))
        elif word.startswith("-"):
            options.append(word)
        else:
            requirement.append(word)
    return " ".join(requirement), tuple(hashes), options


def _version_from_filename(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, ValueError):
        return None


def _local_artifact(url: str, base: Path, chunk_bytes: int) -> tuple[Artifact, Path] | None:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        return None
    path = Path(unquote(parsed.path))
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        return None
    hashes = file_hashes(path, chunk_bytes=chunk_bytes)
    return Artifact(url=path.resolve().as_uri(), filename=path.name, hashes=hashes), path


def package_from_requirement(
    text: str, hashes: tuple[Hash, ...], where: str, base: Path, chunk_bytes: int
) -> tuple[PackageInfo, str | None]:
    """(package, problem-or-None) for one requirement; raises InvalidRequirement."""
    req = Requirement(text)
    pins = [s for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    version = pins[0].version if len(pins) == 1 else None
    artifacts: tuple[Artifact, ...] = ()
    own_hashes = hashes
    filename = None
    purl_args: dict[str, str] = {}
    if req.url:
        filename = Path(urlparse(req.url).path).name or None
        version = version or (_version_from_filename(filename) if filename else None)
        local = _local_artifact(req.url, base, chunk_bytes)
        if local is not None:
            artifacts = (local[0],)
            own_hashes = local[0].hashes
        else:
            key = "vcs_url" if "+" in req.url.split("://", 1)[0] else "download_url"
            purl_args[key] = req.url
            artifacts = (Artifact(url=req.url, filename=filename, hashes=hashes),)
    elif hashes:
        artifacts = (Artifact(url=f"{_INDEX}/{normalize_name(req.name)}/", hashes=hashes),)
    problem = None if version else f"{where}: {text!r} is not pinned to one version"
    local_only = bool(artifacts) and artifacts[0].url.startswith("file:")
    package = PackageInfo(
        name=req.name,
        version=version,
        purl=None if local_only else pypi_purl(req.name, version, **purl_args),
        hashes=own_hashes if (local_only or len(own_hashes) == 1) else (),
        filename=filename,
        artifacts=artifacts,
    )
    return package, problem


def read_requirements(
    path: Path, *, max_bytes: int, chunk_bytes: int, _depth: int = 0
) -> SourceResult:
    """The requirements in `path` (following `-r` includes), with every problem reported."""
    text = read_text_limited(path, max_bytes=max_bytes)
    packages: list[PackageInfo] = []
    problems: list[str] = []
    for number, line in logical_lines(text):
        where = f"{path.name}:{number}"
        requirement, hashes, options = split_hashes(line)
        include = next((o for o in options if o in ("-r", "--requirement")), None)
        if include or line.startswith(("-r", "--requirement")):
            target = requirement or line.split(maxsplit=1)[-1]
            if _depth >= _MAX_INCLUDE_DEPTH:
                problems.append(f"{where}: includes nested too deeply; {target} not read")
                continue
            nested = read_requirements(
                path.parent / target,
                max_bytes=max_bytes,
                chunk_bytes=chunk_bytes,
                _depth=_depth + 1,
            )
            packages.extend(nested.packages)
            problems.extend(nested.problems)
            continue
        if any(o in ("-e", "--editable") for o in options):
            problems.append(f"{where}: editable requirement {requirement!r} left out")
            continue
        if not requirement:
            continue
        try:
            package, problem = package_from_requirement(
                requirement, hashes, where, path.parent, chunk_bytes
            )
        except InvalidRequirement as exc:
            problems.append(f"{where}: not a requirement ({str(exc).splitlines()[0]})")
            continue
        packages.append(package)
        if problem:
            problems.append(problem)
    unique = {p.key: p for p in reversed(packages)}
    ordered = tuple(unique[k] for k in dict.fromkeys(p.key for p in packages))
    return SourceResult(
        packages=ordered,
        graph=False,
        direct=tuple(p.key for p in ordered),
        completeness="incomplete" if problems else "unknown",
        problems=tuple(problems),
    )
