"""Package URLs for Python packages, and the name normalisation they rely on."""

import re

from packageurl import PackageURL

_SEPARATORS = re.compile(r"[-_.]+")
_PYPI_HOST = "://files.pythonhosted.org/"


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`."""
    return _SEPARATORS.sub("-", name).lower()


def pypi_purl(
    name: str,
    version: str | None,
    *,
    download_url: str | None = None,
    vcs_url: str | None = None,
    subpath: str | None = None,
) -> str:
    """The `pkg:pypi/...` purl of a package; qualifiers only where they add information.

    A download URL on files.pythonhosted.org is implied by the purl itself and left out.
    """
    qualifiers: dict[str, str] = {}
    if vcs_url:
        qualifiers["vcs_url"] = vcs_url
    elif download_url and _PYPI_HOST not in download_url:
        qualifiers["download_url"] = download_url
    return PackageURL(
        type="pypi",
        name=name,
        version=version,
        qualifiers=qualifiers or None,
        subpath=subpath,
    ).to_string()


def canonical_purl(text: str | None) -> str | None:
    """`text` as `PackageURL.to_string()` writes it; None when it is not a valid purl."""
    if not text:
        return None
    try:
        return PackageURL.from_string(text).to_string()
    except ValueError:
        return None
