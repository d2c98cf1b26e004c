"""Licence metadata of Python packages, turned into SPDX ids or expressions where possible."""

from functools import lru_cache

from cyclonedx.spdx import fixup_id, is_expression

_MAX_NAME_LENGTH = 80

# Trove classifiers (https://pypi.org/classifiers/) that name exactly one SPDX licence.
_CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
}


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """`text` as an SPDX id (case fixed) or a valid SPDX expression, else None."""
    candidate = text.strip()
    if not candidate or "\n" in candidate:
        return None
    fixed = fixup_id(candidate)
    if fixed is not None:
        return fixed
    if " " in candidate and is_expression(candidate):
        return candidate
    return None


def licenses_from_metadata(
    license_expression: str | None, license_field: str | None, classifiers: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    """(an SPDX expression, or else individual licence ids/names) from core metadata.

    Order of trust: PEP 639 `License-Expression`, then a `License` field that is an SPDX id
    or expression, then licence classifiers, then a short `License` field as a name.
    """
    if license_expression and spdx_expression(license_expression):
        return spdx_expression(license_expression), ()
    if license_field:
        found = spdx_expression(license_field)
        if found is not None:
            return (found, ()) if " " in found else (None, (found,))
    ids = tuple(sorted({_CLASSIFIERS[c] for c in classifiers if c in _CLASSIFIERS}))
    if ids:
        return None, ids
    text = (license_field or "").strip()
    if not text or "\n" in text or len(text) > _MAX_NAME_LENGTH:
        named = [c.rsplit(" :: ", 1)[-1] for c in classifiers if c.startswith("License :: ")]
        text = named[0] if len(named) == 1 else ""
    if text and "\n" not in text and len(text) <= _MAX_NAME_LENGTH and text != "UNKNOWN":
        return None, (text,)
    return None, ()
