"""Products and versions: lookup within one organisation, creation, JSON shapes."""

import hashlib
import json
import re
import sqlite3
import uuid
from collections.abc import Sequence
from typing import Any

from craflow.sandbox.errors import ApiError, conflict, invalid, not_found
from craflow.sandbox.state import SandboxState, new_id

CATEGORIES = ("default", "important_class_i", "important_class_ii", "critical")
RELEASE_STATES = ("draft", "pending_review", "approved", "released", "deprecated", "end_of_life")
#: states a version may be created in (API-CONTRACT §7); later ones go through the transitions
CREATION_STATES = ("draft", "pending_review")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
#: SemVer, PEP 440 and calendar versions: no spaces, control characters or path separators
_VERSION_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,99}")
MAX_NAME_CHARS = 200
MAX_MARKETS = 250
_MARKET = re.compile(r"^[A-Z]{2}$")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by dashes; a name without any gets a stable hashed slug.

    Two different non-Latin names (`製品`, `продукт`) so get two different slugs
    instead of both becoming `product`.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100]
    if slug:
        return slug
    return "product-" + hashlib.sha256(name.strip().encode()).hexdigest()[:12]


def product_dict(row: sqlite3.Row) -> dict[str, Any]:
    found = {k: row[k] for k in ("id", "name", "slug", "category", "created_at")}
    return {**found, "target_markets": json.loads(row["target_markets"] or "[]")}


def parse_markets(value: str | Sequence[str] | None) -> list[str]:
    """ISO 3166-1 alpha-2 codes from a list or a comma-separated string; 422 otherwise."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    codes = [item.strip().upper() for item in items if item.strip()]
    bad = [c for c in codes if not _MARKET.match(c)]
    if bad or len(codes) > MAX_MARKETS:
        raise invalid(f"target_markets must be at most {MAX_MARKETS} ISO 3166-1 alpha-2 codes")
    return list(dict.fromkeys(codes))


def find_product(state: SandboxState, org_id: str, ref: str) -> sqlite3.Row:
    """A product of *org_id* by UUID or slug; 404 for anything else, other tenants included.

    A name that `/ci/upload` turned into a slug (`My App` -> `my-app`) finds it too.
    """
    if is_uuid(ref):
        row = state.db.one("SELECT * FROM products WHERE org_id = ? AND id = ?", (org_id, ref))
    else:
        row = state.db.one(
            "SELECT * FROM products WHERE org_id = ? AND slug IN (?, ?)",
            (org_id, ref, slugify(ref)),
        )
    if row is None:
        raise not_found("Product", ref)
    return row


def find_version(state: SandboxState, org_id: str, version_id: str) -> sqlite3.Row:
    row = state.db.one("SELECT * FROM versions WHERE org_id = ? AND id = ?", (org_id, version_id))
    if row is None:
        raise not_found("Version", version_id)
    return row


def find_version_by_number(
    state: SandboxState, product: sqlite3.Row, number: str
) -> sqlite3.Row | None:
    return state.db.one(
        "SELECT * FROM versions WHERE product_id = ? AND (version_number = ? OR id = ?)",
        (product["id"], number, number),
    )


def check_product(name: str, category: str, slug: str | None) -> str:
    """Refuse a bad name, category or slug (400) before anything is written; return the slug."""
    if not name.strip():
        raise invalid("Product name must not be empty")
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise invalid(f"Product name must be at most {MAX_NAME_CHARS} printable characters")
    if category not in CATEGORIES:
        raise invalid(f"category must be one of {', '.join(CATEGORIES)}")
    slug = slug or slugify(name)
    if not _SLUG.match(slug):
        raise invalid("slug must be lowercase letters, digits and dashes (max 100)")
    return slug


def check_version(number: str, release_state: str) -> None:
    """Refuse a bad version number or a creation state past review (400)."""
    if not _VERSION_NUMBER.fullmatch(number.strip()):
        raise invalid(
            "version_number must be 1 to 100 letters, digits and . _ + ~ -, starting with "
            "a letter or digit"
        )
    if release_state not in CREATION_STATES:
        raise invalid(
            f"A version is created as {' or '.join(CREATION_STATES)}; later states are reached"
            " through PATCH /versions/{id}/release-state"
        )


def create_product(
    state: SandboxState,
    org_id: str,
    name: str,
    category: str,
    slug: str | None,
    *,
    target_markets: Sequence[str] = (),
) -> sqlite3.Row:
    slug = check_product(name, category, slug)
    product_id = new_id()
    try:
        with state.db.tx() as conn:
            conn.execute(
                "INSERT INTO products (id, org_id, name, slug, category, created_at,"
                " target_markets) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    product_id,
                    org_id,
                    name.strip(),
                    slug,
                    category,
                    state.now_iso(),
                    json.dumps(list(target_markets)),
                ),
            )
    except sqlite3.IntegrityError as exc:
        raise conflict(f"A product with slug '{slug}' already exists") from exc
    state.audit(org_id, "product.created", {"slug": slug}, product_id=product_id)
    return find_product(state, org_id, product_id)


def create_version(
    state: SandboxState,
    org_id: str,
    product: sqlite3.Row,
    *,
    number: str,
    release_state: str = "draft",
    environment: str | None = None,
) -> sqlite3.Row:
    check_version(number, release_state)
    version_id = new_id()
    now = state.now_iso()
    try:
        with state.db.tx() as conn:
            conn.execute(
                "INSERT INTO versions (id, org_id, product_id, version_number, release_state,"
                " environment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version_id,
                    org_id,
                    product["id"],
                    number.strip(),
                    release_state,
                    environment,
                    now,
                    now,
                ),
            )
    except sqlite3.IntegrityError as exc:
        raise ApiError(
            409, "CONFLICT", f"Version '{number}' already exists for this product"
        ) from exc
    state.audit(
        org_id,
        "version.created",
        {"version_number": number.strip()},
        product_id=product["id"],
        version_id=version_id,
    )
    return find_version(state, org_id, version_id)


def page_params(state: SandboxState, page: int | None, per_page: int | None) -> tuple[int, int]:
    """Validated (page, per_page) with the configured default and bounds."""
    page = 1 if page is None else page
    per_page = state.settings.default_per_page if per_page is None else per_page
    if not 1 <= page <= state.settings.max_page:
        raise invalid(f"page must be between 1 and {state.settings.max_page}")
    if not 1 <= per_page <= state.settings.max_per_page:
        raise invalid(f"per_page must be between 1 and {state.settings.max_per_page}")
    return page, per_page


def envelope(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "has_next": page * per_page < total,
    }
