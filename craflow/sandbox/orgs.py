"""Organisations, their owner user and their API keys (seeding and key creation)."""

import json
import re
import secrets
from dataclasses import dataclass

from craflow.sandbox.auth import (
    API_KEY_PREFIX,
    VALID_SCOPES,
    hash_password,
    hash_secret,
    new_api_key,
)
from craflow.sandbox.errors import invalid
from craflow.sandbox.state import SandboxState, new_id

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class SeededOrganisation:
    organisation_id: str
    api_key: str
    owner_email: str
    owner_password: str


def create_api_key(
    state: SandboxState,
    org_id: str,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    key: str | None = None,
) -> str:
    """Store a key (hashed) and return it; the only time the clear key exists."""
    unknown = sorted(set(scopes) - VALID_SCOPES)
    if unknown:
        raise invalid(f"Unknown scope(s): {', '.join(unknown)}")
    if key is not None and (not key.startswith(API_KEY_PREFIX) or len(key) < 12):
        raise invalid("An API key must start with 'cra_' and be at least 12 characters")
    key = key or new_api_key(state.settings.api_key_random_bytes)
    expires = (
        None if expires_in_days is None else state.clock() + expires_in_days * _SECONDS_PER_DAY
    )
    with state.db.tx() as conn:
        exists = conn.execute(
            "SELECT 1 FROM api_keys WHERE key_hash = ?", (hash_secret(key),)
        ).fetchone()
        if exists is None:
            conn.execute(
                "INSERT INTO api_keys (id, org_id, name, key_hash, last4, scopes, expires_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new_id(),
                    org_id,
                    name,
                    hash_secret(key),
                    key[-4:],
                    json.dumps(sorted(scopes)),
                    expires,
                    state.now_iso(),
                ),
            )
    return key


def create_organisation(
    state: SandboxState, name: str, api_key: str | None = None
) -> SeededOrganisation:
    """An organisation with one owner user (random password) and one full-access key."""
    org_id = new_id()
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"
    email = f"owner+{slug}-{org_id[:8]}@sandbox.local"
    password = secrets.token_urlsafe(12)
    pw_hash = hash_password(password, state.settings.password_hash_iterations)
    with state.db.tx() as conn:
        conn.execute(
            "INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)",
            (org_id, name, state.now_iso()),
        )
        conn.execute(
            "INSERT INTO users (id, org_id, email, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (new_id(), org_id, email, pw_hash, state.now_iso()),
        )
    key = create_api_key(state, org_id, name="sandbox full access", scopes=[], key=api_key)
    return SeededOrganisation(org_id, key, email, password)


def set_password(state: SandboxState, email: str, password: str) -> None:
    with state.db.tx() as conn:
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE email = ?",
            (hash_password(password, state.settings.password_hash_iterations), email),
        )


def seed_default(state: SandboxState, api_key: str | None) -> SeededOrganisation:
    """The first organisation: created on a fresh data dir, reused after a restart.

    After a restart the owner's password is reset (only its hash was kept) and
    the given key is added if new; without a key a fresh one is generated.
    """
    org = state.db.one("SELECT id FROM organisations ORDER BY rowid LIMIT 1")
    if org is None:
        return create_organisation(state, "Sandbox", api_key)
    user = state.db.one("SELECT email FROM users WHERE org_id = ? ORDER BY rowid", (org["id"],))
    assert user is not None
    password = secrets.token_urlsafe(12)
    set_password(state, user["email"], password)
    key = create_api_key(state, org["id"], name="sandbox full access", scopes=[], key=api_key)
    return SeededOrganisation(org["id"], key, user["email"], password)
