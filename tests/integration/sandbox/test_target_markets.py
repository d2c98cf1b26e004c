"""API-CONTRACT §7: products know their target markets (POST /products and /ci/upload)."""

import sqlite3
from pathlib import Path

import pytest

from craflow.sandbox.db import Database
from craflow.sandbox.runner import RunningSandbox
from tests.integration.sandbox.helpers import REQUESTS_2_19, client, cyclonedx

pytestmark = pytest.mark.integration


def test_post_products_keeps_target_markets(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        made = api.post(
            "/products", json={"name": "Markets", "slug": "markets", "target_markets": ["de", "FR"]}
        )
        assert made.status_code == 201, made.text
        assert made.json()["target_markets"] == ["DE", "FR"]
        got = api.get(f"/products/{made.json()['id']}").json()
        assert got["target_markets"] == ["DE", "FR"]
        bad = api.post("/products", json={"name": "Bad", "target_markets": ["Germany"]})
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
        assert api.get("/products", params={"slug": "bad"}).json() == []


def test_ci_upload_stores_target_markets(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        sent = api.post(
            "/ci/upload",
            data={
                "product": "ci-markets",
                "version": "1.0.0",
                "create_product": "true",
                "create_version": "true",
                "target_markets": "DE, NL,IE",
                "scan": "false",
            },
            files={"file": ("sbom.json", cyclonedx(REQUESTS_2_19), "application/json")},
        )
        assert sent.status_code == 201, sent.text
        product = api.get("/products", params={"slug": "ci-markets"}).json()[0]
        assert product["target_markets"] == ["DE", "NL", "IE"]


def test_an_older_database_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE products (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL,"
            " slug TEXT NOT NULL, category TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO products VALUES ('p', 'o', 'n', 's', 'default', 't')")
    db = Database(path)
    row = db.one("SELECT target_markets FROM products WHERE id = 'p'")
    db.close()
    assert row is not None and row["target_markets"] == "[]"
