"""`/products`, `/products/{id}`, `/products/{id}/versions`, `/versions`.

Plain lists for the published CLI: `GET /products` answers a plain list when it has
a `slug` filter and neither `page` nor `per_page`; `GET /products/{id}/versions`
answers a plain list when it has neither `page` nor `per_page`. With either
parameter, both answer the pagination envelope.
"""

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from craflow.sandbox.cra import version_dict
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.resources import (
    create_product,
    create_version,
    envelope,
    find_product,
    page_params,
    parse_markets,
    product_dict,
)

router = APIRouter(tags=["products"])


class ProductBody(BaseModel):
    name: str
    category: str = "default"
    slug: str | None = None
    target_markets: list[str] | None = None


class VersionBody(BaseModel):
    product_id: str
    version_number: str
    release_state: str = "draft"


@router.get("/products", response_model=None)
def list_products(
    principal: PrincipalDep,
    state: StateDep,
    page: int | None = None,
    per_page: int | None = None,
    slug: str | None = None,
) -> dict[str, Any] | list[dict[str, Any]]:
    principal.require("product:read")
    where, params = "org_id = ?", [principal.org_id]
    if slug is not None:
        where += " AND slug = ?"
        params.append(slug)
    if slug is not None and page is None and per_page is None:
        rows = state.db.all(f"SELECT * FROM products WHERE {where}", params)  # noqa: S608
        return [product_dict(r) for r in rows]
    p, k = page_params(state, page, per_page)
    total_row = state.db.one(f"SELECT COUNT(*) AS n FROM products WHERE {where}", params)  # noqa: S608
    rows = state.db.all(
        f"SELECT * FROM products WHERE {where} ORDER BY created_at, rowid LIMIT ? OFFSET ?",  # noqa: S608
        [*params, k, (p - 1) * k],
    )
    total = total_row["n"] if total_row else 0
    return envelope([product_dict(r) for r in rows], total, p, k)


@router.post("/products", status_code=201)
def post_product(body: ProductBody, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("product:write")
    return product_dict(
        create_product(
            state,
            principal.org_id,
            body.name,
            body.category,
            body.slug,
            target_markets=parse_markets(body.target_markets),
        )
    )


@router.get("/products/{product_id}")
def get_product(product_id: str, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("product:read")
    return product_dict(find_product(state, principal.org_id, product_id))


@router.get("/products/{product_id}/versions", response_model=None)
def list_versions(
    product_id: str,
    principal: PrincipalDep,
    state: StateDep,
    page: int | None = None,
    per_page: int | None = None,
) -> dict[str, Any] | list[dict[str, Any]]:
    principal.require("product:read")
    product = find_product(state, principal.org_id, product_id)
    if page is None and per_page is None:
        rows = state.db.all(
            "SELECT * FROM versions WHERE product_id = ? ORDER BY created_at, rowid",
            (product["id"],),
        )
        return [version_dict(state, r) for r in rows]
    p, k = page_params(state, page, per_page)
    total_row = state.db.one(
        "SELECT COUNT(*) AS n FROM versions WHERE product_id = ?", (product["id"],)
    )
    rows = state.db.all(
        "SELECT * FROM versions WHERE product_id = ? ORDER BY created_at, rowid LIMIT ? OFFSET ?",
        (product["id"], k, (p - 1) * k),
    )
    total = total_row["n"] if total_row else 0
    return envelope([version_dict(state, r) for r in rows], total, p, k)


@router.post("/versions", status_code=201)
def post_version(body: VersionBody, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    principal.require("version:write")
    product = find_product(state, principal.org_id, body.product_id)
    row = create_version(
        state,
        principal.org_id,
        product,
        number=body.version_number,
        release_state=body.release_state,
    )
    return version_dict(state, row)
