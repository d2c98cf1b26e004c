"""Credentials: API keys (`cra_...`, stored hashed), passwords, JWT access tokens, scopes."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from craflow.sandbox.errors import ApiError

API_KEY_PREFIX = "cra_"
_RESOURCES_RWD = ("sbom", "product", "version", "document", "firmware", "hardware")
_LEVELS = ("read", "write", "delete")
VALID_SCOPES = frozenset(
    [f"{r}:{lvl}" for r in _RESOURCES_RWD for lvl in _LEVELS]
    + ["vuln:read", "vuln:write", "export:read"]
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an organisation, plus scopes (None means full access)."""

    org_id: str
    kind: str  # "api_key" or "user"
    subject_id: str
    scopes: frozenset[str] | None

    def require(self, scope: str) -> None:
        """403 INSUFFICIENT_SCOPE naming *scope* unless a granted scope implies it."""
        if not has_scope(self.scopes, scope):
            raise ApiError(
                403,
                "INSUFFICIENT_SCOPE",
                f"This operation requires the scope '{scope}'",
                {"required_scope": scope},
            )


def has_scope(granted: frozenset[str] | None, needed: str) -> bool:
    """Write implies read and delete implies write; no scopes at all means full access."""
    if granted is None:
        return True
    resource, _, level = needed.partition(":")
    rank = _LEVELS.index(level)
    return any(f"{resource}:{lvl}" in granted for lvl in _LEVELS[rank:])


def mask_key(key: str) -> str:
    return f"{API_KEY_PREFIX}****{key[-4:]}"


def new_api_key(random_bytes: int) -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(random_bytes)


def hash_secret(value: str) -> str:
    """Hash of a high-entropy secret (API key, refresh token) for lookup."""
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str, iterations: int) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _, iterations, salt, digest = stored.split("$")
    mine = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(mine.hex(), digest)


class TokenSigner:
    """HS256 access tokens with an expiry checked against the caller's clock."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._key = OctKey.import_key(secret or secrets.token_bytes(32))

    def issue(self, user_id: str, org_id: str, now: float, ttl_seconds: int) -> str:
        claims = {
            "sub": user_id,
            "org": org_id,
            "iat": int(now),
            "exp": now + ttl_seconds,
            "typ": "access",
        }
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def verify(self, token: str, now: float) -> tuple[str, str]:
        """Return (user_id, org_id); 401 AUTHENTICATION_REQUIRED or TOKEN_EXPIRED otherwise."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"]).claims
        except (JoseError, ValueError) as exc:
            raise ApiError(401, "AUTHENTICATION_REQUIRED", "Invalid access token") from exc
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or claims.get("typ") != "access":
            raise ApiError(401, "AUTHENTICATION_REQUIRED", "Invalid access token")
        if now >= exp:
            raise ApiError(401, "TOKEN_EXPIRED", "The access token has expired; refresh it")
        return str(claims["sub"]), str(claims["org"])
