"""When two findings or statements are about the same vulnerability and the same component.

Vulnerabilities match when their ids or aliases overlap (case-insensitive). Components
match exactly on the purl INCLUDING its version (type, namespace, name and version
compared canonically; qualifiers and subpath ignored), or, without purls, on name and
version. `same_package` is the looser test (version ignored) that finds upgrades.
"""

from packageurl import PackageURL


def _purl_parts(purl: str | None) -> tuple[str, str, str, str] | None:
    if not purl:
        return None
    try:
        p = PackageURL.from_string(purl)
    except ValueError:
        return None
    namespace = (p.namespace or "").lower()
    name = p.name.lower()
    if p.type == "pypi":
        name = name.replace("_", "-").replace(".", "-")
    return (p.type.lower(), namespace, name, p.version or "")


def package_key(purl: str | None, name: str | None) -> str:
    """A component without its version: `type/namespace/name` from the purl, else the name."""
    parts = _purl_parts(purl)
    if parts is not None:
        return "/".join(parts[:3])
    return (name or "").strip().lower()


def component_key(purl: str | None, name: str | None, version: str | None) -> str:
    """A component WITH its version (the carry-forward and VEX-apply identity)."""
    parts = _purl_parts(purl)
    if parts is not None:
        return "/".join(parts[:3]) + "@" + parts[3]
    return f"{(name or '').strip().lower()}@{(version or '').strip()}"


def ids_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a.isdisjoint(b)
