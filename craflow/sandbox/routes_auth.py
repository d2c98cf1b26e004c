"""`/auth/login`, `/auth/refresh`, `/oidc/token` and owner-created API keys."""

import secrets
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from craflow.sandbox.auth import check_password, hash_secret
from craflow.sandbox.deps import PrincipalDep, StateDep
from craflow.sandbox.errors import ApiError
from craflow.sandbox.orgs import create_api_key
from craflow.sandbox.state import SandboxState

router = APIRouter(tags=["authentication"])


class LoginBody(BaseModel):
    email: str
    password: str


class RefreshBody(BaseModel):
    refresh_token: str


class OidcBody(BaseModel):
    github_token: str = Field(min_length=1)


class ApiKeyBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=list)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


def _tokens(state: SandboxState, user_id: str, org_id: str) -> dict[str, Any]:
    now = state.clock()
    ttl = state.settings.jwt_ttl_seconds
    refresh = secrets.token_urlsafe(32)
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO refresh_tokens (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
            (hash_secret(refresh), user_id, now + state.settings.refresh_ttl_seconds),
        )
    return {
        "access_token": state.signer.issue(user_id, org_id, now, ttl),
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": ttl,
    }


@router.post("/auth/login")
def login(body: LoginBody, state: StateDep) -> dict[str, Any]:
    user = state.db.one("SELECT * FROM users WHERE email = ?", (body.email,))
    if user is None or not check_password(body.password, user["password_hash"]):
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Wrong email or password")
    return _tokens(state, user["id"], user["org_id"])


@router.post("/auth/refresh")
def refresh(body: RefreshBody, state: StateDep) -> dict[str, Any]:
    token_hash = hash_secret(body.refresh_token)
    row = state.db.one("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))
    if row is None or row["used"]:
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Unknown or already used refresh token")
    if state.clock() >= row["expires_at"]:
        raise ApiError(401, "TOKEN_EXPIRED", "The refresh token has expired; log in again")
    user = state.db.one("SELECT * FROM users WHERE id = ?", (row["user_id"],))
    if user is None:
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Unknown user")
    with state.db.tx() as conn:
        conn.execute("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?", (token_hash,))
    return _tokens(state, user["id"], user["org_id"])


@router.post("/oidc/token")
def oidc_token(body: OidcBody, state: StateDep) -> dict[str, Any]:
    """Sandbox only, off unless started with `--allow-fake-oidc`: any non-empty
    `github_token` is then accepted for the first organisation's owner (there is no
    GitHub to verify it against on loopback). Off, the route answers 404."""
    if not state.settings.allow_fake_oidc:
        raise ApiError(
            404,
            "RESOURCE_NOT_FOUND",
            "OIDC exchange is off in this sandbox (start it with --allow-fake-oidc)",
        )
    user = state.db.one("SELECT * FROM users ORDER BY rowid LIMIT 1")
    if user is None:
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "No organisation to log in to")
    tokens = _tokens(state, user["id"], user["org_id"])
    return {
        "access_token": tokens["access_token"],
        "token_type": "bearer",
        "expires_in": tokens["expires_in"],
    }


@router.post("/api-keys", status_code=201)
def create_key(body: ApiKeyBody, principal: PrincipalDep, state: StateDep) -> dict[str, Any]:
    """Owners (JWT-authenticated) create scoped keys; the key is shown only in this answer."""
    if principal.kind != "user":
        raise ApiError(
            403,
            "INSUFFICIENT_SCOPE",
            "API keys are created by a logged-in owner (JWT)",
            {"required_scope": "owner"},
        )
    key = create_api_key(
        state,
        principal.org_id,
        name=body.name,
        scopes=body.scopes,
        expires_in_days=body.expires_in_days,
    )
    return {
        "name": body.name,
        "scopes": sorted(body.scopes),
        "key": key,
        "api_key": key,
        "expires_in_days": body.expires_in_days,
    }
