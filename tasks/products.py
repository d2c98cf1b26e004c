"""Tasks that find or create a product and a version, and find the previous release."""

from craflow.api import Product, Version
from craflow.release.errors import ReleaseInputError
from craflow.release.previous import VersionFacts, pick_previous_release
from tasks.client import current_client
from tasks.retry import api_task


@api_task(name="find-or-create-product")
def resolve_product(slug: str) -> Product:
    """The product with *slug*, created (named after the slug) when missing."""
    return current_client().find_or_create_product(slug, name=slug)


@api_task(name="find-or-create-version")
def resolve_version(product_id: str, version_number: str) -> Version:
    """The version *version_number* of the product, created (as draft) when missing."""
    return current_client().find_or_create_version(product_id, version_number)


def _facts(version: Version) -> VersionFacts:
    created = version.created_at.isoformat() if version.created_at else ""
    return VersionFacts(version.id, version.version_number, version.release_state or "", created)


@api_task(name="find-previous-release")
def find_previous_release(
    product_id: str, version_number: str, previous: str | None = None
) -> Version | None:
    """The version to compare with: *previous* when named, else the latest release before.

    A named previous version that does not exist is a `ReleaseInputError`.
    """
    client = current_client()
    if previous is not None:
        found = client.find_version(product_id, previous)
        if found is None:
            raise ReleaseInputError(f"previous version {previous!r} does not exist on the product")
        return found
    versions = {v.id: v for v in client.list_versions(product_id)}
    picked = pick_previous_release((_facts(v) for v in versions.values()), version_number)
    return versions[picked.id] if picked else None
