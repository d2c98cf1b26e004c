"""Authentication, scopes, tenant isolation, error shape, request ids, pagination."""

import httpx
import pytest

from craflow.sandbox.runner import RunningSandbox
from tests.fixtures.sandbox import SandboxFactory
from tests.integration.sandbox.helpers import client, control, new_version, raw

pytestmark = pytest.mark.integration

ERROR_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    error: dict[str, object] = answer.json()["error"]
    assert set(error) >= ERROR_KEYS
    assert error["code"] == code
    assert error["status"] == status
    assert str(error["type"]).startswith("https://api.craevidence.com/errors/")
    assert answer.headers["x-request-id"] == error["request_id"]
    return error


def test_health_docs_and_openapi(sandbox: RunningSandbox) -> None:
    with raw(sandbox) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/docs").status_code == 200
        spec = http.get("/openapi.json").json()
    assert "/_sandbox/osv" in spec["paths"]
    assert "sandbox control" in spec["paths"]["/_sandbox/osv"]["post"]["tags"]
    assert "/api/v1/ci/upload" in spec["paths"]


def test_missing_and_unknown_credentials_are_401(sandbox: RunningSandbox) -> None:
    with raw(sandbox) as http:
        assert_error(http.get("/api/v1/products"), 401, "AUTHENTICATION_REQUIRED")
    with client(sandbox, "cra_unknownkey0000") as api:
        assert_error(api.get("/products"), 401, "AUTHENTICATION_REQUIRED")
    with client(sandbox, "not-a-jwt") as api:
        assert_error(api.get("/products"), 401, "AUTHENTICATION_REQUIRED")


def test_every_answer_has_request_and_rate_headers(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        answers = [api.get("/products"), api.get("/products/nope"), api.get("/nothing-here")]
    ids = {a.headers["x-request-id"] for a in answers}
    assert len(ids) == 3
    for answer in answers:
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
            answer.headers
        )
    assert_error(answers[1], 404, "RESOURCE_NOT_FOUND")
    assert_error(answers[2], 404, "RESOURCE_NOT_FOUND")


def test_validation_conflict_and_method_errors(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        assert_error(api.post("/products", json={"category": "default"}), 422, "VALIDATION_ERROR")
        assert_error(
            api.post("/products", json={"name": "x", "category": "nope"}), 400, "VALIDATION_ERROR"
        )
        assert api.post("/products", json={"name": "Dup", "slug": "dup"}).status_code == 201
        assert_error(api.post("/products", json={"name": "Dup", "slug": "dup"}), 409, "CONFLICT")
        product_id, _ = new_version(api, "dup", "1.0")
        again = api.post("/versions", json={"product_id": product_id, "version_number": "1.0"})
        assert_error(again, 409, "CONFLICT")
        assert api.delete("/products").status_code == 405


def test_pagination_envelope_and_bounds(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        for index in range(3):
            api.post("/products", json={"name": f"P{index}", "slug": f"p{index}"})
        page = api.get("/products", params={"page": 1, "per_page": 2}).json()
        assert set(page) == {"items", "total", "page", "per_page", "has_next"}
        assert (page["total"], page["page"], page["per_page"], page["has_next"]) == (3, 1, 2, True)
        last = api.get("/products", params={"page": 2, "per_page": 2}).json()
        assert (len(last["items"]), last["has_next"]) == (1, False)
        assert api.get("/products").json()["per_page"] == 50
        for bad in ({"per_page": 0}, {"per_page": 101}, {"page": 0}):
            assert_error(api.get("/products", params=bad), 400, "VALIDATION_ERROR")
        assert_error(api.get("/products", params={"page": "x"}), 422, "VALIDATION_ERROR")


def test_published_cli_shapes_are_plain_lists(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        product_id, version_id = new_version(api, "cli-app", "2.0")
        by_slug = api.get("/products", params={"slug": "cli-app"}).json()
        assert isinstance(by_slug, list)
        assert by_slug[0]["id"] == product_id
        versions = api.get(f"/products/{product_id}/versions").json()
        assert isinstance(versions, list)
        assert versions[0]["id"] == version_id
        assert versions[0]["cra_status"] == "incomplete"
        paged = api.get(f"/products/{product_id}/versions", params={"page": 1}).json()
        assert paged["total"] == 1


def test_scopes_name_the_missing_one_and_tenants_are_isolated(sandbox: RunningSandbox) -> None:
    with raw(sandbox) as http:
        login = http.post(
            "/api/v1/auth/login",
            json={"email": sandbox.owner_email, "password": sandbox.owner_password},
        )
    assert login.status_code == 200
    with client(sandbox, login.json()["access_token"]) as owner:
        created = owner.post("/api-keys", json={"name": "ro", "scopes": ["product:read"]})
        assert created.status_code == 201
        read_only = created.json()["key"]
        assert read_only.startswith("cra_")
        bad_scope = owner.post("/api-keys", json={"name": "x", "scopes": ["root:all"]})
        assert_error(bad_scope, 400, "VALIDATION_ERROR")
        product_id, _ = new_version(owner, "mine")
    with client(sandbox, read_only) as api:
        assert api.get(f"/products/{product_id}").status_code == 200
        refused = assert_error(api.post("/products", json={"name": "n"}), 403, "INSUFFICIENT_SCOPE")
        assert "product:write" in str(refused["detail"])
        assert_error(api.post("/api-keys", json={"name": "k"}), 403, "INSUFFICIENT_SCOPE")
    with control(sandbox) as api:
        other = api.post("/organisations", json={"name": "Other"})
        assert other.status_code == 201
    with client(sandbox, other.json()["api_key"]) as stranger:
        assert_error(stranger.get(f"/products/{product_id}"), 404, "RESOURCE_NOT_FOUND")
        assert stranger.get("/products", params={"slug": "mine"}).json() == []
        assert_error(
            stranger.get("/ci/status", params={"product": "mine", "version": "1.0"}),
            404,
            "RESOURCE_NOT_FOUND",
        )
    with control(sandbox, read_only) as api:
        assert_error(api.post("/organisations", json={"name": "x"}), 403, "INSUFFICIENT_SCOPE")


def test_oidc_exchange_gives_a_usable_token(sandbox_factory: SandboxFactory) -> None:
    sandbox = sandbox_factory(allow_fake_oidc=True)
    with raw(sandbox) as http:
        assert http.post("/api/v1/oidc/token", json={"github_token": ""}).status_code == 422
        token = http.post("/api/v1/oidc/token", json={"github_token": "gh-token"}).json()
    with client(sandbox, token["access_token"]) as api:
        assert api.get("/products").status_code == 200


def test_filters_naming_another_tenants_resources_find_nothing(sandbox: RunningSandbox) -> None:
    with client(sandbox) as api:
        product_id, version_id = new_version(api, "filtered")
    with control(sandbox) as ctl:
        other_key = ctl.post("/organisations", json={"name": "Else"}).json()["api_key"]
    with client(sandbox, other_key) as stranger:
        for params in ({"version_id": version_id}, {"product_id": product_id}, {}):
            listed = stranger.get("/vulnerabilities", params=params)
            assert listed.status_code == 200
            assert listed.json()["total"] == 0
