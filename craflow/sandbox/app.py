"""The sandbox application factory: FastAPI routes, error shapes, middleware."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from craflow import __version__
from craflow.sandbox import (
    control,
    routes_auth,
    routes_ci,
    routes_exports,
    routes_products,
    routes_sboms,
    routes_vulns,
)
from craflow.sandbox.errors import ApiError, problem_body
from craflow.sandbox.middleware import SandboxMiddleware
from craflow.sandbox.state import SandboxState

_HTTP_CODES = {
    401: "AUTHENTICATION_REQUIRED",
    403: "INSUFFICIENT_SCOPE",
    404: "RESOURCE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
}


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "unknown"))


def _problem(
    request: Request, status: int, code: str, detail: str, extra: dict[str, object] | None = None
) -> JSONResponse:
    rid = _request_id(request)
    return JSONResponse(problem_body(status, code, detail, rid, extra), status_code=status)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _problem(request, exc.status_code, exc.code, str(exc.detail), exc.extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(
        exc.status_code, "VALIDATION_ERROR" if exc.status_code < 500 else "INTERNAL_ERROR"
    )
    return _problem(request, exc.status_code, code, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "form"))
    return _problem(request, 422, "VALIDATION_ERROR", f"{where or 'request'}: {first['msg']}")


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    response = _problem(request, 500, "INTERNAL_ERROR", "Internal server error")
    for name, value in getattr(request.state, "response_headers", []):
        response.headers[name.decode()] = value.decode()
    return response


def create_app(state: SandboxState) -> FastAPI:
    app = FastAPI(
        title="CRA Evidence sandbox",
        version=__version__,
        description=(
            "A local, independent implementation of the CRA Evidence API for development, "
            "demos and tests. Everything under /api/v1 follows the API contract; the "
            "'sandbox control' endpoints under /_sandbox exist only here."
        ),
    )
    app.state.sandbox = state
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(SandboxMiddleware, state=state)

    @app.get("/health", tags=["sandbox control"])
    def health() -> dict[str, str]:
        """200 once the server answers; `vulndb` says whether the OSV data has loaded."""
        return {"status": "ok", "vulndb": "ready" if state.vulndb.ready else "loading"}

    for module in (
        routes_auth,
        routes_products,
        routes_sboms,
        routes_vulns,
        routes_exports,
        routes_ci,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(control.router, prefix="/_sandbox", tags=["sandbox control"])
    return app
