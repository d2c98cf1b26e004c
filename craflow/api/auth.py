"""Credentials: a fixed API key, or e-mail/password login with token refresh."""

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import SecretStr

from craflow.api.errors import AuthenticationError, ConfigurationError, UnexpectedResponseError
from craflow.api.secrets import redact

# Sends an unauthenticated JSON POST to a path and returns the decoded JSON object.
PostJson = Callable[[str, Mapping[str, Any]], Mapping[str, Any]]


class Credentials(Protocol):
    """What the session asks of credentials."""

    def authorization(self, post: PostJson) -> str:
        """The `Authorization` header value for the next request."""
        ...

    def renew(self, post: PostJson, stale: str) -> bool:
        """Replace the expired `stale` header value; False when that is impossible."""
        ...

    def describe(self) -> str:
        """A safe description for repr and logs."""
        ...


class ApiKeyCredentials:
    """A `cra_` API key sent as a bearer token."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def authorization(self, post: PostJson) -> str:
        return f"Bearer {self._key.get_secret_value()}"

    def renew(self, post: PostJson, stale: str) -> bool:
        return False

    def describe(self) -> str:
        return f"api-key {redact(self._key)}"

    def __repr__(self) -> str:
        return f"ApiKeyCredentials({redact(self._key)})"


class MissingCredentials:
    """No key and no login: every request fails with a clear configuration error."""

    def authorization(self, post: PostJson) -> str:
        raise ConfigurationError(
            "no credentials: set CRA_EVIDENCE_API_KEY, or CRA_EVIDENCE_EMAIL and "
            "CRA_EVIDENCE_PASSWORD"
        )

    def renew(self, post: PostJson, stale: str) -> bool:
        return False

    def describe(self) -> str:
        return "no credentials"


class LoginCredentials:
    """Logs in lazily with e-mail/password, refreshes before expiry and on TOKEN_EXPIRED."""

    def __init__(
        self,
        email: str,
        password: SecretStr,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin_seconds: float = 30.0,
    ) -> None:
        self._email = email
        self._password = password
        self._clock = clock
        self._margin = refresh_margin_seconds
        self._lock = threading.Lock()
        self._access: SecretStr | None = None
        self._refresh: SecretStr | None = None
        self._expires_at: float | None = None

    def authorization(self, post: PostJson) -> str:
        with self._lock:
            if self._access is None:
                self._login(post)
            elif self._expires_at is not None and self._clock() >= self._expires_at - self._margin:
                self._renew_locked(post)
            return self._header()

    def renew(self, post: PostJson, stale: str) -> bool:
        with self._lock:
            if self._access is not None and self._header() != stale:
                return True  # another thread renewed it already
            self._renew_locked(post)
            return True

    def describe(self) -> str:
        return f"login {self._email}"

    def __repr__(self) -> str:
        return f"LoginCredentials({self._email!r})"

    def _header(self) -> str:
        assert self._access is not None
        return f"Bearer {self._access.get_secret_value()}"

    def _renew_locked(self, post: PostJson) -> None:
        if self._refresh is not None:
            try:
                tokens = post("/auth/refresh", {"refresh_token": self._refresh.get_secret_value()})
            except AuthenticationError:
                self._refresh = None  # the refresh token expired too: log in again
            else:
                self._store(tokens)
                return
        self._login(post)

    def _login(self, post: PostJson) -> None:
        tokens = post(
            "/auth/login", {"email": self._email, "password": self._password.get_secret_value()}
        )
        self._store(tokens)

    def _store(self, tokens: Mapping[str, Any]) -> None:
        access = tokens.get("access_token")
        if not isinstance(access, str) or not access:
            raise UnexpectedResponseError("the token response has no access_token")
        self._access = SecretStr(access)
        refresh = tokens.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            self._refresh = SecretStr(refresh)
        expires_in = tokens.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            self._expires_at = self._clock() + float(expires_in)
        else:
            self._expires_at = None
