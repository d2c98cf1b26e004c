"""FastAPI dependencies: the sandbox state and the authenticated caller."""

import json
from typing import Annotated

from fastapi import Depends, Request

from craflow.sandbox.auth import API_KEY_PREFIX, Principal, hash_secret
from craflow.sandbox.errors import ApiError
from craflow.sandbox.state import SandboxState


def get_state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


StateDep = Annotated[SandboxState, Depends(get_state)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Send 'Authorization: Bearer <token>'")
    return token.strip()


def authenticate(request: Request, state: StateDep) -> Principal:
    """Resolve an API key or a JWT access token to a Principal (401 otherwise)."""
    token = bearer_token(request)
    if token.startswith(API_KEY_PREFIX):
        row = state.db.one("SELECT * FROM api_keys WHERE key_hash = ?", (hash_secret(token),))
        if row is None:
            raise ApiError(401, "AUTHENTICATION_REQUIRED", "Unknown API key")
        if row["expires_at"] is not None and state.clock() >= row["expires_at"]:
            raise ApiError(401, "TOKEN_EXPIRED", "The API key has expired")
        scopes = json.loads(row["scopes"])
        return Principal(row["org_id"], "api_key", row["id"], frozenset(scopes) or None)
    user_id, org_id = state.signer.verify(token, state.clock())
    if state.db.one("SELECT id FROM users WHERE id = ?", (user_id,)) is None:
        raise ApiError(401, "AUTHENTICATION_REQUIRED", "Unknown user")
    return Principal(org_id, "user", user_id, None)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def full_access(principal: PrincipalDep) -> Principal:
    """The caller must hold full access (a JWT, or a key created without scopes)."""
    if principal.scopes is not None:
        raise ApiError(
            403,
            "INSUFFICIENT_SCOPE",
            "This operation requires a full-access key",
            {"required_scope": "*"},
        )
    return principal


FullAccessDep = Annotated[Principal, Depends(full_access)]
