"""Everything the CRA Evidence client raises, translated at one boundary.

```
CraEvidenceError                      base of everything the client raises
├── ConfigurationError                no URL, no credentials, bad CA bundle
├── UnexpectedResponseError           a success answer the client cannot read
├── TransportError                    the request may not have reached the server / no answer
│   ├── NetworkError                  connect error, connection reset
│   └── ApiTimeoutError               read/write/pool timeout
└── ApiError                          the server answered >= 400
    │                                 (.status .code .detail .request_id .body)
    ├── AuthenticationError           401 (AUTHENTICATION_REQUIRED)
    │   └── TokenExpiredError         401 TOKEN_EXPIRED (after the one refresh failed)
    ├── PermissionDeniedError         403 INSUFFICIENT_SCOPE
    ├── NotFoundError                 404
    ├── BadRequestError               400/422 VALIDATION_ERROR
    ├── ConflictError                 409 CONFLICT
    │   └── ReleaseBlockedError       409 RELEASE_BLOCKED (.blockers, .missing_items)
    ├── PayloadTooLargeError          413
    ├── RateLimitedError              429 (.retry_after seconds | None)
    └── ServerError                   5xx
```

`ApiError.from_parts` builds the right class from a status and a (possibly non-JSON) body;
`is_transient` is the retry condition the Prefect tasks use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from craflow.api.models import VulnBlocker
from craflow.api.secrets import scrub

_GATEWAY_STATUSES = frozenset({502, 503, 504})


class CraEvidenceError(Exception):
    """Base of everything the client raises."""


class ConfigurationError(CraEvidenceError):
    """The client cannot be used as configured (no URL, no credentials, bad CA bundle)."""


class UnexpectedResponseError(CraEvidenceError):
    """The server answered with success but a body the client cannot read."""


class TransportError(CraEvidenceError):
    """No answer: the request may not have reached the server."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(scrub(message))
        self.method = method
        self.url = url


class NetworkError(TransportError):
    """Connect error, connection reset, broken stream."""


class ApiTimeoutError(TransportError):
    """Read, write or pool timeout."""


class GaveUpError(CraEvidenceError):
    """The client stopped trying: the run's deadline passed or the server stayed silent.

    Never transient: repeating the operation would only spend more of a budget that is gone.
    """


class DeadlineExceededError(GaveUpError):
    """The run's overall deadline passed (or the next wait would pass it)."""


class ServerUnresponsiveError(GaveUpError):
    """The server answered nothing for longer than `unresponsive_after_seconds`."""


class ApiError(CraEvidenceError):
    """The server answered with a status >= 400."""

    def __init__(
        self,
        status: int,
        *,
        code: str | None = None,
        detail: str | None = None,
        title: str | None = None,
        request_id: str | None = None,
        body: Mapping[str, Any] | None = None,
        text: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = None if detail is None else scrub(detail)
        self.title = None if title is None else scrub(title)
        self.request_id = request_id
        self.body: Mapping[str, Any] | None = body
        self.text = None if text is None else scrub(text)
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        if self.body is None:
            reason = _reason(self.status)
            line = f"{self.status} {reason} (non-JSON body from server)"
        else:
            head = (
                f"{self.status} {self.code}"
                if self.code
                else f"{self.status} {_reason(self.status)}"
            )
            message = self.detail or self.title
            line = f"{head}: {message}" if message else head
        if self.request_id:
            line += f" (request {self.request_id})"
        return " ".join(line.split())

    @staticmethod
    def from_parts(
        status: int,
        content: bytes,
        *,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> ApiError:
        """Build the exception class the status and code call for from a raw error body."""
        content = scrub(content.decode("utf-8", "replace")).encode()
        body = _parse_json_object(content)
        fields: Mapping[str, Any] = {}
        if body is not None:
            nested = body.get("error")
            fields = nested if isinstance(nested, Mapping) else body
        code = _str_or_none(fields.get("code"))
        kwargs: dict[str, Any] = {
            "code": code,
            "detail": _str_or_none(fields.get("detail")) or _str_or_none(fields.get("message")),
            "title": _str_or_none(fields.get("title")),
            "request_id": _str_or_none(fields.get("request_id")) or request_id,
            "body": body,
            "text": None if body is not None else content[:500].decode("utf-8", "replace"),
        }
        cls = _class_for(status, code)
        if cls is ReleaseBlockedError:
            missing = fields.get("cra_missing_items")
            return ReleaseBlockedError(
                status,
                blockers=_blockers(body, fields),
                missing_items=[str(item) for item in missing] if isinstance(missing, list) else [],
                **kwargs,
            )
        if cls is RateLimitedError:
            return RateLimitedError(status, retry_after=retry_after, **kwargs)
        return cls(status, **kwargs)


class AuthenticationError(ApiError):
    """401: missing or invalid credentials."""


class TokenExpiredError(AuthenticationError):
    """401 TOKEN_EXPIRED, still after the one refresh the client tries."""


class PermissionDeniedError(ApiError):
    """403 INSUFFICIENT_SCOPE: the key lacks a scope."""


class NotFoundError(ApiError):
    """404: no such resource (or another organisation's)."""


class BadRequestError(ApiError):
    """400/422 VALIDATION_ERROR."""


class ConflictError(ApiError):
    """409 CONFLICT: already exists, or a forbidden state change."""


class ReleaseBlockedError(ConflictError):
    """409 RELEASE_BLOCKED: the release policy is not met; `.blockers` says why."""

    def __init__(
        self,
        status: int,
        *,
        blockers: list[VulnBlocker],
        missing_items: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.blockers = blockers
        self.missing_items = missing_items or []
        super().__init__(status, **kwargs)


class PayloadTooLargeError(ApiError):
    """413: the upload is above the server's size limit."""


class RateLimitedError(ApiError):
    """429: still rate limited after the client's retries; `.retry_after` in seconds."""

    def __init__(self, status: int, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(status, **kwargs)


class ServerError(ApiError):
    """5xx: the server failed."""


_CLASS_BY_STATUS: dict[int, type[ApiError]] = {}


def _class_for(status: int, code: str | None) -> type[ApiError]:
    if not _CLASS_BY_STATUS:
        _CLASS_BY_STATUS.update(
            {
                400: BadRequestError,
                401: AuthenticationError,
                403: PermissionDeniedError,
                404: NotFoundError,
                409: ConflictError,
                413: PayloadTooLargeError,
                422: BadRequestError,
                429: RateLimitedError,
            }
        )
    if status == 401 and code == "TOKEN_EXPIRED":
        return TokenExpiredError
    if status == 409 and code == "RELEASE_BLOCKED":
        return ReleaseBlockedError
    if status >= 500:
        return ServerError
    return _CLASS_BY_STATUS.get(status, ApiError)


def is_transient(exc: BaseException) -> bool:
    """True when repeating the same operation later may succeed (the tasks' retry condition).

    Transport failures, 429 and 502/503/504 are transient; 500, a passed deadline, a silent
    server (`GaveUpError`) and every other error are not.
    """
    if isinstance(exc, GaveUpError):
        return False
    if isinstance(exc, TransportError | RateLimitedError):
        return True
    return isinstance(exc, ServerError) and exc.status in _GATEWAY_STATUSES


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _parse_json_object(content: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _blockers(body: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> list[VulnBlocker]:
    """Find the blocker list wherever the server put it (error.blockers, vuln_blockers, ...)."""
    candidates: list[object] = []
    for source in (fields, fields.get("details"), body):
        if isinstance(source, Mapping):
            candidates += [source.get("blockers"), source.get("vuln_blockers")]
    for candidate in candidates:
        if isinstance(candidate, list):
            blockers = []
            for item in candidate:
                try:
                    blockers.append(VulnBlocker.model_validate(item))
                except ValidationError:
                    continue
            return blockers
    return []
