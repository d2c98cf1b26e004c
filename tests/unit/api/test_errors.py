"""The error tree: status and code to class, one readable line, the transient rule."""

import json

import pytest

from craflow.api import (
    ApiError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    CraEvidenceError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ReleaseBlockedError,
    ServerError,
    TokenExpiredError,
    is_transient,
)


def _body(
    status: int, code: str, detail: str = "Product with ID xyz not found", **extra: object
) -> bytes:
    error = {
        "type": "https://api.craevidence.com/errors/x",
        "title": "Some Title",
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": "1234-abcd",
        **extra,
    }
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "VALIDATION_ERROR", BadRequestError),
        (401, "AUTHENTICATION_REQUIRED", AuthenticationError),
        (401, "TOKEN_EXPIRED", TokenExpiredError),
        (403, "INSUFFICIENT_SCOPE", PermissionDeniedError),
        (404, "RESOURCE_NOT_FOUND", NotFoundError),
        (409, "CONFLICT", ConflictError),
        (409, "RELEASE_BLOCKED", ReleaseBlockedError),
        (413, "PAYLOAD_TOO_LARGE", PayloadTooLargeError),
        (422, "VALIDATION_ERROR", BadRequestError),
        (429, "RATE_LIMIT_EXCEEDED", RateLimitedError),
        (500, "INTERNAL_ERROR", ServerError),
        (503, "SERVICE_UNAVAILABLE", ServerError),
        (405, "METHOD_NOT_ALLOWED", ApiError),
        (418, "TEAPOT", ApiError),
    ],
)
def test_every_status_and_code_gets_its_class(status: int, code: str, cls: type[ApiError]) -> None:
    error = ApiError.from_parts(status, _body(status, code), request_id="header-id")
    assert type(error) is cls
    assert isinstance(error, CraEvidenceError)
    assert error.status == status
    assert error.code == code
    assert error.detail == "Product with ID xyz not found"
    assert error.request_id == "1234-abcd"  # the body's id wins over the header's
    assert error.body is not None
    assert error.body["error"]["code"] == code


def test_str_is_one_readable_line() -> None:
    error = ApiError.from_parts(404, _body(404, "RESOURCE_NOT_FOUND"))
    assert str(error) == "404 RESOURCE_NOT_FOUND: Product with ID xyz not found (request 1234-abcd)"


def test_multi_line_detail_still_gives_one_line() -> None:
    error = ApiError.from_parts(400, _body(400, "VALIDATION_ERROR", detail="bad\nthing\n"))
    assert "\n" not in str(error)
    assert str(error).startswith("400 VALIDATION_ERROR: bad thing")


def test_html_body_gives_a_readable_message() -> None:
    html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = ApiError.from_parts(502, html, request_id=None)
    assert isinstance(error, ServerError)
    assert str(error) == "502 Bad Gateway (non-JSON body from server)"
    assert error.body is None
    assert error.text is not None and "nginx" in error.text


def test_non_json_body_keeps_the_header_request_id() -> None:
    error = ApiError.from_parts(503, b"upstream down", request_id="hdr-9")
    assert str(error) == "503 Service Unavailable (non-JSON body from server) (request hdr-9)"


def test_flat_problem_body_is_read_too() -> None:
    body = json.dumps({"code": "CONFLICT", "detail": "slug exists"}).encode()
    error = ApiError.from_parts(409, body)
    assert isinstance(error, ConflictError)
    assert str(error) == "409 CONFLICT: slug exists"


def test_json_array_body_is_treated_as_non_json() -> None:
    error = ApiError.from_parts(500, b"[1, 2]")
    assert str(error) == "500 Internal Server Error (non-JSON body from server)"


def test_release_blocked_carries_the_blockers() -> None:
    blockers = [
        {"source": "default_policy", "vuln_id": "CVE-2024-1", "reason": "open critical"},
        {"source": "cra_required", "vuln_id": "CVE-2024-2", "reason": "KEV"},
        "garbage",
    ]
    body = _body(
        409, "RELEASE_BLOCKED", blockers=blockers, cra_missing_items=["vulnerability_scan"]
    )
    error = ApiError.from_parts(409, body)
    assert isinstance(error, ReleaseBlockedError)
    assert error.missing_items == ["vulnerability_scan"]
    assert [b.vuln_id for b in error.blockers] == ["CVE-2024-1", "CVE-2024-2"]
    assert error.blockers[1].source == "cra_required"


def test_release_blocked_finds_vuln_blockers_in_details() -> None:
    details = {"vuln_blockers": [{"source": "cra_required", "vuln_id": "X", "reason": "r"}]}
    error = ApiError.from_parts(409, _body(409, "RELEASE_BLOCKED", details=details))
    assert isinstance(error, ReleaseBlockedError)
    assert [b.vuln_id for b in error.blockers] == ["X"]


def test_rate_limited_carries_retry_after() -> None:
    error = ApiError.from_parts(429, _body(429, "RATE_LIMIT_EXCEEDED"), retry_after=12.0)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 12.0


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (NetworkError("connect error"), True),
        (ApiTimeoutError("read timeout"), True),
        (RateLimitedError(429), True),
        (ServerError(502), True),
        (ServerError(503), True),
        (ServerError(504), True),
        (ServerError(500), False),
        (ServerError(501), False),
        (BadRequestError(400), False),
        (AuthenticationError(401), False),
        (TokenExpiredError(401), False),
        (PermissionDeniedError(403), False),
        (NotFoundError(404), False),
        (ConflictError(409), False),
        (BadRequestError(422), False),
        (ConfigurationError("no key"), False),
        (ValueError("other"), False),
    ],
)
def test_is_transient_table(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
