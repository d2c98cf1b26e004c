"""RFC 7807 errors of the sandbox, nested under `"error"` as the contract decides.

`ApiError` subclasses Starlette's `HTTPException` so FastAPI lets it through body
parsing untouched (an upload that grows too large mid-stream stays a 413).
"""

from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException

if TYPE_CHECKING:
    from craflow.sandbox.state import SandboxState

ERROR_TYPE_BASE = "https://api.craevidence.com/errors/"

_TITLES: dict[str, tuple[str, str]] = {
    "AUTHENTICATION_REQUIRED": ("authentication-required", "Authentication Required"),
    "TOKEN_EXPIRED": ("token-expired", "Token Expired"),
    "INSUFFICIENT_SCOPE": ("insufficient-scope", "Insufficient Scope"),
    "RESOURCE_NOT_FOUND": ("resource-not-found", "Resource Not Found"),
    "VALIDATION_ERROR": ("validation-error", "Validation Error"),
    "CONFLICT": ("conflict", "Conflict"),
    "RELEASE_BLOCKED": ("release-blocked", "Release Blocked"),
    "PAYLOAD_TOO_LARGE": ("payload-too-large", "Payload Too Large"),
    "RATE_LIMIT_EXCEEDED": ("rate-limit-exceeded", "Rate Limit Exceeded"),
    "METHOD_NOT_ALLOWED": ("method-not-allowed", "Method Not Allowed"),
    "INTERNAL_ERROR": ("internal-error", "Internal Server Error"),
}


class ApiError(HTTPException):
    """An error answer: HTTP status, contract code, one-line detail, optional extra fields."""

    def __init__(
        self, status: int, code: str, detail: str, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(status_code=status, detail=detail)
        self.code = code
        self.extra = extra or {}


def not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, "RESOURCE_NOT_FOUND", f"{kind} with ID {ident} not found")


def invalid(detail: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", detail)


def conflict(detail: str) -> ApiError:
    return ApiError(409, "CONFLICT", detail)


def check_notes(state: "SandboxState", notes: str | None) -> None:
    """A triage note longer than the configured cap is 422 VALIDATION_ERROR (nothing stored)."""
    cap = state.settings.max_notes_chars
    if notes is not None and len(notes) > cap:
        raise ApiError(422, "VALIDATION_ERROR", f"notes must be at most {cap} characters")


def problem_body(
    status: int, code: str, detail: str, request_id: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body of an error answer."""
    slug, title = _TITLES.get(code, ("error", "Error"))
    error: dict[str, Any] = {
        "type": ERROR_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }
    error.update(extra or {})
    return {"error": error}
