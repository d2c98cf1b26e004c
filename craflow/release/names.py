"""What a product slug and a version number may look like, checked before anything is created.

The rules match what the archive layout and the API accept, so a bad name is refused
up front with exit 4 instead of half-way through a run.
"""

import re

from craflow.release.errors import ReleaseInputError

#: lowercase letters, digits and dashes, as the API's slugs (1-100 characters)
PRODUCT_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
#: letters, digits and `. _ + ~ -` (SemVer, PEP 440, calendar versions); no spaces or separators
VERSION_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,99}")


def check_product_slug(product: str) -> str:
    """Return *product* if it is a product slug, else raise `ReleaseInputError`."""
    if not PRODUCT_SLUG.fullmatch(product):
        raise ReleaseInputError(
            f"product {product[:60]!r} is not a slug: use 1-100 lowercase letters, digits "
            "and dashes, starting with a letter or digit"
        )
    return product


def check_version_number(version: str) -> str:
    """Return *version* if it is a version number, else raise `ReleaseInputError`."""
    if not VERSION_NUMBER.fullmatch(version):
        raise ReleaseInputError(
            f"version {version[:60]!r} is not a version number: use 1-100 letters, digits "
            "and . _ + ~ -, starting with a letter or digit (no spaces or path separators)"
        )
    return version


def check_release_names(product: str, version: str) -> None:
    """Raise `ReleaseInputError` unless *product* is a slug and *version* a version number."""
    check_product_slug(product)
    check_version_number(version)
